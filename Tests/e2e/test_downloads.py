"""Large files leave the server with sendfile (FileBody.Writer, NIO's FileRegion); small ones, and
ranges of up to 64 KiB, from memory. These tests hold both paths to the exact bytes, with the real
installers and with raw ranges on either side of the line, under concurrency, and check that a
client going away mid-file does not leave a file descriptor open in the server."""
from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
import zipfile

import pytest
import requests

from whlib import describe_response, synth_wheel

IN_MEMORY = 64 * 1024  # FileBody.largestInMemory


@pytest.fixture
def big(make_server, tmp_path):
    """A fresh server with a public project holding wh-big 1.0, a 3 MiB wheel of random bytes."""
    wh = make_server(name="downloads")
    wh.user("alice")
    tok = wh.token("alice", "api")["token"]
    wh.group("dl", visibility="public")
    wh.member("alice", "owner", group="dl")
    p = wh.project("dl/big", visibility="public")
    d = synth_wheel(tmp_path, "wh-big", "1.0", payload=os.urandom(3 * 1024 * 1024))
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


def test_a_client_leaving_mid_file_leaves_no_descriptor_open(big):
    wh, p, d, url = big
    requests.get(url)  # warm: the first download opens whatever the server keeps open
    baseline = open_descriptors(wh)
    path = url.split(f":{wh.port}", 1)[1]
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", wh.port), timeout=5) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            assert s.recv(4096).startswith(b"HTTP/1.1 200")
        # closed with most of 3 MiB unread
    deadline = time.monotonic() + 10
    while open_descriptors(wh) > baseline + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert open_descriptors(wh) <= baseline + 2, f"{open_descriptors(wh)} descriptors open, {baseline} before"
    assert hashlib.sha256(requests.get(url).content).hexdigest() == d.sha256


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
