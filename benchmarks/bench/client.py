"""HTTP on the standard library alone (the benchmark's venv has no requests), so that an upload
streams from disk without the body ever being held in memory."""
from __future__ import annotations

import http.client
import os
import re
import time

from distributions import Dist

from .common import HOST, MiB


def request(port: int, method: str, path: str, headers: dict | None = None, body=None, timeout: float = 30.0):
    """(status, headers with lower-case names, body) of one request on a connection of its own."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def upload_fields(dist: Dist, name: str, version: str) -> list[tuple[str, str]]:
    """The form twine sends with a file, digests included."""
    digests = dist.hexdigests()
    return [
        (":action", "file_upload"), ("protocol_version", "1"), ("metadata_version", "2.1"),
        ("name", name), ("version", version), ("filetype", dist.filetype),
        ("pyversion", "py3" if dist.filetype == "bdist_wheel" else "source"), ("requires_python", ">=3.8"),
        ("md5_digest", digests["md5"]), ("sha256_digest", digests["sha256"]),
        ("blake2_256_digest", digests["blake2_256"]),
    ]


def multipart_upload(port: int, path: str, fields: list[tuple[str, str]], dist: Dist, auth: str | None,
                     timeout: float = 300.0):
    """POSTs a twine-shaped multipart form; a Dist on disk is streamed from it in 1 MiB chunks.
    Returns (status, body, seconds from the first byte sent to the whole response read)."""
    boundary = "wheelhouse-bench-" + os.urandom(12).hex()
    pre = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields
    ) + (f'--{boundary}\r\nContent-Disposition: form-data; name="content"; filename="{dist.filename}"\r\n'
         f"Content-Type: application/octet-stream\r\n\r\n").encode()
    post = f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.putrequest("POST", path, skip_accept_encoding=True)
        conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("Content-Length", str(len(pre) + dist.size + len(post)))
        if auth:
            conn.putheader("Authorization", auth)
        conn.endheaders()
        start = time.monotonic()
        try:
            conn.send(pre)
            with dist.open() as f:
                while chunk := f.read(MiB):
                    conn.send(chunk)
            conn.send(post)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early (a refusal); read it below
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, body, time.monotonic() - start
    finally:
        conn.close()


def links(page: bytes) -> list[str]:
    """The hrefs of an HTML simple page's anchors."""
    return re.findall(r'<a [^>]*href="([^"]+)"', page.decode())
