"""Two Wheelhouse instances on one PostgreSQL database and one S3 bucket, and no shared directory
(each its own --data-dir, nothing else in common): what issue 13 is for. An upload through one
installs through the other; the same file name raced at both has one winner and leaves no object
behind for the loser; a deletion on one is seen by the other, and a deletion racing an upload of
the same bytes on the other instance never loses the uploaded file's object (the blob lock of a
shared directory is gone: the bucket and the database must be enough); the bucket stopped and
started again under running instances gives 503s, then service again without a restart.

Like test_multi_instance.py (whose PostgreSQL fixture and helpers this reuses) it starts its own
cluster and its own S3 server (it takes that one down), so it runs once, in the SQLite pass.
Figures go to the same Tests/e2e/.work/multi_instance_figures.json, keys starting with s3_."""
from __future__ import annotations

import os
import time
import uuid

import pytest
import requests

import whlib
from distributions import wheel
from s3_server import S3Server
from simple_api import wheel_metadata
from test_multi_instance import (JSON_T, Pair, barrier_race, listed, ms, new_db, page, pg,  # noqa: F401
                                 poll, prepared_upload, record, start_together, subdir, up,
                                 up_ok, warm)
from test_object_storage import BLOB_KEY, S3Wheelhouse, assert_503_with_retry_after
from whlib import Clients, describe, describe_response, index_url, sha256

pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.skipif(whlib.postgres_mode(), reason="runs in the SQLite pass only: it starts "
                       "its own PostgreSQL cluster whatever WHEELHOUSE_E2E_DATABASE says"),
]


class S3Pair(Pair):
    """Pair's A and B (alice, her token, group mi) on one bucket prefix."""

    def __init__(self, a, b, url, s3: S3Server, prefix: str):
        super().__init__(a, b, url, None)
        self.s3, self.prefix = s3, prefix

    def key(self, digest: str) -> str:
        return f"{self.prefix}/sha256/{digest}"

    def objects(self) -> dict[str, int]:
        return self.s3.objects(self.prefix + "/")

    def file_url(self, wh, p, d) -> str:
        return f"{wh.project_url(p['id'])}/files/{d.sha256}/{d.filename}"

    def deletion(self, wh, p, name, filename):
        """A callable DELETE-ing a package file through `wh`'s REST API; the file is looked up
        now, so a race is on the DELETE alone."""
        hdrs = {"PRIVATE-TOKEN": self.tok}
        r = wh.get(f"projects/{p['id']}/packages?package_name={name}", headers=hdrs)
        assert r.status_code == 200, describe_response(r)
        for pkg in r.json():
            files = wh.get(f"projects/{p['id']}/packages/{pkg['id']}/package_files", headers=hdrs)
            for f in files.json():
                if f["file_name"] == filename:
                    url = f"{wh.api}/projects/{p['id']}/packages/{pkg['id']}/package_files/{f['id']}"
                    return lambda: wh.http.delete(url, headers=hdrs, timeout=30)
        raise AssertionError(f"{filename} is not in project {p['id']}")


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """This module's own S3 server (signatures checked): the last test takes it down."""
    server = S3Server(tmp_path_factory.mktemp("mi-s3") / "s3").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pair(wheelhouse_bin, pg, s3, tmp_path_factory):
    root = tmp_path_factory.mktemp("mi-s3-pair")
    url = new_db(pg, "s3pair")
    prefix = f"mi/{uuid.uuid4().hex[:8]}"
    whs = [S3Wheelhouse(wheelhouse_bin, root / name / "data", root / name / "server.log",
                        s3.store(prefix), database_url=url) for name in ("a", "b")]
    try:
        start_together(*whs)
        yield S3Pair(*whs, url, s3, prefix)
    finally:
        for wh in whs:
            wh.stop()
    for wh in whs:
        assert s3.secret_key not in wh.log_path.read_text(errors="replace"), wh.log_path


def local_blobs(wh) -> list[str]:
    """Files under the data dir named like a blob: there must be none (no shared directory, and
    no local copy that only this instance could serve)."""
    return [str(q) for q in wh.data_dir.rglob("*") if q.is_file() and len(q.name) == 64
            and all(c in "0123456789abcdef" for c in q.name)]


def test_upload_on_a_installs_through_b(pair, tmp_path):
    assert pair.a.data_dir != pair.b.data_dir and pair.a.blob_dir is None is pair.b.blob_dir
    p = pair.project("s3inst")
    clients = Clients(tmp_path / "clients")
    d = wheel("wh-mis3", "1.0", payload=os.urandom(512 * 1024), dest=tmp_path)
    proc = clients.twine_upload(p["a"], pair.tok, d.path)
    assert proc.returncode == 0, describe(proc)
    assert pair.s3.get_bytes(pair.key(d.sha256)) == d.data

    target = clients.target()
    proc = clients.pip_install(index_url(p["b"], pair.tok), "wh-mis3==1.0", target=target)
    assert proc.returncode == 0, describe(proc)
    assert clients.imported(target, "wh_mis3") == "1.0"
    got = pair.b.get(pair.file_url(pair.b, p, d), auth=pair.alice)
    assert got.status_code == 200 and got.content == d.data, describe_response(got)
    m = pair.b.get(pair.file_url(pair.b, p, d) + ".metadata", auth=pair.alice)
    assert m.status_code == 200 and m.content == wheel_metadata(d), describe_response(m)
    for wh in (pair.a, pair.b):
        assert local_blobs(wh) == [], wh.data_dir


def test_same_file_name_raced_at_both_instances(pair, tmp_path):
    p = pair.project("s3race")
    warm(pair.a, pair.b)
    outcomes, leftovers = [], []
    for i in range(5):
        version = f"1.{i}"
        da = wheel("wh-s3race", version, payload=uuid.uuid4().bytes * 8192,
                   dest=subdir(tmp_path, f"a{i}"))
        db = wheel("wh-s3race", version, payload=uuid.uuid4().bytes * 8192,
                   dest=subdir(tmp_path, f"b{i}"))
        assert da.filename == db.filename and da.sha256 != db.sha256
        ra, rb = barrier_race([prepared_upload(pair.a, p, da, "wh-s3race", version, pair.alice),
                               prepared_upload(pair.b, p, db, "wh-s3race", version, pair.alice)])
        for r in (ra, rb):
            assert isinstance(r, requests.Response), repr(r)
        detail = [describe_response(ra), describe_response(rb)]
        assert sorted((ra.status_code, rb.status_code)) == [201, 400], detail
        loser_r = ra if ra.status_code == 400 else rb
        assert "already been taken" in loser_r.text, describe_response(loser_r)
        winner, loser = (da, db) if ra.status_code == 201 else (db, da)
        outcomes.append("A" if winner is da else "B")
        for wh in (pair.a, pair.b):
            files, _ = poll(lambda: [f for f in listed(wh, p, "wh-s3race", pair.alice)
                                     if f[0] == da.filename], timeout=2.0)
            assert files == [(da.filename, winner.sha256)], (wh.port, files)
            got = wh.get(pair.file_url(wh, p, winner), auth=pair.alice)
            assert got.status_code == 200 and sha256(got.content) == winner.sha256, \
                describe_response(got)
        assert pair.s3.get_bytes(pair.key(winner.sha256)) == winner.data
        # No file refers to the loser's bytes: they must not stay in the bucket.
        gone, _ = poll(lambda: pair.key(loser.sha256) not in pair.objects(), timeout=2.0)
        if not gone:
            leftovers.append(loser.sha256)
    record("s3_race_different_bytes_winners", outcomes)

    codes = []
    for i in range(3):
        version = f"3.{i}"
        d = wheel("wh-s3race", version, payload=uuid.uuid4().bytes * 8192,
                  dest=subdir(tmp_path, f"s{i}"))
        ra, rb = barrier_race([prepared_upload(pair.a, p, d, "wh-s3race", version, pair.alice),
                               prepared_upload(pair.b, p, d, "wh-s3race", version, pair.alice)])
        for r in (ra, rb):
            assert isinstance(r, requests.Response), repr(r)
        codes.append(sorted((ra.status_code, rb.status_code)))
        assert codes[-1] in ([200, 201], [201, 201]), [describe_response(ra),
                                                      describe_response(rb)]
        for wh in (pair.a, pair.b):
            files, _ = poll(lambda: [f for f in listed(wh, p, "wh-s3race", pair.alice)
                                     if f[0] == d.filename], timeout=2.0)
            assert files == [(d.filename, d.sha256)], (wh.port, files)
        assert pair.s3.get_bytes(pair.key(d.sha256)) == d.data
    record("s3_race_identical_bytes_codes", codes)
    for key in pair.objects():
        assert BLOB_KEY.fullmatch(key[len(pair.prefix) + 1:]), key
    assert pair.s3.pending_multipart_uploads(pair.prefix + "/") == []
    record("s3_race_losers_objects_left", len(leftovers))
    assert not leftovers, (f"the losers' objects stayed in the bucket, no file refers to them: "
                           f"{[pair.key(h) for h in leftovers]}")


def test_deletion_on_b_is_seen_by_a(pair, tmp_path):
    p = pair.project("s3del")
    d = wheel("wh-s3del", "1.0", payload=os.urandom(300 * 1024), dest=tmp_path)
    up_ok(pair.a, p, d, "wh-s3del", "1.0", pair.alice)
    for wh in (pair.a, pair.b):  # both have served it (and may hold it in memory)
        got = wh.get(pair.file_url(wh, p, d), auth=pair.alice)
        assert got.status_code == 200 and got.content == d.data, describe_response(got)
    r = pair.deletion(pair.b, p, "wh-s3del", d.filename)()
    assert r.status_code == 204, describe_response(r)
    t_deleted = time.monotonic()

    def a_forgot():
        r = pair.a.get(pair.file_url(pair.a, p, d), auth=pair.alice)
        assert r.status_code in (200, 404), describe_response(r)
        return r.status_code == 404 and d.filename not in page(pair.a, p, "wh-s3del",
                                                               pair.alice).text

    ok, _ = poll(a_forgot, timeout=5.0)
    window = time.monotonic() - t_deleted
    assert ok, f"A still serves {d.filename} {window:.2f} s after B deleted it"
    record("s3_deletion_b_to_a_ms", ms(window))
    assert window < 2.0, window
    gone, _ = poll(lambda: pair.key(d.sha256) not in pair.objects(), timeout=5.0)
    assert gone, "the object outlived its only file"


def test_deletion_racing_an_upload_of_the_same_bytes_keeps_the_object(pair, tmp_path):
    """A deletes the only file with some bytes while B uploads the same bytes to another
    project: whoever wins, B's file must be downloadable afterwards (its object kept)."""
    p1, p2 = pair.project("s3keep-old"), pair.project("s3keep-new")
    warm(pair.a, pair.b)
    lost = []
    for i in range(6):
        version = f"1.{i}"
        d = wheel("wh-s3keep", version, payload=uuid.uuid4().bytes * 8192,
                  dest=subdir(tmp_path, f"k{i}"))
        up_ok(pair.a, p1, d, "wh-s3keep", version, pair.alice)
        rd, ru = barrier_race([pair.deletion(pair.a, p1, "wh-s3keep", d.filename),
                               prepared_upload(pair.b, p2, d, "wh-s3keep", version, pair.alice)])
        for r in (rd, ru):
            assert isinstance(r, requests.Response), repr(r)
        assert rd.status_code == 204, describe_response(rd)
        assert ru.status_code == 201, describe_response(ru)
        for wh in (pair.a, pair.b):
            got = wh.get(pair.file_url(wh, p2, d), auth=pair.alice)
            assert got.status_code in (200, 404, 503), describe_response(got)
            if got.status_code != 200 or got.content != d.data:
                lost.append((version, wh.port, got.status_code))
        if pair.key(d.sha256) not in pair.objects():
            lost.append((version, "bucket", "no object"))
    assert not lost, f"uploads whose object a racing deletion removed: {lost}"


# ---------------------------------------------------------------- last: the bucket goes away

def test_bucket_down_and_up_under_running_instances(pair, tmp_path):
    s3 = pair.s3
    p = pair.project("s3down")
    d1 = wheel("wh-s3down", "1.0", payload=os.urandom(1024 * 1024), dest=tmp_path / "1")
    up_ok(pair.a, p, d1, "wh-s3down", "1.0", pair.alice)  # never downloaded: in no cache
    d2 = wheel("wh-s3down", "2.0", payload=os.urandom(1024 * 1024), dest=tmp_path / "2")
    d3 = wheel("wh-s3down", "3.0", payload=os.urandom(1024 * 1024), dest=tmp_path / "3")
    pages = {wh.port: page(wh, p, "wh-s3down", pair.alice, json_page=True).content
             for wh in (pair.a, pair.b)}
    objects_before = pair.objects()
    pids = [wh.proc.pid for wh in (pair.a, pair.b)]
    got, figures = {}, {}

    def timed(label, fn):
        t = time.monotonic()
        got[label] = fn()
        figures[label] = {"s": round(time.monotonic() - t, 2), "status": got[label].status_code}

    s3.down()
    try:
        timed("upload_a", lambda: up(pair.a, p, d2, "wh-s3down", "2.0", pair.alice))
        timed("upload_b", lambda: up(pair.b, p, d3, "wh-s3down", "3.0", pair.alice))
        timed("download_b", lambda: pair.b.get(pair.file_url(pair.b, p, d1), auth=pair.alice))
        for wh in (pair.a, pair.b):
            timed(f"page_{wh.port}", lambda: page(wh, p, "wh-s3down", pair.alice, json_page=True))
            timed(f"health_{wh.port}", lambda: wh.http.get(f"{wh.base}/-/health", timeout=10))
        objects_down = pair.objects()
    finally:
        s3.up()
        t_up = time.monotonic()
    record("s3_bucket_down", figures)

    def recovered():
        ok = True
        for wh in (pair.a, pair.b):
            r = wh.get(pair.file_url(wh, p, d1), auth=pair.alice)
            assert r.status_code in (200, 503), describe_response(r)
            ok = ok and r.status_code == 200 and r.content == d1.data
        return ok

    ok, _ = poll(recovered, timeout=15.0, interval=0.2)
    figures["reads_recovered_after_s"] = round(time.monotonic() - t_up, 2)
    assert ok, "downloads did not come back on both instances"
    for wh, d, version in ((pair.b, d2, "2.0"), (pair.a, d3, "3.0")):
        r = up(wh, p, d, "wh-s3down", version, pair.alice)
        assert r.status_code == 201, describe_response(r)
        other = pair.a if wh is pair.b else pair.b
        g = other.get(pair.file_url(other, p, d), auth=pair.alice)
        assert g.status_code == 200 and g.content == d.data, describe_response(g)
    assert [wh.proc.pid for wh in (pair.a, pair.b)] == pids, "an instance restarted"
    record("s3_bucket_down", figures)

    for label in ("upload_a", "upload_b", "download_b"):
        assert_503_with_retry_after(got[label], f"{label} while the bucket is down")
    for wh in (pair.a, pair.b):
        r = got[f"page_{wh.port}"]
        assert r.status_code == 200 and r.content == pages[wh.port], describe_response(r)
        assert got[f"health_{wh.port}"].status_code == 200
    assert objects_down == objects_before, "objects appeared while the bucket was down"
    slow = {k: v for k, v in figures.items() if isinstance(v, dict) and v["s"] >= 5}
    assert not slow, f"answers that took 5 s or more while the bucket refused connections: {slow}"
