#!/usr/bin/python3
"""rpc-proxy.py LISTEN UPSTREAM [MS]: a Unix-socket proxy in front of
libvirtd, for tests that need a libvirt host to be slow, to hang or to go
away while libvirtd itself runs on (test+unix:///node.xml?socket=LISTEN).

- MS (default 0): every reply to virDomainGetXMLDesc is held that many
  milliseconds (test-qemu-fill: a host's definitions take long to read).
- SIGUSR1 freezes it: nothing more is forwarded either way, so every call
  hangs until the client's keepalive gives up (test-qemu-inventory).
- SIGTERM ends it: the connections close (the host goes away).

libvirt's RPC: packets of a 4-byte big-endian length (itself included), then
program, version, procedure, type, serial, status (4 bytes each).  Replies
are forwarded in order; a held one holds those behind it on its connection.
Prints "ready" once it listens."""
import os
import signal
import socket
import struct
import sys
import threading
import time

REMOTE_PROGRAM = 0x20008086
PROC_DOMAIN_GET_XML_DESC = 14
TYPE_REPLY = 1

frozen = threading.Event()


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def send(dst, data):
    while frozen.is_set():
        time.sleep(0.05)
    dst.sendall(data)


def shut_both(a, b):
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def pipe_raw(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            send(dst, data)
    except OSError:
        pass
    shut_both(src, dst)


def pipe_replies(src, dst, delay):
    try:
        while True:
            head = recv_exact(src, 4)
            if head is None:
                break
            (length,) = struct.unpack(">I", head)
            rest = recv_exact(src, length - 4)
            if rest is None:
                break
            if delay and len(rest) >= 16:
                prog, _vers, proc, typ = struct.unpack(">IIII", rest[:16])
                if prog == REMOTE_PROGRAM and proc == PROC_DOMAIN_GET_XML_DESC and typ == TYPE_REPLY:
                    time.sleep(delay)
            send(dst, head + rest)
    except OSError:
        pass
    shut_both(src, dst)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: rpc-proxy.py LISTEN UPSTREAM [MS]")
    listen, upstream = sys.argv[1], sys.argv[2]
    delay = int(sys.argv[3]) / 1000.0 if len(sys.argv) == 4 else 0
    signal.signal(signal.SIGUSR1, lambda *_: frozen.set())
    if os.path.exists(listen):
        os.unlink(listen)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(listen)
    srv.listen(16)
    print("ready", flush=True)
    while True:
        client, _ = srv.accept()
        up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            up.connect(upstream)
        except OSError:
            client.close()
            continue
        threading.Thread(target=pipe_raw, args=(client, up), daemon=True).start()
        threading.Thread(target=pipe_replies, args=(up, client, delay), daemon=True).start()


if __name__ == "__main__":
    main()
