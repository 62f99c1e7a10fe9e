#!/usr/bin/python3
"""digest-client.py: a small HTTP Digest client (RFC 7616) for the e2e tests.

It sends the request without credentials, reads the 401 challenge, answers
it with MD5 or SHA-256 (qop=auth), and prints the final answer:

    line 1      the status code
    next lines  the response headers, "Name: value"
    empty line
    the body

Every exchange is also traced on stderr as "status N" (one line each), so a
test can see the intermediate answers (for example the first, accepted use
of a nonce before its replay).

Usage: digest-client.py [options] URL USER PASSWORD

  -X METHOD           request method (default GET)
  -d BODY             request body (sent with -H content type)
  -H TYPE             Content-Type of the body (default application/json)
  --replay            after an answer to the challenge, send exactly the
                      same Authorization header again (same nonce, same nc);
                      the printed answer is the replay's
  --wait SECONDS      wait this long between the challenge and the answer
                      (to let the nonce expire)
  --algorithm ALG     answer with MD5 or SHA-256 whatever the challenge says
  --nc N              nonce count of the (first) answer (default 1)

Exits 0 when it could talk to the server (whatever the status), 2 on a usage
error, 3 when the first answer is not a 401 with a Digest challenge.
Standard library only.
"""

import argparse
import hashlib
import http.client
import os
import ssl
import sys
import time
import urllib.parse


def parse_challenge(value):
    """Parse 'Digest k=v, k="v", ...' into a dict with lower-case keys,
    or None when the header is not a Digest challenge."""
    value = value.strip()
    if not value[:7].lower() == "digest ":
        return None
    s = value[7:]
    params = {}
    i, n = 0, len(s)
    while i < n:
        while i < n and s[i] in " \t,":
            i += 1
        if i >= n:
            break
        eq = s.find("=", i)
        if eq < 0:
            break
        key = s[i:eq].strip().lower()
        i = eq + 1
        while i < n and s[i] in " \t":
            i += 1
        if i < n and s[i] == '"':
            i += 1
            val = []
            while i < n and s[i] != '"':
                if s[i] == "\\" and i + 1 < n:
                    i += 1
                val.append(s[i])
                i += 1
            i += 1  # closing quote
            params[key] = "".join(val)
        else:
            j = i
            while j < n and s[j] != ",":
                j += 1
            params[key] = s[i:j].strip()
            i = j
    return params


def hash_for(alg):
    a = alg.upper()
    if a in ("MD5", "MD5-SESS"):
        return lambda x: hashlib.md5(x.encode("utf-8")).hexdigest()
    if a in ("SHA-256", "SHA-256-SESS", "SHA256"):
        return lambda x: hashlib.sha256(x.encode("utf-8")).hexdigest()
    raise ValueError("unsupported algorithm %r" % alg)


def canonical_alg(alg):
    a = alg.upper()
    if a in ("SHA256", "SHA-256"):
        return "SHA-256"
    if a == "MD5":
        return "MD5"
    return alg


def authorization(ch, method, uri, user, password, alg, nc, cnonce):
    h = hash_for(alg)
    realm = ch.get("realm", "")
    nonce = ch.get("nonce", "")
    ha1 = h("%s:%s:%s" % (user, realm, password))
    if alg.upper().endswith("-SESS"):
        ha1 = h("%s:%s:%s" % (ha1, nonce, cnonce))
    ha2 = h("%s:%s" % (method, uri))
    qops = [q.strip().lower() for q in ch.get("qop", "").split(",") if q.strip()]
    ncs = "%08x" % nc
    fields = [
        'username="%s"' % user,
        'realm="%s"' % realm,
        'nonce="%s"' % nonce,
        'uri="%s"' % uri,
        "algorithm=%s" % alg,
    ]
    if "auth" in qops or not qops and ch.get("qop") is not None:
        resp = h("%s:%s:%s:%s:%s:%s" % (ha1, nonce, ncs, cnonce, "auth", ha2))
        fields += ['response="%s"' % resp, "qop=auth", "nc=%s" % ncs, 'cnonce="%s"' % cnonce]
    elif qops:
        raise ValueError("the server offers no qop=auth: %r" % ch.get("qop"))
    else:
        resp = h("%s:%s:%s" % (ha1, nonce, ha2))
        fields.append('response="%s"' % resp)
    if "opaque" in ch:
        fields.append('opaque="%s"' % ch["opaque"])
    return "Digest " + ", ".join(fields)


class Client:
    def __init__(self, url, timeout=30):
        u = urllib.parse.urlsplit(url)
        self.https = u.scheme == "https"
        self.host = u.hostname
        self.port = u.port or (443 if self.https else 80)
        self.uri = u.path or "/"
        if u.query:
            self.uri += "?" + u.query
        self.timeout = timeout

    def request(self, method, headers, body):
        if self.https:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                               context=ctx)
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            # skip_host etc. are not needed; the path is sent as given.
            conn.request(method, self.uri, body=body, headers=headers)
            r = conn.getresponse()
            data = r.read()
            hdrs = r.getheaders()
            status = r.status
        finally:
            conn.close()
        print("status %d" % status, file=sys.stderr)
        return status, hdrs, data


def digest_challenge(hdrs):
    for k, v in hdrs:
        if k.lower() == "www-authenticate":
            ch = parse_challenge(v)
            if ch is not None:
                return ch
    return None


def main():
    p = argparse.ArgumentParser(description="HTTP Digest client for the e2e tests")
    p.add_argument("-X", dest="method", default="GET")
    p.add_argument("-d", dest="data", default=None)
    p.add_argument("-H", dest="ctype", default="application/json")
    p.add_argument("--replay", action="store_true")
    p.add_argument("--wait", type=float, default=0)
    p.add_argument("--algorithm", default=None)
    p.add_argument("--nc", type=int, default=1)
    p.add_argument("url")
    p.add_argument("user")
    p.add_argument("password")
    a = p.parse_args()

    c = Client(a.url)
    body = a.data.encode("utf-8") if a.data is not None else None
    base = {}
    if body is not None:
        base["Content-Type"] = a.ctype

    status, hdrs, data = c.request(a.method, dict(base), body)
    ch = digest_challenge(hdrs)
    if status != 401 or ch is None:
        print("digest-client: expected a 401 with a Digest challenge, got %d" % status,
              file=sys.stderr)
        emit(status, hdrs, data)
        return 3
    alg = canonical_alg(a.algorithm or ch.get("algorithm", "MD5"))
    if a.wait:
        time.sleep(a.wait)
    cnonce = os.urandom(8).hex()
    authz = authorization(ch, a.method, c.uri, a.user, a.password, alg, a.nc, cnonce)
    h = dict(base)
    h["Authorization"] = authz
    status, hdrs, data = c.request(a.method, h, body)
    if a.replay:
        status, hdrs, data = c.request(a.method, dict(h), body)
    emit(status, hdrs, data)
    return 0


def emit(status, hdrs, data):
    out = sys.stdout
    out.write("%d\n" % status)
    for k, v in hdrs:
        out.write("%s: %s\n" % (k, v))
    out.write("\n")
    out.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, http.client.HTTPException, ValueError) as e:
        print("digest-client: %s" % e, file=sys.stderr)
        sys.exit(1)
