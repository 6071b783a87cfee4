"""Helpers of the `s2s serve` tests (not a test itself): start and stop the
server, talk HTTP with http.client, drive headless Chromium over the
DevTools protocol with a minimal WebSocket client, read PNG pixels.
Standard library only; paths from harness.py."""
import base64
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import zlib

from harness import ROOT, S2S  # noqa: F401 (re-exported)

MODELS = os.path.join(ROOT, "models")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "models")


class Server:
    """`s2s serve ARGS --port 0`, started and stopped by the test; the port
    is read from the "listening on" line on standard error."""

    def __init__(self, *args, timeout=20, env=None):
        self.err_path = tempfile.mktemp(prefix="s2s-serve-", suffix=".log")
        self.err = open(self.err_path, "w+")
        self.proc = subprocess.Popen([S2S, "serve", "--port", "0", *args], stdout=subprocess.DEVNULL,
                                     stderr=self.err, env=env)
        self.port = None
        until = time.time() + timeout
        while time.time() < until and self.proc.poll() is None:
            m = re.search(r"listening on http://[^ ]*:(\d+)/", self.log())
            if m:
                self.port = int(m.group(1))
                return
            time.sleep(0.02)
        raise RuntimeError("s2s serve did not start: " + self.log())

    def log(self):
        with open(self.err_path) as f:
            return f.read()

    def conn(self, timeout=60):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, conn=None):
        """(status, headers dict, body bytes); `body` may be bytes, str or a
        JSON-able object."""
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        c = conn or self.conn()
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        if conn is None:
            c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def json(self, method, path, body=None, **kw):
        status, headers, data = self.request(method, path, body, **kw)
        return status, json.loads(data)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Sends `sig` and returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            raise RuntimeError("s2s serve did not stop within %ss" % timeout)
        finally:
            self.err.close()
        return rc

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.err.closed:
            self.err.close()
        if os.path.exists(self.err_path):
            os.unlink(self.err_path)


def run_s2s(*args, stdin=""):
    """(exit status, stdout, stderr) of the command."""
    p = subprocess.run([S2S, *args], input=stdin.encode(), capture_output=True)
    return p.returncode, p.stdout.decode(), p.stderr.decode()




# ---- a minimal WebSocket client (RFC 6455), enough for the DevTools protocol ----

class WebSocket:
    def __init__(self, url, timeout=30):
        m = re.match(r"ws://([^/:]+):(\d+)(/.*)", url)
        host, port, path = m.group(1), int(m.group(2)), m.group(3)
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("websocket handshake: connection closed")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise ConnectionError("websocket handshake refused: " + head.decode(errors="replace"))

    def send(self, text):
        data = text.encode()
        n = len(data)
        if n < 126:
            header = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("websocket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        """The next text message (fragments joined; control frames skipped)."""
        parts = []
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            payload = self._read(n)
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise ConnectionError("websocket closed by the browser")
            if opcode in (0x9, 0xA):
                continue
            parts.append(payload)
            if b0 & 0x80:
                return b"".join(parts).decode()

    def close(self):
        self.sock.close()


class Chromium:
    """Headless Debian Chromium with one page, driven over the DevTools
    protocol (flat sessions on the browser's WebSocket)."""

    def __init__(self, width=1400, height=1000):
        self.binary = shutil.which("chromium") or shutil.which("chromium-browser")
        if not self.binary:
            raise FileNotFoundError("chromium is not installed")
        self.profile = tempfile.mkdtemp(prefix="s2s-chromium-")
        self.proc = subprocess.Popen([
            self.binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--metrics-recording-only", "--mute-audio",
            f"--user-data-dir={self.profile}", "--remote-debugging-port=0", f"--window-size={width},{height}",
            "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = self._devtools_url(time.time() + 60)
        self.ws = WebSocket(url)
        self.next_id = 0
        self.events = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session=True)
        self.call("Runtime.enable", session=True)

    def _devtools_url(self, until):
        line = b""
        while time.time() < until:
            if self.proc.poll() is not None:
                raise RuntimeError("chromium exited: " + self.proc.stderr.read().decode(errors="replace")[-2000:])
            ready, _, _ = select.select([self.proc.stderr], [], [], 0.5)
            if not ready:
                continue
            c = os.read(self.proc.stderr.fileno(), 1)
            line += c
            if c == b"\n":
                m = re.search(rb"DevTools listening on (ws://\S+)", line)
                if m:
                    return m.group(1).decode()
                line = b""
        raise RuntimeError("chromium did not open its DevTools port")

    def call(self, method, session=False, timeout=30, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        until = time.time() + timeout
        while time.time() < until:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)
        raise TimeoutError(method)

    def wait_event(self, method, timeout=30, where=lambda p: True):
        until = time.time() + timeout
        while time.time() < until:
            for k, e in enumerate(self.events):
                if e.get("method") == method and where(e.get("params", {})):
                    return self.events.pop(k)["params"]
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(method)

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page (awaited)."""
        r = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True,
                      awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError("page script failed: " + json.dumps(r["exceptionDetails"])[:500])
        return r["result"].get("value")

    def wait_for(self, expression, timeout=20):
        """Polls until the expression is truthy; returns its value."""
        until = time.time() + timeout
        while time.time() < until:
            v = self.evaluate(expression)
            if v:
                return v
            time.sleep(0.1)
        raise TimeoutError("page never had: " + expression)

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            shutil.rmtree(self.profile, ignore_errors=True)


def png_pixels(data):
    """(width, height, rows of RGB(A) tuples) of an 8-bit RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack("!I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack("!IIBB", body[:10])
            assert depth == 8 and color in (2, 6), "only 8-bit RGB/RGBA PNGs"
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 0xFF
            elif f == 2:
                line[x] = (line[x] + b) & 0xFF
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append([tuple(line[x:x + bpp]) for x in range(0, stride, bpp)])
        prev = line
    return width, height, rows
