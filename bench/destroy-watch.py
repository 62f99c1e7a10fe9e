#!/usr/bin/python3
"""destroy-watch.py BASE NAME URI: how long an outside `virsh destroy` takes
to show in virtmcd's status (bench/run.sh).

A thread polls BASE/service/NAME/state_controller/status as fast as one
kept-alive connection allows; then `virsh -c URI destroy NAME` runs.  Prints
one line of key=value pairs, times in milliseconds:

  virsh_ms     how long the virsh command took (its own connection included;
               libvirt has the domain shut off when it returns)
  first        the first answer other than running (often "in shutdown"),
               after virsh was started
  shut_off     "shut off" in status, after virsh was started
  after_return "shut off" in status after virsh returned (0 when it was seen
               before virsh had even returned): the delay the issue bounds
  polls        status requests made while waiting

Exit status 1 when "shut off" was not seen within 10 s."""
import http.client
import subprocess
import sys
import threading
import time
import urllib.parse


def main():
    base, name, uri = sys.argv[1:4]
    u = urllib.parse.urlsplit(base)
    path = "/service/%s/state_controller/status" % urllib.parse.quote(name)
    seen = {}
    go = threading.Event()
    polls = [0]

    def poll():
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
        go.set()
        while True:
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read()
            polls[0] += 1
            now = time.monotonic()
            if b'"running"' not in body and "t" not in seen:
                seen["t"] = now
                seen["state"] = body.decode(errors="replace").strip()
            if b'"shut off"' in body:
                seen["off"] = now
                return
            if now - start_box[0] > 10 and start_box[0] > 0:
                return

    start_box = [0.0]
    t = threading.Thread(target=poll, daemon=True)
    t.start()
    go.wait()
    # The poller runs: its first answers must say running.
    deadline = time.monotonic() + 5
    while polls[0] < 3 and "t" not in seen and time.monotonic() < deadline:
        time.sleep(0.001)
    if "t" in seen or polls[0] < 3:
        print("state=%s before the destroy" % seen.get("state"))
        return 1
    polls[0] = 0
    start_box[0] = time.monotonic()
    subprocess.run(["virsh", "-q", "-c", uri, "destroy", name], check=True,
                   stdout=subprocess.DEVNULL)
    returned = time.monotonic()
    t.join(10)
    if "off" not in seen:
        print("virsh_ms=%.1f shut off not seen within 10 s (first %s)" % (
            (returned - start_box[0]) * 1000, seen.get("state")))
        return 1
    print("virsh_ms=%.1f first=%.1f shut_off=%.1f after_return=%.1f polls=%d" % (
        (returned - start_box[0]) * 1000, (seen["t"] - start_box[0]) * 1000,
        (seen["off"] - start_box[0]) * 1000, max(0.0, (seen["off"] - returned) * 1000),
        polls[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
