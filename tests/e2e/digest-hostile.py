#!/usr/bin/python3
"""digest-hostile.py: HTTP Digest the way an attacker or a crowd uses it,
for tests/e2e/test-auth.sh.  Builds on digest-client.py (same directory).

Usage: digest-hostile.py SCENARIO BASE-URL USER PASSWORD [ARGS]

Scenarios (each prints one line per check, "ok NAME" or "FAIL NAME: why",
and exits 1 when any check failed):

  replay     a captured header replayed after nc=00000000, a repeated or
             lower nonce count, and growing counts accepted
  params     the Authorization header's syntax: escapes, unknown and
             duplicate parameters, uri, realm, qop, algorithm
  forged     forged nonces: stale=true, the same answer for a known and an
             unknown user; fresh nonces are unique per challenge
  parallel N ROUNDS FLOOD
             N clients, each ROUNDS logins (challenge, then answer) at once,
             while FLOOD threads send unauthenticated requests on kept-alive
             connections; every login must succeed

Standard library only; plain HTTP only.
"""

import http.client
import importlib.util
import os
import re
import socket
import sys
import threading
import time
import urllib.parse

_spec = importlib.util.spec_from_file_location(
    "digest_client", os.path.join(os.path.dirname(os.path.abspath(__file__)), "digest-client.py"))
dc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dc)

FAILED = []


def check(name, cond, why=""):
    if cond:
        print("ok %s" % name)
    else:
        print("FAIL %s: %s" % (name, why))
        FAILED.append(name)


class Conn:
    """One kept-alive connection."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.c = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def req(self, method, uri, authz=None, extra=None):
        h = {}
        if authz:
            h["Authorization"] = authz
        if extra:
            h.update(extra)
        self.c.request(method, uri, headers=h)
        r = self.c.getresponse()
        body = r.read()
        if r.getheader("Connection", "").lower() == "close":
            self.c.close()
        return r.status, r.getheaders(), body

    def close(self):
        self.c.close()


def challenge(conn, uri="/service/machines"):
    st, hdrs, _ = conn.req("GET", uri)
    ch = dc.digest_challenge(hdrs)
    return st, ch


def answer(ch, user, pw, uri, nc, cnonce="0a4f113b", method="GET", alg=None):
    alg = alg or dc.canonical_alg(ch.get("algorithm", "MD5"))
    return dc.authorization(ch, method, uri, user, pw, alg, nc, cnonce)


def replace_param(authz, name, value):
    return re.sub(r'(?<=[ ,])%s=("[^"]*"|[^,]*)' % name, "%s=%s" % (name, value), authz)


def scenario_replay(base, user, pw):
    uri = "/service/machines"
    c = Conn(base)
    st, ch = challenge(c, uri)
    check("the first request is challenged", st == 401 and ch is not None, "status %d" % st)
    good = answer(ch, user, pw, uri, 1)
    st, _, _ = c.req("GET", uri, good)
    check("the captured request is accepted once", st == 200, "status %d" % st)
    zero = replace_param(replace_param(good, "nc", "00000000"), "response", '"%s"' % ("0" * 32))
    st, _, _ = c.req("GET", uri, zero)
    check("nc=00000000 with any response is refused", st == 401, "status %d" % st)
    zero_good = answer(ch, user, pw, uri, 0)
    st, _, _ = c.req("GET", uri, zero_good)
    check("nc=00000000 with a right response is refused", st == 401, "status %d" % st)
    st, _, _ = c.req("GET", uri, good)
    check("the captured request replayed after nc=0 is refused", st == 401, "status %d" % st)

    c2 = Conn(base)
    st, ch = challenge(c2, uri)
    steps = [(1, 200), (2, 200), (2, 401), (3, 200), (1, 401), (7, 200), (5, 401)]
    for nc, want in steps:
        st, _, _ = c2.req("GET", uri, answer(ch, user, pw, uri, nc, cnonce="c%d" % nc))
        check("nonce count %d after the ones before: %d" % (nc, want), st == want, "status %d" % st)
    c.close()
    c2.close()


def scenario_params(base, user, pw):
    uri = "/service/machines"
    c = Conn(base)

    def fresh():
        st, ch = challenge(c, uri)
        return ch

    ch = fresh()
    a = answer(ch, user, pw, uri, 1)
    esc = a.replace('username="%s"' % user, 'username="%s\\%s"' % (user[0], user[1:]))
    st, _, _ = c.req("GET", uri, esc)
    check("a backslash escape in a quoted user name is undone", st == 200, "status %d" % st)

    ch = fresh()
    a = answer(ch, user, pw, uri, 1) + ', foo="a, \\"b\\"", bar=baz'
    st, _, _ = c.req("GET", uri, a)
    check("unknown parameters (with commas and escapes) are ignored", st == 200, "status %d" % st)

    ch = fresh()
    a = answer(ch, user, pw, uri, 1)
    st, _, _ = c.req("GET", uri, a + ', username="%s"' % user)
    check("a parameter given twice is refused", st == 401, "status %d" % st)
    st, _, _ = c.req("GET", uri, a + ', NC=00000002')
    check("a parameter given twice in another case is refused", st == 401, "status %d" % st)

    ch = fresh()
    a = answer(ch, user, pw, "/service/health", 1)
    st, _, _ = c.req("GET", uri, a)
    check("an answer for another uri is refused", st == 401, "status %d" % st)

    ch = fresh()
    a = answer(ch, user, pw, uri + "?state=running", 1)
    st, _, _ = c.req("GET", uri + "?state=running", a)
    check("a uri with a query is accepted", st == 200, "status %d" % st)
    ch = fresh()
    a = answer(ch, user, pw, uri, 1)
    st, _, _ = c.req("GET", uri + "?state=running", a)
    check("an answer without the request's query is refused", st == 401, "status %d" % st)

    ch = fresh()
    other = dict(ch, realm="other")
    a = answer(other, user, pw, uri, 1)
    st, _, _ = c.req("GET", uri, a)
    check("an answer for another realm is refused", st == 401, "status %d" % st)

    ch = fresh()
    noqop = dict(ch)
    del noqop["qop"]
    a = answer(noqop, user, pw, uri, 1)
    st, _, _ = c.req("GET", uri, a)
    check("an answer without qop (RFC 2069) is refused", st == 401, "status %d" % st)

    ch = fresh()
    a = answer(ch, user, pw, uri, 1)
    st, _, _ = c.req("GET", uri, replace_param(a, "algorithm", "MD5-sess"))
    check("algorithm=MD5-sess is refused", st == 401, "status %d" % st)
    st, _, _ = c.req("GET", uri, replace_param(a, "opaque", '"00"'))
    check("a changed opaque is refused", st == 401, "status %d" % st)
    st, _, _ = c.req("GET", uri, 'Digest username="%s", nonce="unterminated' % user)
    check("an unterminated quoted string is refused", st == 401, "status %d" % st)
    st, _, _ = c.req("GET", uri, a)
    check("the same nonce still works after malformed tries", st == 200, "status %d" % st)
    c.close()


def scenario_forged(base, user, pw):
    uri = "/service/machines"
    c = Conn(base)
    st, ch = challenge(c, uri)
    nonces = set()
    for _ in range(50):
        _, ch2 = challenge(c, uri)
        nonces.add(ch2["nonce"])
    check("50 challenges carry 50 different nonces", len(nonces) == 50, "%d" % len(nonces))

    answers = {}
    for who, p in ((user, pw), (user, "wrong-password"), ("nobody-here", "wrong-password")):
        forged = dict(ch, nonce=os.urandom(40).hex())
        st, hdrs, body = c.req("GET", uri, answer(forged, who, p, uri, 1))
        stale = bool(re.search(r'stale="?true', ",".join(v for k, v in hdrs
                                                          if k.lower() == "www-authenticate")))
        answers[(who, p)] = (st, stale, body)
        check("a forged nonce for %s: 401 stale=true" % who, st == 401 and stale,
              "status %d stale %s" % (st, stale))
    vals = list(answers.values())
    check("a forged nonce gets the same answer for known and unknown users",
          vals[0] == vals[1] == vals[2], repr(vals))

    for who in (user, "nobody-here"):
        _, ch = challenge(c, uri)
        st, hdrs, body = c.req("GET", uri, answer(ch, who, "wrong-password", uri, 1))
        answers[who] = (st, body, sorted(k for k, v in hdrs if k.lower() != "date"))
    check("a wrong password gets the same answer for known and unknown users",
          answers[user] == answers["nobody-here"] and answers[user][0] == 401,
          "%r / %r" % (answers[user], answers["nobody-here"]))
    c.close()


def scenario_parallel(base, user, pw, n, rounds, flood):
    uri = "/service/machines"
    ok = [0] * n
    bad = []
    stop = threading.Event()
    flooded = [0] * flood

    def client(i):
        c = Conn(base)
        try:
            for r in range(rounds):
                st, ch = challenge(c, uri)
                if st != 401 or not ch:
                    bad.append("client %d: challenge %d" % (i, st))
                    continue
                st, _, _ = c.req("GET", uri, answer(ch, user, pw, uri, 1, cnonce="%d-%d" % (i, r)))
                if st == 200:
                    ok[i] += 1
                else:
                    bad.append("client %d round %d: %d" % (i, r, st))
        except (OSError, http.client.HTTPException) as e:
            bad.append("client %d: %s" % (i, e))
        finally:
            c.close()

    def flooder(i):
        u = urllib.parse.urlsplit(base)
        while not stop.is_set():
            try:
                s = socket.create_connection((u.hostname, u.port), timeout=10)
                f = s.makefile("rb")
                for _ in range(200):
                    s.sendall(b"GET /service/machines HTTP/1.1\r\nHost: %s:%d\r\n\r\n"
                              % (u.hostname.encode(), u.port))
                    line = f.readline()
                    length = 0
                    while True:
                        h = f.readline()
                        if h in (b"\r\n", b""):
                            break
                        if h.lower().startswith(b"content-length:"):
                            length = int(h.split(b":")[1])
                    f.read(length)
                    if line.startswith(b"HTTP/1.1 401"):
                        flooded[i] += 1
                    if stop.is_set():
                        break
                s.close()
            except OSError:
                pass

    floods = [threading.Thread(target=flooder, args=(i,)) for i in range(flood)]
    for t in floods:
        t.start()
    # Let the flood get going before the clients start (bounded).
    for _ in range(1000):
        if not flood or sum(flooded) >= 500:
            break
        time.sleep(0.01)
    at_start = sum(flooded)
    clients = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in clients:
        t.start()
    for t in clients:
        t.join()
    during = sum(flooded) - at_start
    # Thousands of challenges in all, the clients' among them (bounded).
    for _ in range(2000):
        if not flood or sum(flooded) >= 2000:
            break
        time.sleep(0.01)
    stop.set()
    for t in floods:
        t.join()
    check("%d parallel clients x %d logins all succeed (%d unauthenticated requests meanwhile)"
          % (n, rounds, during), sum(ok) == n * rounds and not bad,
          "%d of %d; %s" % (sum(ok), n * rounds, "; ".join(bad[:5])))
    if flood:
        check("the flood ran while the clients logged in (%d requests in all)" % sum(flooded),
              during > 0 and sum(flooded) >= 2000, "%d during, %d in all" % (during, sum(flooded)))


def main():
    scen, base, user, pw = sys.argv[1:5]
    if scen == "replay":
        scenario_replay(base, user, pw)
    elif scen == "params":
        scenario_params(base, user, pw)
    elif scen == "forged":
        scenario_forged(base, user, pw)
    elif scen == "parallel":
        scenario_parallel(base, user, pw, int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]))
    else:
        print("unknown scenario %s" % scen)
        return 2
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
