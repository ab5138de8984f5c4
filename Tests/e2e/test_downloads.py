"""Large files leave the server with sendfile (FileBody.Writer, NIO's FileRegion); small ones, and
ranges of up to 64 KiB, from memory. These tests hold both paths to the exact bytes: with the real
installers, with raw ranges on either side of the line, under concurrency, and when the connection
is to close right after the answer (Connection: close in any spelling, HTTP/1.0, a client's
half-close, a graceful shutdown), which must not cut the file short, nor an answer pipelined
behind it. A client going away mid-file must not leave a file
descriptor open in the server. The wheel is 24 MiB, more than loopback's socket buffers hold, so
the server is still sending when the answer, for Hummingbird, is over."""
from __future__ import annotations

import hashlib
import os
import signal
import socket
import threading
import time
import zipfile

import pytest
import requests

from distributions import wheel
from rawhttp import connect
from whlib import describe_response

IN_MEMORY = 64 * 1024  # FileBody.largestInMemory


@pytest.fixture
def big(make_server, tmp_path):
    """A fresh server with a public project holding wh-big 1.0, a 24 MiB wheel of random bytes."""
    wh = make_server(name="downloads")
    wh.user("alice")
    tok = wh.token("alice", "api")["token"]
    wh.group("dl", visibility="public")
    wh.member("alice", "owner", group="dl")
    p = wh.project("dl/big", visibility="public")
    d = wheel("wh-big", "1.0", payload=os.urandom(24 * 1024 * 1024), dest=tmp_path)
    r = wh.upload(p["id"], d.data, d.filename, name="wh-big", version="1.0", auth=("alice", tok))
    assert r.status_code == 201, describe_response(r)
    page = requests.get(f"{wh.project_url(p['id'])}/simple/wh-big/",
                        headers={"Accept": "application/vnd.pypi.simple.v1+json"}).json()
    url = page["files"][0]["url"].split("#")[0]
    return wh, p, d, url


def open_descriptors(wh) -> int:
    return len(os.listdir(f"/proc/{wh.proc.pid}/fd"))


def test_pip_and_uv_install_a_large_wheel_byte_for_byte(big, clients):
    wh, p, d, url = big
    index = f"{wh.project_url(p['id'])}/simple/"
    for install in (clients.pip_install, clients.uv_install):
        target = clients.target()
        r = install(index, "wh-big==1.0", target=target)
        assert r.returncode == 0, r.stdout + r.stderr
        with zipfile.ZipFile(d.path) as zf:
            expected = zf.read("wh_big/payload.bin")
        assert (target / "wh_big" / "payload.bin").read_bytes() == expected


def test_whole_file_and_ranges_either_side_of_the_in_memory_line(big):
    wh, p, d, url = big
    data = d.data
    size = len(data)
    whole = requests.get(url)
    assert whole.status_code == 200, describe_response(whole)
    assert whole.headers["Content-Length"] == str(size)
    assert hashlib.sha256(whole.content).hexdigest() == d.sha256
    assert not any(k.lower().startswith("wheelhouse-") for k in whole.headers)
    for first, last in [(0, 0), (0, IN_MEMORY - 1), (0, IN_MEMORY), (5, IN_MEMORY + 5),
                        (size - IN_MEMORY - 1, size - 1), (1000, size - 1), (size - 1, size - 1)]:
        r = requests.get(url, headers={"Range": f"bytes={first}-{last}"})
        assert r.status_code == 206, describe_response(r)
        assert r.headers["Content-Range"] == f"bytes {first}-{last}/{size}"
        assert r.content == data[first:last + 1], f"bytes={first}-{last}"
    suffix = requests.get(url, headers={"Range": f"bytes=-{IN_MEMORY * 2}"})
    assert suffix.status_code == 206 and suffix.content == data[-IN_MEMORY * 2:]
    head = requests.head(url)
    assert head.status_code == 200 and head.headers["Content-Length"] == str(size) and head.content == b""


def test_concurrent_downloads_are_each_exact(big):
    wh, p, d, url = big
    results: list[str] = []
    errors: list[BaseException] = []

    def fetch():
        try:
            with requests.Session() as s:
                for _ in range(3):
                    results.append(hashlib.sha256(s.get(url).content).hexdigest())
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert results == [d.sha256] * 24


def slow_socket(wh) -> socket.socket:
    """A connection whose receive buffer is small, so the server's sendfile has to wait for it."""
    return connect(wh.port, rcvbuf=16 * 1024, timeout=30)


def read_to_end(s: socket.socket, first_pause: float = 0.0, after_head=None) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = bytearray()
    try:
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            assert chunk, f"connection closed inside the head: {bytes(data)!r}"
            data += chunk
        if after_head:
            after_head()
        time.sleep(first_pause)  # let the server fill every buffer and wait on this client
        while chunk := s.recv(1 << 20):
            data += chunk
    except socket.timeout:
        pytest.fail(f"the server did not close the connection ({len(data)} bytes received)")
    return bytes(data)


def split_answers(data: bytes) -> list[tuple[bytes, dict[str, str], bytes]]:
    """The answers in a stream of Content-Length-framed responses: status line, headers, body."""
    answers = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, f"an incomplete head at the end: {data[:200]!r}"
        status, *lines = head.split(b"\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (ln.decode().split(":", 1) for ln in lines)}
        length = int(headers["content-length"])
        answers.append((status, headers, rest[:length]))
        data = rest[length:]
    return answers


def read_answer(s: socket.socket, first_pause: float = 0.0, after_head=None) -> tuple[bytes, dict[str, str], bytes]:
    """The one answer on a connection the server closes after it."""
    answers = split_answers(read_to_end(s, first_pause, after_head))
    assert len(answers) == 1, [a[0] for a in answers]
    return answers[0]


def file_path(wh, url) -> str:
    return url.split(f":{wh.port}", 1)[1]


@pytest.mark.parametrize("ending", ["connection-close", "connection-Close-TE", "http-1.0", "half-close"])
def test_the_whole_file_arrives_when_the_connection_closes_after_it(big, ending):
    wh, p, d, url = big
    request = {
        "connection-close": "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        # Any spelling of the close token counts, not only Hummingbird's exact "close".
        "connection-Close-TE": "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Close, TE\r\nTE: trailers\r\n\r\n",
        "http-1.0": "GET {} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
        "half-close": "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    }[ending].format(file_path(wh, url))
    with slow_socket(wh) as s:
        s.sendall(request.encode())
        if ending == "half-close":
            s.shutdown(socket.SHUT_WR)
        status, headers, body = read_answer(s, first_pause=0.5)
    assert status.split(b" ")[1] == b"200", status
    assert int(headers["content-length"]) == len(body), f"{len(body)} of {headers['content-length']} bytes arrived"
    assert hashlib.sha256(body).hexdigest() == d.sha256


def test_an_answer_pipelined_behind_a_file_survives_a_half_close(big):
    """The client sends two requests and shuts its side: the server answers both, then closes.
    The close must wait for the file and for the page queued behind it."""
    wh, p, d, url = big
    page = file_path(wh, f"{wh.project_url(p['id'])}/simple/wh-big/")
    with slow_socket(wh) as s:
        s.sendall((f"GET {file_path(wh, url)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                   f"GET {page} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\n\r\n").encode())
        s.shutdown(socket.SHUT_WR)
        answers = split_answers(read_to_end(s, first_pause=0.5))
    assert [a[0].split(b" ")[1] for a in answers] == [b"200", b"200"], [a[0] for a in answers]
    assert hashlib.sha256(answers[0][2]).hexdigest() == d.sha256
    assert b"wh_big-1.0-py3-none-any.whl" in answers[1][2]


def test_a_graceful_shutdown_finishes_the_files_being_sent(big):
    wh, p, d, url = big
    with slow_socket(wh) as s:
        s.sendall(f"GET {file_path(wh, url)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        status, headers, body = read_answer(s, first_pause=0.5, after_head=lambda: wh.proc.send_signal(signal.SIGTERM))
    assert status.split(b" ")[1] == b"200", status
    assert int(headers["content-length"]) == len(body), f"the download was cut at {len(body)} of {headers['content-length']} bytes"
    assert hashlib.sha256(body).hexdigest() == d.sha256
    assert wh.proc.wait(30) == 0, wh.log_tail()


def test_a_client_leaving_mid_file_leaves_no_descriptor_open(big):
    wh, p, d, url = big
    requests.get(url)  # warm: the first download opens whatever the server keeps open
    baseline = open_descriptors(wh)
    for _ in range(20):
        with slow_socket(wh) as s:
            s.sendall(f"GET {file_path(wh, url)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            assert s.recv(4096).startswith(b"HTTP/1.1 200")
        # closed with most of 24 MiB unsent: the server's write fails
    deadline = time.monotonic() + 10
    while open_descriptors(wh) > baseline + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert open_descriptors(wh) <= baseline + 2, f"{open_descriptors(wh)} descriptors open, {baseline} before"
    assert hashlib.sha256(requests.get(url).content).hexdigest() == d.sha256


@pytest.mark.file_store_only(reason="deletes the blob file from the blob directory; test_object_storage.py has the bucket version")
def test_a_blob_gone_from_disk_is_a_clean_404(big):
    wh, p, d, url = big
    assert requests.get(url).status_code == 200
    blob_root = wh.blob_dir or wh.data_dir / "blobs"
    blob = blob_root / "sha256" / d.sha256[:2] / d.sha256[2:4] / d.sha256
    blob.unlink()
    with requests.Session() as s:
        r = s.get(url)
        assert r.status_code == 404, describe_response(r)
        assert r.content == b""
        # The connection stays usable: the 404 was a whole answer.
        assert s.get(f"{wh.project_url(p['id'])}/simple/wh-big/").status_code == 200
