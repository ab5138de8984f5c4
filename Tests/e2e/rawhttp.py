"""Raw HTTP/1.1 over sockets, for the tests that must control the wire byte by byte.

An HTTP library finishes, retries, re-frames or times out requests on its own, and so hides what
the server really did: whether it answered before the body was read, closed after an answer, cut
a connection at a deadline, or kept a pipelined answer in order. These helpers build the bytes
(a head, chunks, a chunked body), send them, and read back exactly what came: one answer, several
pipelined ones, whether the server closed afterwards, or nothing at all until a close.

Nothing here knows Wheelhouse; whlib.py has the server (its log and its spool directory)."""
from __future__ import annotations

import base64
import json
import select
import socket
import struct
import threading
import time
from types import SimpleNamespace

HOST = "127.0.0.1"


# ---------------------------------------------------------------- building requests

def connect(port: int, rcvbuf: int | None = None, timeout: float = 10) -> socket.socket:
    """A raw TCP connection with Nagle off (each sendall goes out as written); `rcvbuf` fixes the
    receive buffer before connecting, so the window the server may fill is that small and does
    not grow with the kernel's autotuning."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(timeout)
    s.connect((HOST, port))
    return s


def head(method: str, path: str, headers: dict, host: str = "wheelhouse.test") -> bytes:
    """A request head, headers in the order given. `host` is the Host header: pass the address a
    client would use where the answer holds absolute links made from it."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body (the last one is b"0\\r\\n\\r\\n")."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def chunked(body: bytes, size: int = 65536) -> bytes:
    """`body` chunk-encoded, with its last chunk."""
    return b"".join(chunk(body[i:i + size]) for i in range(0, len(body), size)) + b"0\r\n\r\n"


def basic(user: str, secret: str) -> str:
    """An Authorization header's value for HTTP Basic (a token goes as user `__token__`)."""
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def reset(sock: socket.socket) -> None:
    """Closes `sock` with a TCP reset (RST) instead of a FIN, as a killed client or a proxy giving
    up does: SO_LINGER on with a zero timeout drops what is unsent and resets the connection, so
    the server's next read fails with "connection reset by peer"."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


# ---------------------------------------------------------------- reading answers

class Response(SimpleNamespace):
    """status (int), headers (lower-case names), body (bytes), closed (the server closed the
    connection after it; only looked at when the reader was asked to wait for a close)."""

    def json_message(self) -> str:
        """The `message` (or `error`) of a JSON error body; "" for anything else."""
        try:
            obj = json.loads(self.body)
        except ValueError:
            return ""
        if not isinstance(obj, dict):
            return ""
        return str(obj.get("message") or obj.get("error") or "")

    def __str__(self):
        return f"{self.status} {self.headers} {self.body[:500]!r}"


def parse_head(raw: bytes) -> tuple[int, dict]:
    """The status and headers (names lower-cased) of a response head, without its blank line."""
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    assert parts[0] == "HTTP/1.1" and parts[1].isdigit(), f"not a status line: {lines[0]!r}"
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(parts[1]), headers


class _Receiver:
    """What a socket has received and not yet taken, against one deadline: a whole answer only
    counts once all its bytes are in, and what comes after it stays for the next (pipelining)."""

    def __init__(self, sock: socket.socket, timeout: float):
        self.sock, self.timeout = sock, timeout
        self.until = time.monotonic() + timeout
        self.buf = b""

    def more(self) -> bool:
        """Receive more; False when the server closed (b'' or a reset). Past the deadline, an
        AssertionError."""
        left = self.until - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no whole answer within {self.timeout}s (got {self.buf[:300]!r})")
        self.sock.settimeout(left)
        try:
            got = self.sock.recv(1 << 20)
        except socket.timeout:
            raise AssertionError(f"no whole answer within {self.timeout}s (got {self.buf[:300]!r})") from None
        except ConnectionResetError:
            got = b""
        self.buf += got
        return bool(got)

    def until_has(self, enough) -> None:
        while not enough():
            assert self.more(), f"connection closed before the answer was whole (got {self.buf[:300]!r})"

    def take(self, n: int) -> bytes:
        self.until_has(lambda: len(self.buf) >= n)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def take_line(self) -> bytes:
        self.until_has(lambda: b"\r\n" in self.buf)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def response(self) -> Response:
        """The next whole answer: by Content-Length, chunked, or else what has come so far."""
        self.until_has(lambda: b"\r\n\r\n" in self.buf)
        raw_head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status, headers = parse_head(raw_head)
        if "content-length" in headers:
            body = self.take(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            body = b""
            while size := int(self.take_line().split(b";")[0], 16):
                body += self.take(size + 2)[:size]
            self.take(2)
        else:
            body, self.buf = self.buf, b""
        return Response(status=status, headers=headers, body=body, closed=False)

    def closes_within(self, seconds: float) -> bool:
        """Whether the server closes the connection within `seconds` (bytes may come first)."""
        self.until = time.monotonic() + seconds
        try:
            while seconds:
                if not self.more():
                    return True
        except AssertionError:
            pass
        return False


def read_response(sock: socket.socket, timeout: float = 10, close_within: float = 0) -> Response:
    """One whole answer within `timeout`; with `close_within`, also whether the server then
    closes the connection within that many seconds. Otherwise the connection stays as it is."""
    rx = _Receiver(sock, timeout)
    r = rx.response()
    r.closed = rx.closes_within(close_within)
    return r


def read_responses(sock: socket.socket, count: int, timeout: float = 10,
                   close_within: float = 0) -> list[Response]:
    """`count` answers to pipelined requests, in the order they came, all within `timeout`; with
    `close_within`, also whether the server then closes the connection within that many seconds
    (the last answer's `closed`; its `after` holds any bytes that came after it meanwhile)."""
    rx = _Receiver(sock, timeout)
    out = [rx.response() for _ in range(count)]
    if close_within:
        out[-1].closed = rx.closes_within(close_within)
        out[-1].after = rx.buf
    return out


def exchange(port: int, request: bytes, timeout: float = 10, close_within: float = 0) -> Response:
    """Sends `request` on a connection of its own (from a thread, so an answer that comes before
    the server read it all is still seen, and a server that stops reading cannot block us) and
    reads one answer as read_response does; the connection is closed afterwards."""
    s = connect(port)

    def send():
        try:
            s.sendall(request)
        except OSError:
            pass  # the server answered and closed before reading everything: allowed

    threading.Thread(target=send, daemon=True).start()
    try:
        return read_response(s, timeout, close_within)
    finally:
        s.close()


# ---------------------------------------------------------------- waiting for a close

def read_until_closed(sock: socket.socket, until: float) -> tuple[float | None, bytes]:
    """Reads until the server closes (b'' or a reset) or monotonic time `until`: returns when it
    closed (None if it had not) and the bytes that came before."""
    data = b""
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return None, data
        sock.settimeout(left)
        try:
            got = sock.recv(1 << 20)
        except socket.timeout:
            return None, data
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic(), data
        if not got:
            return time.monotonic(), data
        data += got


def quiet_for(sock: socket.socket, seconds: float) -> bool:
    """True when nothing at all (no byte, no close) arrives on `sock` for `seconds`."""
    readable, _, _ = select.select([sock], [], [], seconds)
    return not readable


def trickle(sock: socket.socket, until: float, gap: float = 0.2) -> None:
    """Sends one byte every `gap` seconds (a slowloris client: no gap long enough for a per-read
    deadline) until the server writes or closes, the send fails, or monotonic time `until`."""
    while time.monotonic() < until:
        if not quiet_for(sock, gap):
            return
        try:
            sock.sendall(b"a")
        except (BrokenPipeError, ConnectionResetError):
            return
