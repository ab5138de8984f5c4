"""Issue 16, findings 1, 2 and 7 (temporary files, aborts): every phase of a connection has a
deadline, connections are capped, running out of descriptors neither spins nor wedges the server,
temporary files of dead uploads go while the server runs, and a client abort is not an error.

A connection that sends nothing, a head one byte at a time, a body that stops, or a client that
stops reading held a server slot (and a descriptor) until the client let go: with no deadlines,
anyone who can open sockets can deny service. The module's server runs every deadline at
DEADLINE seconds (flags), so each test proves within seconds both halves of a deadline: the
connection is really closed soon after it (recv gives b'' or a reset), and really open before it,
or, for slow but steady clients (a slow upload, a slow reader), never cut at all.

Everything on the wire is raw sockets (rawhttp.py): an HTTP library would finish, retry or time
out requests on its own and hide what the server did. Tests that start servers of their own (a
connection cap, a descriptor limit through `prlimit`, settings from the environment, two
instances on one blob dir) stop them at teardown."""
from __future__ import annotations

import hashlib
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from distributions import wheel
from rawhttp import (HOST, Response, basic, chunk, connect, head, parse_head, quiet_for,
                     read_response, read_until_closed, reset, trickle)
from whlib import (Wheelhouse, assert_no_error_logged, assert_spool_empties, blake2_256,
                   describe_response, encode_multipart, md5, sha256)

DEADLINE = 1.0  # every deadline of the module's server, in seconds
MARGIN = 1.5  # how late after its deadline a close may come on a busy two-core machine
EARLY = 0.9  # a close before EARLY * its deadline is a close before the deadline
# How soon no temporary file may be left: an abort removes its own at once, the sweep (files
# unwritten for twice the body deadline, every body deadline) anything else.
SWEPT_WITHIN = 3 * DEADLINE + MARGIN
DEADLINE_ARGS = ["--request-header-timeout", str(DEADLINE), "--keepalive-timeout", str(DEADLINE),
                 "--request-body-timeout", str(DEADLINE), "--send-timeout", str(DEADLINE)]
MiB = 1 << 20
BIG = 12 * MiB  # larger than a loopback socket's buffers on both sides (4 MiB + a capped window)

pytestmark = pytest.mark.timeout(120)


# ---------------------------------------------------------------- the wire

def assert_closed_in_window(sock, t0: float, deadline: float, what: str) -> bytes:
    """The server must leave `sock` alone until EARLY * deadline after t0, then close it by
    deadline + MARGIN; returns what it wrote before closing."""
    early = EARLY * deadline - (time.monotonic() - t0)
    if early > 0:
        assert quiet_for(sock, early), f"{what}: the server wrote or closed before the deadline"
    closed_at, data = read_until_closed(sock, t0 + deadline + MARGIN)
    assert closed_at is not None, (f"{what}: still open {deadline + MARGIN:.1f}s after, "
                                   f"deadline {deadline}s (got {data[:200]!r})")
    took = closed_at - t0
    assert took >= EARLY * deadline, f"{what}: closed after {took:.2f}s, before the {deadline}s deadline"
    return data


# ---------------------------------------------------------------- the registry's side

def upload_form(d, name: str, version: str) -> tuple[bytes, str, int]:
    """A twine-like upload form for `d`: the body, its Content-Type, and where the file's bytes
    start in the body (everything before is fields and part headers)."""
    data = d.data
    fields = [(":action", "file_upload"), ("protocol_version", "1"), ("name", name),
              ("version", version), ("filetype", "bdist_wheel"), ("pyversion", "py3"),
              ("metadata_version", "2.1"), ("sha256_digest", sha256(data)),
              ("blake2_256_digest", blake2_256(data)), ("md5_digest", md5(data))]
    body, ctype = encode_multipart(fields, [("content", d.filename, data)])
    return body, ctype, body.index(data[:64])


def upload_head(box, ctype: str, framing: str, length: int) -> bytes:
    """The head of a raw upload to the module's project: "chunked", or a Content-Length of
    `length` (the whole body's, so a body sent short of it is one that stopped)."""
    hdrs = {"Authorization": box.authorization, "Content-Type": ctype}
    if framing == "chunked":
        hdrs["Transfer-Encoding"] = "chunked"
    else:
        hdrs["Content-Length"] = str(length)
    return head("POST", box.upload_path, hdrs)


def pieces(body: bytes, n: int) -> list[bytes]:
    step = -(-len(body) // n)
    return [body[i:i + step] for i in range(0, len(body), step)]


class OneShotSession(requests.Session):
    """A requests session that never reuses a connection: with one-second keep-alive deadlines a
    pooled connection races the server, which may close it just as the next request goes out."""

    def request(self, *args, **kw):
        try:
            return super().request(*args, **kw)
        finally:
            self.close()


class Box(SimpleNamespace):
    """A server with its owner, a token (tok; auth for requests, authorization for a raw
    Authorization header) and a project (p, p_url)."""


def bootstrap(wh: Wheelhouse, tag: str = "dl") -> Box:
    wh.http = OneShotSession()
    wh.http.trust_env = False
    wh.user(f"{tag}-owner")
    tok = wh.token(f"{tag}-owner", "api")["token"]
    wh.group(tag)
    wh.member(f"{tag}-owner", "owner", group=tag)
    p = wh.project(f"{tag}/lib")
    return Box(wh=wh, tok=tok, auth=("__token__", tok), authorization=basic("__token__", tok),
               p=p, p_url=wh.project_url(p["id"]), upload_path=f"/api/v4/projects/{p['id']}/packages/pypi")


def listed(box: Box, name: str) -> list[str]:
    r = box.wh.get(f"{box.p_url}/simple/{name}/", auth=box.auth)
    if r.status_code == 404:
        return []
    assert r.status_code == 200, describe_response(r)
    return re.findall(r">([^<]+)</a>", r.text)


def packages(box: Box) -> list:
    r = box.wh.get(f"projects/{box.p['id']}/packages", auth=box.auth)
    assert r.status_code == 200, describe_response(r)
    return r.json()


# ---------------------------------------------------------------- servers

@pytest.fixture(scope="module")
def box(wheelhouse_bin, tmp_path_factory):
    """The module's server: every deadline DEADLINE seconds."""
    d = tmp_path_factory.mktemp("deadlines")
    wh = Wheelhouse(wheelhouse_bin, d / "data", d / "server.log", DEADLINE_ARGS).start()
    try:
        yield bootstrap(wh)
    finally:
        wh.stop()


@pytest.fixture(scope="module")
def big(box, tmp_path_factory):
    """A BIG wheel uploaded to the module's project: what the send-deadline tests download."""
    d = wheel("wh-big", "1.0", payload=BIG, dest=tmp_path_factory.mktemp("big"))
    r = box.wh.upload(box.p["id"], d.data, d.filename, name="wh-big", version="1.0", auth=box.auth)
    assert r.status_code == 201, describe_response(r)
    path = f"/api/v4/projects/{box.p['id']}/packages/pypi/files/{d.sha256}/{d.filename}"
    return SimpleNamespace(dist=d, path=path, size=d.size)


class Limited(Wheelhouse):
    """A Wheelhouse started through `prlimit --nofile=SOFT:HARD` (prlimit execs the server, so
    `proc.pid` is the server's own)."""

    def __init__(self, *args, nofile: str, **kw):
        super().__init__(*args, **kw)
        self.nofile = nofile

    def serve_command(self):
        argv, env = super().serve_command()
        return ["prlimit", f"--nofile={self.nofile}", "--", *argv], env


@pytest.fixture
def own_server(wheelhouse_bin, tmp_path):
    """Factory for a server of the test's own: made (not started) with extra serve args, extra
    environment, a descriptor limit or a blob dir; every one is stopped at teardown."""
    made = []

    def make(*args, name="own", env=None, nofile=None, blob_dir=None) -> Wheelhouse:
        d = tmp_path / f"server-{name}"
        if nofile:
            wh = Limited(wheelhouse_bin, d / "data", d / "server.log", list(args), nofile=nofile,
                         blob_dir=blob_dir)
        else:
            wh = Wheelhouse(wheelhouse_bin, d / "data", d / "server.log", list(args), blob_dir=blob_dir)
        wh.extra_env.update(env or {})
        made.append(wh)
        return wh

    yield make
    for wh in made:
        wh.stop(signal.SIGTERM)


def startup_line(wh: Wheelhouse) -> str:
    lines = [line for line in wh.log_path.read_text(errors="replace").splitlines()
             if re.search(r"(?<!\w)max_connections\s*[=:]", line)]
    assert lines, f"no start-up line names max_connections:\n{wh.log_tail()}"
    return lines[-1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def soft_nofile(pid: int) -> tuple[str, str]:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return soft, hard
    raise AssertionError("no 'Max open files' in /proc/PID/limits")


def health_on(sock: socket.socket) -> Response:
    sock.sendall(head("GET", "/-/health", {}))
    return read_response(sock)


# ---------------------------------------------------------------- the request head

def test_connection_that_sends_nothing_is_closed_at_the_header_deadline(box):
    """An idle socket is the cheapest way to hold a slot: it must go at the header deadline
    (counted from the connection's start), without an answer since nothing was asked."""
    s = connect(box.wh.port)
    t0 = time.monotonic()
    data = assert_closed_in_window(s, t0, DEADLINE, "a connection that sent nothing")
    assert data == b"", f"nothing was asked, yet the server wrote {data[:200]!r}"
    assert box.wh.healthy()


def test_slowloris_head_gets_408_at_the_header_deadline(box):
    """One header byte every 0.2 s never leaves a gap longer than the deadline, so only a deadline
    on the whole head (not on each read) stops it: 408 and a close about DEADLINE after the start."""
    s = connect(box.wh.port)
    t0 = time.monotonic()
    s.sendall(b"GET /-/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    trickle(s, t0 + DEADLINE + MARGIN)
    closed_at, data = read_until_closed(s, t0 + DEADLINE + MARGIN)
    assert closed_at is not None, f"a slowloris head was still open after {DEADLINE + MARGIN}s"
    assert closed_at - t0 >= EARLY * DEADLINE, f"cut after {closed_at - t0:.2f}s, before the deadline"
    assert data.startswith(b"HTTP/1.1 408 "), f"expected a 408 before the close, got {data[:300]!r}"
    status, headers = parse_head(data.split(b"\r\n\r\n", 1)[0])
    assert status == 408 and headers.get("connection", "").lower() == "close", data[:300]
    assert box.wh.healthy()


def test_head_sent_slowly_within_the_deadline_is_answered(box):
    """The other half: a head that trickles in but is whole before the deadline is served."""
    s = connect(box.wh.port)
    t0 = time.monotonic()
    for piece in pieces(head("GET", "/-/health", {}), 6):
        s.sendall(piece)
        time.sleep(0.1)
    assert time.monotonic() - t0 < EARLY * DEADLINE
    r = read_response(s)
    assert r.status == 200, r


# ---------------------------------------------------------------- keep-alive

def test_idle_keepalive_connection_is_closed_at_the_keepalive_deadline(box):
    """After an answer the connection may be reused until the keep-alive deadline (a request half a
    deadline later is served on it), and is closed, without a word, a deadline after the last one."""
    s = connect(box.wh.port)
    assert health_on(s).status == 200
    time.sleep(DEADLINE / 2)
    assert health_on(s).status == 200, "the kept-alive connection was not reusable before its deadline"
    t0 = time.monotonic()
    data = assert_closed_in_window(s, t0, DEADLINE, "an idle kept-alive connection")
    assert data == b"", f"an idle keep-alive close must not write anything, got {data[:200]!r}"


def test_next_head_deadline_counts_from_its_first_byte(box):
    """On a kept-alive connection the head deadline starts with the next request's first byte (as
    nginx's client_header_timeout), so a request begun late in the keep-alive window still gets
    its full head deadline before the 408."""
    s = connect(box.wh.port)
    assert health_on(s).status == 200
    time.sleep(0.6 * DEADLINE)
    s.sendall(b"GET /-/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    t_first = time.monotonic()
    trickle(s, t_first + DEADLINE + MARGIN)
    closed_at, data = read_until_closed(s, t_first + DEADLINE + MARGIN)
    assert closed_at is not None, "a slow second head was never cut"
    assert closed_at - t_first >= EARLY * DEADLINE, (
        f"cut {closed_at - t_first:.2f}s after its first byte: the head deadline must count from it")
    assert data.startswith(b"HTTP/1.1 408 "), f"expected a 408, got {data[:300]!r}"


# ---------------------------------------------------------------- request bodies

@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_stalled_upload_is_closed_and_cleaned_up(box, tmp_path, framing):
    """A body that stops (shorter than its Content-Length, or chunks with no last one) is closed a
    body deadline after its last byte and cleaned up as a client abort: no temporary file, no row,
    no error or 5xx in the log."""
    d = wheel("wh-stall", "1.0", payload=os.urandom(300_000), dest=tmp_path)
    body, ctype, _ = upload_form(d, "wh-stall", "1.0")
    sent = body[:len(body) * 6 // 10]
    wire = chunk(sent) if framing == "chunked" else sent
    offset = box.wh.log_mark()
    s = connect(box.wh.port)
    s.sendall(upload_head(box, ctype, framing, len(body)) + wire)
    t_last = time.monotonic()
    data = assert_closed_in_window(s, t_last, DEADLINE, f"a stalled {framing} upload")
    assert data == b"" or data.startswith(b"HTTP/1.1 408 "), f"expected a close (or 408), got {data[:300]!r}"
    assert_spool_empties(box.wh, SWEPT_WITHIN)
    assert listed(box, "wh-stall") == []
    assert all(p["name"] != "wh-stall" for p in packages(box)), packages(box)
    assert_no_error_logged(box.wh, offset)
    assert box.wh.healthy()


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_slow_steady_upload_is_not_cut(box, tmp_path, framing):
    """The body deadline is the longest gap between reads, not a limit on the whole upload: one
    piece every 0.4 s for well over three deadlines is a 201, and the file is whole."""
    name = f"wh-steady-{framing}"
    d = wheel(name, "1.0", payload=os.urandom(200_000), dest=tmp_path)
    body, ctype, _ = upload_form(d, name, "1.0")
    s = connect(box.wh.port)
    s.sendall(upload_head(box, ctype, framing, len(body)))
    t0 = time.monotonic()
    for piece in pieces(body, 9):
        time.sleep(0.4)
        s.sendall(chunk(piece) if framing == "chunked" else piece)
    if framing == "chunked":
        s.sendall(b"0\r\n\r\n")
    assert time.monotonic() - t0 > 3 * DEADLINE
    r = read_response(s)
    assert r.status == 201, r
    got = box.wh.get(f"{box.p_url}/files/{d.sha256}/{d.filename}", auth=box.auth)
    assert got.status_code == 200 and sha256(got.content) == d.sha256, describe_response(got)


@pytest.mark.parametrize("route", ["put-project", "post-groups"])
def test_stalled_rest_body_is_closed_and_changes_nothing(box, route):
    """The body deadline holds on every route that reads a body, not only uploads: a PUT shorter
    than its Content-Length, a POST whose chunks never end, are closed and change nothing."""
    auth = {"Authorization": box.authorization, "Content-Type": "application/json"}
    description = box.wh.get(f"projects/{box.p['id']}", auth=box.auth).json()["description"]
    s = connect(box.wh.port)
    group = f"stall-{uuid.uuid4().hex[:8]}"
    if route == "put-project":
        hdrs = {**auth, "Content-Length": "200"}
        s.sendall(head("PUT", f"/api/v4/projects/{box.p['id']}", hdrs) + b'{"description": "stal')
    else:
        hdrs = {**auth, "Transfer-Encoding": "chunked"}
        s.sendall(head("POST", "/api/v4/groups", hdrs) + chunk(f'{{"name": "{group}", "path": "{group}"'.encode()))
    t_last = time.monotonic()
    data = assert_closed_in_window(s, t_last, DEADLINE, f"a stalled {route} body")
    assert data == b"" or data.startswith(b"HTTP/1.1 408 "), f"expected a close (or 408), got {data[:300]!r}"
    r = box.wh.get(f"projects/{box.p['id']}", auth=box.auth)
    assert r.status_code == 200 and r.json()["description"] == description, describe_response(r)
    assert box.wh.get(f"groups/{group}", auth=box.auth).status_code == 404


# ---------------------------------------------------------------- sending answers

def test_unread_answer_is_dropped_at_the_send_deadline(box, big):
    """A client that asks for a large file and never reads holds the answer (and a slot) forever
    unless there is a send deadline: read nothing for deadline + margin, then everything that is
    left must be short of the file, ending in a close."""
    s = connect(box.wh.port, rcvbuf=64 * 1024)
    s.sendall(head("GET", big.path, {"Authorization": box.authorization}))
    time.sleep(DEADLINE + MARGIN)
    closed_at, data = read_until_closed(s, time.monotonic() + 10)
    assert closed_at is not None, "the answer never ended"
    status, headers = parse_head(data.split(b"\r\n\r\n", 1)[0])
    assert status == 200 and int(headers["content-length"]) == big.size, data[:300]
    got = len(data) - len(data.split(b"\r\n\r\n", 1)[0]) - 4
    assert got < big.size, (f"all {big.size} bytes arrived: an unread answer was not dropped "
                            f"after {DEADLINE + MARGIN}s")
    assert box.wh.healthy()


def test_slow_steady_reader_is_not_cut(box, big):
    """The send deadline is about an answer left unread, not a slow one: a reader taking 1 MiB
    every 0.4 s (gaps well under the deadline) gets the whole file, over several deadlines. (At
    1.5 MiB a round the whole file came in under 3 s once, and the test could prove nothing.)"""
    s = connect(box.wh.port, rcvbuf=256 * 1024)
    s.sendall(head("GET", big.path, {"Authorization": box.authorization}))
    t0 = time.monotonic()
    buf = b""
    while b"\r\n\r\n" not in buf:
        piece = s.recv(65536)
        assert piece, f"closed before the answer's head: {buf[:300]!r}"
        buf += piece
    raw_head, body = buf.split(b"\r\n\r\n", 1)
    status, headers = parse_head(raw_head)
    assert status == 200 and int(headers["content-length"]) == big.size
    digest = hashlib.sha256(body)
    got = len(body)
    while got < big.size:
        time.sleep(0.4)
        this_round = 0
        s.settimeout(5)
        while this_round < MiB and got < big.size:
            try:
                piece = s.recv(min(256 * 1024, big.size - got))
            except ConnectionResetError:
                piece = b""
            assert piece, f"cut after {got} of {big.size} bytes, {time.monotonic() - t0:.1f}s in"
            digest.update(piece)
            got += len(piece)
            this_round += len(piece)
    assert time.monotonic() - t0 > 3 * DEADLINE, "the reader was not slow: the test proves nothing"
    assert digest.hexdigest() == big.dist.sha256


# ---------------------------------------------------------------- aborts

@pytest.mark.parametrize("ending", ["close", "reset"])
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_aborted_upload_is_logged_as_an_abort_not_an_error(box, tmp_path, framing, ending):
    """A client that gives up mid-upload got no answer, so there is no 500 to log: an info line says
    the upload was aborted by the client and how many bytes came; its temporary file goes, nothing
    is kept. Whether the client closes (a FIN) or resets (RST, as a killed process or a timed-out
    proxy does): a reset makes the next read fail with "connection reset by peer", which is the
    same abort and not a failure of the request."""
    name = f"wh-abort-{framing}-{ending}"
    d = wheel(name, "1.0", payload=os.urandom(400_000), dest=tmp_path)
    body, ctype, content_at = upload_form(d, name, "1.0")
    sent = body[:content_at + 200_000]
    wire = b"".join(chunk(p) for p in pieces(sent, 4)) if framing == "chunked" else sent
    offset = box.wh.log_mark()
    s = connect(box.wh.port)
    s.sendall(upload_head(box, ctype, framing, len(body)) + wire)
    time.sleep(0.3)
    if ending == "reset":
        reset(s)
    else:
        s.close()
    # What the log may say was received: the file's bytes written (the parser may hold back a
    # boundary's length) up to all the body bytes sent.
    lo, hi = 200_000 - 4096, len(sent)
    until = time.monotonic() + 3
    abort_lines = []
    while time.monotonic() < until and not abort_lines:
        time.sleep(0.1)
        abort_lines = [line for line in box.wh.log_since(offset)
                       if "aborted by the client" in line and line.split(" ", 2)[1] == "info"
                       and any(lo <= int(n) <= hi for n in re.findall(r"\d+", line))]
    assert_no_error_logged(box.wh, offset)
    assert abort_lines, ("no info line says the upload was aborted by the client with the bytes "
                         f"received ({lo}..{hi}):\n" + "\n".join(box.wh.log_since(offset)))
    assert_spool_empties(box.wh, SWEPT_WITHIN)
    assert listed(box, name) == []
    assert all(p["name"] != name for p in packages(box)), packages(box)


# ---------------------------------------------------------------- the temporary-file sweep

def test_sweep_removes_dead_temp_files_while_running(box):
    """Files of uploads cut off by a crash used to wait for a restart that finds them an hour old.
    Now the running server sweeps: a file not written for twice the body deadline goes within a
    sweep period or so, one written every 0.4 s stays (an upload in progress), then goes once it
    stops being written."""
    spool = box.wh.spool_dir()
    spool.mkdir(parents=True, exist_ok=True)
    dead = spool / f"upload-{uuid.uuid4().hex}"
    dead.write_bytes(os.urandom(1000))
    old = time.time() - 30
    os.utime(dead, (old, old))
    live = spool / f"upload-{uuid.uuid4().hex}"
    t0 = time.monotonic()
    dead_gone_at = None
    with open(live, "ab") as f:
        while time.monotonic() - t0 < 3 * DEADLINE + 0.2:
            f.write(b"x")
            f.flush()
            if dead_gone_at is None and not dead.exists():
                dead_gone_at = time.monotonic() - t0
            assert live.exists(), f"a file written every 0.4s was swept {time.monotonic() - t0:.1f}s in"
            time.sleep(0.4)
    assert dead_gone_at is not None and dead_gone_at <= DEADLINE + MARGIN, (
        "a temporary file 30s old was never swept" if dead_gone_at is None
        else f"a temporary file 30s old went only after {dead_gone_at:.1f}s")
    t_stop = time.monotonic()
    while live.exists() and time.monotonic() - t_stop < 3 * DEADLINE + MARGIN + 1:
        time.sleep(0.1)
    gone_after = time.monotonic() - t_stop
    assert not live.exists(), f"a file no longer written was still there {gone_after:.1f}s later"
    assert gone_after >= 2 * DEADLINE - 1.0, f"swept {gone_after:.1f}s after its last write: too soon"


# How long after its last write a temporary file of a killed instance may stay: the sweep's age
# (twice the body deadline, at least 4 s), one sweep period, and the margin.
DEAD_FILE_GONE_WITHIN = max(2 * DEADLINE, 4.0) + DEADLINE + MARGIN
SWEEP_LINE = re.compile(r"removed \d+ temporary files? of dead uploads")


@pytest.mark.file_store_only(reason="three instances share one blob directory and its tmp/")
def test_sweep_of_a_shared_blob_dir_spares_another_instances_upload(own_server, tmp_path):
    """Several instances share a blob dir, and each sweeps its tmp/. An instance can spare its own
    uploads by what it has in flight, but another instance's upload it can only tell from the
    file: a slow upload whose file is not written for a while (its bytes wait in a buffer until a
    block fills) must still look alive to the others, or one of them removes it mid-upload and the
    upload ends in a 400 for a file cut short.

    Three instances with a one-second body deadline: D is killed mid-upload, and its file, really
    dead, must go within a few seconds while the others run. Then a slow chunked upload (10 KB
    every 0.4 s for about 6 s, so no 1 MiB block ever fills) goes to K while A, which is not the
    uploader, keeps sweeping: the file stays to the end, the upload gets its 201, the file
    downloads byte for byte, and A's log shows no removal."""
    blobs = tmp_path / "shared-blobs"
    args = ["--request-body-timeout", str(DEADLINE)]
    a = own_server(*args, name="a", blob_dir=blobs).start()
    k = own_server(*args, name="k", blob_dir=blobs).start()
    dead = own_server(*args, name="d", blob_dir=blobs).start()
    box_k, box_d = bootstrap(k, "swk"), bootstrap(dead, "swd")
    tmp = blobs / "tmp"
    now = lambda: set(os.listdir(tmp)) if tmp.exists() else set()  # noqa: E731

    # D's upload, cut off by SIGKILL with part of its file written: a dead file.
    before = now()
    dd = wheel("wh-killed", "1.0", payload=os.urandom(300_000), dest=tmp_path / "d")
    body_d, ctype_d, _ = upload_form(dd, "wh-killed", "1.0")
    sd = connect(dead.port)
    sd.sendall(head("POST", box_d.upload_path, {"Authorization": box_d.authorization,
                                                "Content-Type": ctype_d,
                                                "Content-Length": str(len(body_d))}) + body_d[:200_000])
    until = time.monotonic() + 3
    while time.monotonic() < until and not now() - before:
        time.sleep(0.05)
    d_files = now() - before
    assert d_files, "D's upload made no temporary file"
    time.sleep(0.2)
    dead.kill()
    t_kill = time.monotonic()
    time.sleep(DEADLINE)
    assert d_files <= now(), "D's file was swept one deadline after its last write: too soon"
    while time.monotonic() - t_kill < DEAD_FILE_GONE_WITHIN and d_files & now():
        time.sleep(0.1)
    assert not d_files & now(), (f"the killed instance's temporary file was still there "
                                 f"{time.monotonic() - t_kill:.1f}s later")

    # K's slow upload, with A sweeping meanwhile.
    mark_a = a.log_mark()
    before = now()
    dk = wheel("wh-shared", "1.0", payload=os.urandom(140_000), dest=tmp_path / "k")
    body_k, ctype_k, _ = upload_form(dk, "wh-shared", "1.0")
    parts = [body_k[i:i + 10_000] for i in range(0, len(body_k), 10_000)]
    sk = connect(k.port)
    sk.sendall(head("POST", box_k.upload_path, {"Authorization": box_k.authorization,
                                                "Content-Type": ctype_k, "Transfer-Encoding": "chunked"}))
    t0 = time.monotonic()
    k_files, missing_at = set(), None
    for i, piece in enumerate(parts):
        sk.sendall(chunk(piece))
        time.sleep(0.4)
        if not k_files:
            k_files = now() - before
        elif missing_at is None and not k_files <= now():
            missing_at = time.monotonic() - t0
    sk.sendall(b"0\r\n\r\n")
    took = time.monotonic() - t0
    r = read_response(sk, timeout=30)
    assert k_files, "K's upload made no temporary file"
    assert took > 4 * DEADLINE, f"the upload took only {took:.1f}s: too fast to prove anything"
    removals = [line for line in a.log_since(mark_a) if SWEEP_LINE.search(line)]
    assert missing_at is None and not removals, (
        f"K's upload in progress lost its temporary file {missing_at}s in (of {took:.1f}s); "
        f"A's sweep: {removals}; the upload's answer: {r}")
    assert r.status == 201, r
    got = k.get(f"{box_k.p_url}/files/{dk.sha256}/{dk.filename}", auth=box_k.auth)
    assert got.status_code == 200 and got.content == dk.data, describe_response(got)


# ---------------------------------------------------------------- settings

def test_serve_help_names_every_deadline_and_its_variable(wheelhouse_bin):
    """Each deadline and the cap is a serve flag with an environment variable (WHEELHOUSE_ and the
    flag's name), documented where operators look."""
    out = subprocess.run([str(wheelhouse_bin), "serve", "--help"], capture_output=True, text=True,
                         timeout=30).stdout
    flat = " ".join(out.split())
    for flag in ("request-header-timeout", "keepalive-timeout", "request-body-timeout",
                 "send-timeout", "max-connections"):
        assert f"--{flag}" in out, f"serve --help does not name --{flag}:\n{out}"
        assert "WHEELHOUSE_" + flag.upper().replace("-", "_") in flat, f"--{flag}'s variable:\n{out}"


def test_settings_from_environment_variables(own_server):
    """The same settings from WHEELHOUSE_* variables, decimals allowed: a 0.5 s head deadline and a
    longer keep-alive one are told apart on the wire, the cap is in the start-up line."""
    wh = own_server(name="env", env={
        "WHEELHOUSE_REQUEST_HEADER_TIMEOUT": "0.5", "WHEELHOUSE_KEEPALIVE_TIMEOUT": "2",
        "WHEELHOUSE_REQUEST_BODY_TIMEOUT": "0.5", "WHEELHOUSE_SEND_TIMEOUT": "0.5",
        "WHEELHOUSE_MAX_CONNECTIONS": "9"}).start()
    env_box = bootstrap(wh, "env")
    s = connect(wh.port)
    data = assert_closed_in_window(s, time.monotonic(), 0.5, "an idle connection (head deadline 0.5s)")
    assert data == b""
    s = connect(wh.port)
    assert health_on(s).status == 200
    data = assert_closed_in_window(s, time.monotonic(), 2.0, "a kept-alive connection (2s)")
    assert data == b""
    s = connect(wh.port)
    s.sendall(head("PUT", f"/api/v4/projects/{env_box.p['id']}",
                   {"Authorization": env_box.authorization, "Content-Type": "application/json",
                    "Content-Length": "100"}) + b"{")
    assert_closed_in_window(s, time.monotonic(), 0.5, "a stalled body (body deadline 0.5s)")
    assert re.search(r"max_connections[=:]\s*9\b", startup_line(wh)), startup_line(wh)


# ---------------------------------------------------------------- connection cap

def test_max_connections_holds_new_connections_in_the_backlog(own_server):
    """At the cap the server stops accepting: a new connection waits in the kernel's backlog,
    unanswered, and is served as soon as one of the others closes."""
    cap = 4
    wh = own_server("--max-connections", str(cap), "--request-header-timeout", "30",
                    "--keepalive-timeout", "30", name="cap").start()
    assert re.search(rf"max_connections[=:]\s*{cap}\b", startup_line(wh)), startup_line(wh)
    holders = [connect(wh.port) for _ in range(cap)]
    for s in holders:  # each really accepted and served, then kept alive
        assert health_on(s).status == 200
    waiting = connect(wh.port)  # the kernel completes the handshake; the server must not take it
    waiting.sendall(head("GET", "/-/health", {}))
    assert quiet_for(waiting, 1.5), "a connection beyond the cap was served"
    holders.pop().close()
    t0 = time.monotonic()
    r = read_response(waiting, timeout=5)
    assert r.status == 200 and time.monotonic() - t0 < 2, "the waiting connection was not taken when a slot freed"
    for s in holders + [waiting]:
        assert health_on(s).status == 200  # the ones within the cap were never cut


@pytest.mark.parametrize("nofile,cap", [("200:256", 96), ("70:70", 8)])
def test_default_max_connections_follows_the_descriptor_limit(own_server, nofile, cap):
    """Without --max-connections the cap is (descriptor limit - 64) / 2, at least 8, after raising
    the soft limit to the hard one; the start-up line gives both, so an operator sees them."""
    wh = own_server(name=f"nofile-{cap}", nofile=nofile).start()
    hard = nofile.split(":")[1]
    assert soft_nofile(wh.proc.pid) == (hard, hard), "the soft descriptor limit was not raised to the hard one"
    line = startup_line(wh)
    assert re.search(rf"max_connections[=:]\s*{cap}\b", line), line
    assert re.search(rf"\b{hard}\b", line), f"the start-up line does not give the descriptor limit {hard}: {line}"


# ---------------------------------------------------------------- out of descriptors

def open_idle(port: int, n: int) -> list[socket.socket]:
    """`n` connections that send nothing (connected by the kernel whether or not accepted)."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(5)
        s.connect((HOST, port))
        socks.append(s)
    return socks


def test_descriptor_exhaustion_does_not_spin_and_recovers_when_sockets_close(own_server):
    """With a 256-descriptor limit and a cap too high to help, 300 idle sockets exhaust the
    descriptors. The server used to retry accept in a busy loop (a whole core) and stay wedged:
    now it backs off (well under a fifth of a core) and answers again once the sockets close."""
    wh = own_server("--max-connections", "1000", "--request-header-timeout", "60",
                    "--keepalive-timeout", "60", name="fd", nofile="256:256").start()
    socks = open_idle(wh.port, 300)
    try:
        time.sleep(0.5)
        c0, t0 = cpu_seconds(wh.proc.pid), time.monotonic()
        time.sleep(2)
        share = (cpu_seconds(wh.proc.pid) - c0) / (time.monotonic() - t0)
        assert share < 0.2, f"out of descriptors the server used {share:.2f} of a core"
    finally:
        for s in socks:
            s.close()
    until = time.monotonic() + 5
    while not wh.healthy():
        assert time.monotonic() < until, "not healthy 5s after the idle sockets closed"
        time.sleep(0.1)
    assert wh.proc.poll() is None


def test_descriptor_exhaustion_recovers_by_the_header_deadline(own_server):
    """The same exhaustion with nobody closing anything: the head deadline cuts the idle sockets,
    those waiting in the backlog get their turn and are cut too, and a health check waiting
    behind them is answered without help."""
    header = 2.0
    wh = own_server("--max-connections", "1000", "--request-header-timeout", str(header),
                    "--keepalive-timeout", str(header), name="fd2", nofile="256:256").start()
    socks = open_idle(wh.port, 300)
    t0 = time.monotonic()
    try:
        probe = connect(wh.port)
        probe.sendall(head("GET", "/-/health", {}))
        r = read_response(probe, timeout=2 * header + 2 * MARGIN + 2)
        assert r.status == 200
        until = t0 + 3 * header + 2 * MARGIN
        still_open = []
        for s in socks:
            closed_at, _ = read_until_closed(s, until)
            if closed_at is None:
                still_open.append(s)
        assert not still_open, f"{len(still_open)} of 300 idle sockets never cut by the head deadline"
    finally:
        for s in socks:
            s.close()
    assert wh.healthy()
