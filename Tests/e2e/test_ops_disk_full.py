"""Issue 15, disk full: the filesystem uploads are written to (the blob directory; with an object
store, the data dir's spool) is a small tmpfs that fills up in the middle of an upload. The upload
is answered 507 (or 503) with a message that says the disk is full; nothing of it is kept (no
temporary file, no blob, no row); reads go on; once space is freed the same upload goes through.

Mounting needs root: without it the tests skip, unless WHEELHOUSE_REQUIRE_MOUNT is set (scripts/test
sets it), when they fail."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import whlib
from conftest import blob_store_mode
from distributions import MiB, wheel
from whlib import Clients, assert_spool_empties, describe, describe_response, upload_ok

pytestmark = pytest.mark.timeout(180)

FS_SIZE = "24m"
LEFT_FREE = 3 * MiB       # what the filler leaves: less than the upload needs
UPLOAD_PAYLOAD = 6 * MiB


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill(vol: Path, leave: int) -> Path:
    filler = vol / "filler.bin"
    size = free_bytes(vol) - leave
    assert size > 0, (free_bytes(vol), leave)
    with open(filler, "wb") as f:
        block = b"\0" * MiB
        while size > 0:
            n = min(size, len(block))
            f.write(block[:n])
            size -= n
    return filler


def message(r) -> str:
    try:
        body = r.json()
    except ValueError:
        return r.text
    return str(body.get("message") or body.get("error") or body) if isinstance(body, dict) else str(body)


def stored_anywhere(root: Path, needle: bytes) -> list[Path]:
    hits = []
    for p in root.rglob("*"):
        if p.is_file() and p.name != "filler.bin" and p.stat().st_size >= len(needle):
            with open(p, "rb") as f:
                if needle in f.read():
                    hits.append(p)
    return hits


def project_with_one_file(wh, group: str):
    """alice (a token) owning GROUP/lib, which holds wh-before 1.0: what every disk-full test reads
    while the disk is full. Returns (token, auth, project id, project URL, the wheel)."""
    wh.user("alice")
    tok = wh.token("alice", "api")["token"]
    auth = ("__token__", tok)
    wh.group(group, "private")
    wh.member("alice", "owner", group=group)
    project = wh.project(f"{group}/lib", "private")
    pid, url = project["id"], wh.project_url(project["id"])
    small = wheel("wh-before", "1.0", payload=100_000)
    upload_ok(wh, pid, small, "wh-before", "1.0", auth)
    return tok, auth, pid, url, small


def check_disk_full(wh, vol: Path, tmp_path: Path):
    tok, auth, pid, url, small = project_with_one_file(wh, "full")
    small_url = f"{url}/files/{small.sha256}/{small.filename}"

    filler = fill(vol, LEFT_FREE)
    payload = os.urandom(UPLOAD_PAYLOAD)
    big = wheel("wh-too-big", "1.0", payload=payload, dest=tmp_path / "dists")
    for chunked in (False, True):
        r = wh.upload(pid, big.data, big.filename, name="wh-too-big", version="1.0", auth=auth,
                      chunked=chunked)
        assert r.status_code in (507, 503), describe_response(r)
        text = message(r).lower()
        assert "disk" in text and "full" in text, f"no clear message: {describe_response(r)}"
        # Nothing kept: no temporary file, no bytes anywhere, no row, no file URL.
        assert_spool_empties(wh, within=5)
        assert not stored_anywhere(vol, payload[:4096]), "bytes of the refused upload were kept"
        page = wh.get(f"{url}/simple/wh-too-big/", auth=auth)
        assert page.status_code == 404, describe_response(page)
        got = wh.get(f"{url}/files/{big.sha256}/{big.filename}", auth=auth)
        assert got.status_code == 404, describe_response(got)
        # Reads go on.
        page = wh.get(f"{url}/simple/wh-before/", auth=auth)
        assert page.status_code == 200 and small.filename in page.text, describe_response(page)
        got = wh.get(small_url, auth=auth)
        assert got.status_code == 200 and got.content == small.data, describe_response(got)
    clients = Clients(tmp_path / "clients")
    proc = clients.twine_upload(url, tok, big.path)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and ("507" in out or "503" in out), describe(proc)
    assert_spool_empties(wh, within=5)
    r = wh.get(f"{wh.api}/projects/{pid}/packages", headers={"PRIVATE-TOKEN": tok})
    assert [p["name"] for p in r.json()] == ["wh-before"], describe_response(r)

    filler.unlink()
    upload_ok(wh, pid, big, "wh-too-big", "1.0", auth)
    got = wh.get(f"{url}/files/{big.sha256}/{big.filename}", auth=auth)
    assert got.status_code == 200 and got.content == big.data, describe_response(got)
    proc = wh.cli("fsck", "--verify-hashes")
    assert proc.returncode == 0, describe(proc)


@pytest.mark.file_store_only("the blob directory is the filesystem that fills")
def test_upload_into_a_full_blob_directory(ops_server, small_fs, tmp_path):
    vol = small_fs("vol", FS_SIZE)
    wh = ops_server(name="full", blob_dir=vol / "blobs")
    check_disk_full(wh, vol, tmp_path)


@pytest.mark.skipif(not (whlib.postgres_mode() and blob_store_mode() == "s3"),
                    reason="PostgreSQL + S3 pass: the data dir then holds only the upload spool")
def test_upload_into_a_full_spool_with_an_object_store(ops_server, small_fs, tmp_path):
    vol = small_fs("vol", FS_SIZE)
    wh = ops_server(name="full-s3", data_dir=vol / "data")
    check_disk_full(wh, vol, tmp_path)


@pytest.mark.sqlite_only("the SQLite database in the data dir is what fills")
@pytest.mark.file_store_only("the blobs are kept apart from the database, on a disk with room")
def test_upload_when_the_database_disk_is_full(ops_server, small_fs, tmp_path):
    """The blobs have room but the database's disk has none: SQLite answers SQLITE_FULL to the
    upload's transaction, which rolls back; the client gets 507 with the same clear message, no
    row is kept, reads go on (they need no new space), and once space is freed the upload goes
    through."""
    vol = small_fs("dbvol", "16m")
    wh = ops_server(name="dbfull", data_dir=vol / "data", blob_dir=tmp_path / "blobs")
    tok, auth, pid, url, small = project_with_one_file(wh, "dbfull")

    filler = fill(vol, 0)
    late = wheel("wh-late", "1.0", payload=200_000, dest=tmp_path / "dists")
    r = wh.upload(pid, late.data, late.filename, name="wh-late", version="1.0", auth=auth)
    assert r.status_code == 507, describe_response(r)
    text = message(r).lower()
    assert "disk" in text and "full" in text, f"no clear message: {describe_response(r)}"
    assert "the database's disk is full" in wh.log_tail(), wh.log_tail()
    r = wh.get(f"{wh.api}/projects/{pid}/packages", headers={"PRIVATE-TOKEN": tok})
    assert r.status_code == 200 and [p["name"] for p in r.json()] == ["wh-before"], describe_response(r)
    page = wh.get(f"{url}/simple/wh-before/", auth=auth)
    assert page.status_code == 200 and small.filename in page.text, describe_response(page)
    got = wh.get(f"{url}/files/{small.sha256}/{small.filename}", auth=auth)
    assert got.status_code == 200 and got.content == small.data, describe_response(got)

    filler.unlink()
    upload_ok(wh, pid, late, "wh-late", "1.0", auth)
    proc = wh.cli("fsck", "--verify-hashes")
    assert proc.returncode == 0, describe(proc)
