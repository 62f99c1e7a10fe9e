#!/usr/bin/python3
"""range-server.py PORT: serve the current directory on 127.0.0.1:PORT with
HTTP byte ranges, for the virtual media tests of the QEMU tier.  QEMU's curl
block driver reads an image with byte ranges (as nginx or Apache serve
them); Python's http.server has none, so this one adds them.  Requests are
logged to stderr ("GET /boot.iso ...")."""
import os
import re
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer


class H(SimpleHTTPRequestHandler):
    def send_head(self):
        m = re.match(r"bytes=(\d+)-(\d*)$", self.headers.get("Range", ""))
        path = self.translate_path(self.path)
        if not m or not os.path.isfile(path):
            return super().send_head()
        f = open(path, "rb")
        size = os.fstat(f.fileno()).st_size
        a = int(m.group(1))
        b = int(m.group(2) or size - 1)
        if a >= size:
            f.close()
            self.send_error(416)
            return None
        b = min(b, size - 1)
        f.seek(a)
        self.send_response(206)
        self.send_header("Content-Range", "bytes %d-%d/%d" % (a, b, size))
        self.send_header("Content-Length", str(b - a + 1))
        self.end_headers()
        self.range_left = b - a + 1
        return f

    def copyfile(self, src, dst):
        left = getattr(self, "range_left", None)
        if left is None:
            return super().copyfile(src, dst)
        while left > 0:
            buf = src.read(min(65536, left))
            if not buf:
                break
            dst.write(buf)
            left -= len(buf)

    def end_headers(self):
        self.send_header("Accept-Ranges", "bytes")
        super().end_headers()

    def log_message(self, fmt, *args):
        sys.stderr.write("%s\n" % (fmt % args))


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
