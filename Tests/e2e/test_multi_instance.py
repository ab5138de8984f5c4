"""Several Wheelhouse instances on one PostgreSQL database and one blob directory: start-up
migration race, cross-instance freshness (uploads, token revocation, yanks), upload races on
one file name, moving a one-box SQLite registry to PostgreSQL with `wheelhouse migrate-data`,
and PostgreSQL failing under running instances: stopped (connections refused), then hung
(SIGSTOP: connections accepted, nothing answered — a partition or a wedged server).

The module starts its own private cluster (Tests/postgres_cluster.py), because it stops and
pauses PostgreSQL; it runs in the SQLite pass and is skipped in postgres mode, where it would
only repeat itself. The measured windows are printed, written to
Tests/e2e/.work/multi_instance_figures.json, and shown in pytest's terminal summary."""
from __future__ import annotations

import json
import re
import statistics
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

import postgres_cluster
import whlib
from distributions import wheel
from whlib import (Clients, Wheelhouse, describe, describe_response, index_url, parse_links,
                   sha256)

pytestmark = [
    pytest.mark.timeout(180),
    # Nothing here depends on the suite's database mode (every instance is put on this module's
    # own cluster), so the module runs once, in the SQLite pass.
    pytest.mark.skipif(whlib.postgres_mode(), reason="runs in the SQLite pass only: it starts "
                       "its own PostgreSQL cluster whatever WHEELHOUSE_E2E_DATABASE says"),
]

JSON_T = "application/vnd.pypi.simple.v1+json"
FIGURES = Path(__file__).resolve().parent / ".work" / "multi_instance_figures.json"
_figures_lock = threading.Lock()


def record(key: str, value):
    """Print a measured figure and merge it into FIGURES (one JSON object per run)."""
    print(f"[multi-instance] {key} = {json.dumps(value)}")
    with _figures_lock:
        FIGURES.parent.mkdir(parents=True, exist_ok=True)
        try:
            data = json.loads(FIGURES.read_text())
        except (OSError, ValueError):
            data = {}
        data[key] = value
        data["_updated"] = time.strftime("%Y-%m-%d %H:%M:%S")
        FIGURES.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def subdir(root: Path, name: str) -> Path:
    d = root / name
    d.mkdir(parents=True, exist_ok=True)
    return d


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module", autouse=True)
def _fresh_figures():
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text("{}\n")
    record("suite_database_mode", whlib.database_mode())


@pytest.fixture(scope="module")
def pg():
    """A private cluster: this module stops and starts it."""
    try:
        cluster = postgres_cluster.PostgresCluster()
    except postgres_cluster.PostgresNotFound as e:
        pytest.fail(f"test_multi_instance needs PostgreSQL: {e}", pytrace=False)
    cluster.start()
    yield cluster
    cluster.cleanup()


@pytest.fixture(scope="module")
def mi_root(tmp_path_factory):
    return tmp_path_factory.mktemp("multi")


def new_db(pg, hint) -> str:
    return pg.create_database(f"mi_{hint}_{uuid.uuid4().hex[:8]}")


def instance(wheelhouse_bin, root: Path, name: str, url: str, blobs: Path | None) -> Wheelhouse:
    d = root / name
    return Wheelhouse(wheelhouse_bin, d / "data", d / "server.log", database_url=url,
                      blob_dir=blobs)


def start_together(*whs: Wheelhouse):
    """Launch every instance before waiting for any, so their start-ups really overlap."""
    for wh in whs:
        wh.launch()
    for wh in whs:
        wh.wait_healthy()
    return whs


class Pair:
    """Instances A and B: different ports and data dirs, one database, one blob dir."""

    def __init__(self, a, b, url, blobs):
        self.a, self.b, self.url, self.blobs = a, b, url, blobs
        a.user("alice")
        self.tok = a.token("alice", "api")["token"]
        self.alice = ("__token__", self.tok)
        self.group = a.group("mi")
        a.member("alice", "owner", group="mi")
        self._n = 0

    def project(self, hint="p"):
        """A private project under mi/ (alice owns it), made with A's CLI."""
        self._n += 1
        p = self.a.project(f"mi/{hint}-{self._n}")
        p["a"], p["b"] = self.a.project_url(p["id"]), self.b.project_url(p["id"])
        return p


@pytest.fixture(scope="module")
def pair(wheelhouse_bin, pg, mi_root):
    url = new_db(pg, "pair")
    blobs = mi_root / "shared-blobs"
    a = instance(wheelhouse_bin, mi_root, "a", url, blobs)
    b = instance(wheelhouse_bin, mi_root, "b", url, blobs)
    try:
        start_together(a, b)
        yield Pair(a, b, url, blobs)
    finally:
        for wh in (a, b):
            wh.stop()


def up(wh, p, d, name, version, auth):
    return wh.upload(p["id"], d.data, d.filename, name=name, version=version, auth=auth)


def up_ok(wh, p, d, name, version, auth):
    r = up(wh, p, d, name, version, auth)
    assert r.status_code == 201, describe_response(r)
    return r


def page(wh, p, name, auth, json_page=False):
    return wh.get(f"{wh.project_url(p['id'])}/simple/{name}", auth=auth,
                  headers={"Accept": JSON_T} if json_page else None)


def listed(wh, p, name, auth):
    r = page(wh, p, name, auth)
    if r.status_code == 404:
        return []
    assert r.status_code == 200, describe_response(r)
    return [(x.text, x.href.split("#sha256=")[-1]) for x in parse_links(r.text)]


def poll(fn, timeout, interval=0.01):
    """Call fn() until it returns a truthy value; returns (value, seconds) or (None, elapsed)."""
    t0 = time.monotonic()
    while True:
        v = fn()
        if v:
            return v, time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            return None, time.monotonic() - t0
        time.sleep(interval)


def run_cli(wheelhouse_bin, *args, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run([str(wheelhouse_bin), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def schema_snapshot(url: str) -> str:
    """Tables, columns, indexes and constraints of the public schema, plus every row of tables
    whose name says they track migrations."""
    q = """
      SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
        SELECT 'col ' || table_name || '.' || column_name || ' ' || data_type || ' ' ||
               is_nullable || ' ' || coalesce(column_default, '') AS x
          FROM information_schema.columns WHERE table_schema = 'public'
        UNION ALL SELECT 'idx ' || indexname || ' ' || indexdef FROM pg_indexes
          WHERE schemaname = 'public'
        UNION ALL SELECT 'con ' || conname || ' ' || pg_get_constraintdef(oid)
          FROM pg_constraint WHERE connamespace = 'public'::regnamespace
      ) s"""
    out = postgres_cluster.psql(url, q)
    tables = postgres_cluster.psql(
        url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
             "AND table_name ~* '(migration|schema|version)'").split()
    for t in sorted(tables):
        out += f"\n-- {t}\n" + postgres_cluster.psql(
            url, f'SELECT * FROM "{t}" ORDER BY 1')
    return out


OVERLAPS: list[float] = []  # how much of the shorter request each race overlapped (0..1)


def barrier_race(calls):
    """Run each zero-argument callable in its own thread, released together by a barrier;
    returns their results in order (an exception is returned, not raised). Appends to OVERLAPS
    how much the two requests' lifetimes overlapped, so a "race" that ran one after the other
    shows up in the figures."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)
    spans = [None] * len(calls)

    def run(i, fn):
        barrier.wait(timeout=30)
        t0 = time.monotonic()
        try:
            results[i] = fn()
        except Exception as e:  # noqa: BLE001
            results[i] = e
        spans[i] = (t0, time.monotonic())

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    if len(spans) == 2 and all(spans):
        (a0, a1), (b0, b1) = spans
        shorter = min(a1 - a0, b1 - b0) or 1e-9
        OVERLAPS.append(max(0.0, min(a1, b1) - max(a0, b0)) / shorter)
    return results


def prepared_upload(wh, p, d, name, version, auth):
    """A callable posting the upload; the body is encoded now so the race is on the wire."""
    return lambda: up(wh, p, d, name, version, auth)


def warm(*whs):
    for wh in whs:  # open the keep-alive connections before racing
        assert wh.http.get(f"{wh.base}/-/health", timeout=10).status_code == 200


# ---------------------------------------------------------------- start-up

def test_simultaneous_start_on_an_empty_database_migrates_once(wheelhouse_bin, pg, mi_root):
    url = new_db(pg, "race")
    blobs = mi_root / "race-blobs"
    whs = [instance(wheelhouse_bin, mi_root, f"race-{i}", url, blobs) for i in range(3)]
    try:
        t0 = time.monotonic()
        start_together(*whs)
        record("migration_race_all_healthy_s", round(time.monotonic() - t0, 2))
        for wh in whs:
            assert wh.proc.poll() is None, wh.log_tail()
            r = wh.http.get(f"{wh.base}/-/health", timeout=10)
            assert r.status_code == 200, describe_response(r)
        # The schema is usable from every instance: a user made by one CLI authenticates on all.
        whs[0].user("racer")
        tok = whs[0].token("racer", "api")["token"]
        for wh in whs:
            r = wh.get("user", headers={"PRIVATE-TOKEN": tok})
            assert r.status_code == 200 and r.json()["username"] == "racer", describe_response(r)
    finally:
        for wh in whs:
            wh.stop()

    before = schema_snapshot(url)
    runs = [run_cli(wheelhouse_bin, "migrate", "--database-url", url) for _ in range(2)]
    for proc in runs:
        assert proc.returncode == 0, describe(proc)
    versions = [re.findall(r"\d+", proc.stdout) for proc in runs]
    assert versions[0] and versions[0] == versions[1], [describe(p) for p in runs]
    assert runs[0].stdout.strip() == runs[1].stdout.strip(), [describe(p) for p in runs]
    assert schema_snapshot(url) == before, "`wheelhouse migrate` changed an up-to-date schema"
    record("schema_version_reported", runs[0].stdout.strip())


# ---------------------------------------------------------------- freshness across instances

def test_upload_on_a_installs_through_b_and_staleness_window(pair, tmp_path):
    p = pair.project("inst")
    clients = Clients(tmp_path / "clients")
    d1 = wheel("wh-mi", "1.0", dest=tmp_path)
    proc = clients.twine_upload(p["a"], pair.tok, d1.path)
    assert proc.returncode == 0, describe(proc)
    target = clients.target()
    proc = clients.pip_install(index_url(p["b"], pair.tok), "wh-mi==1.0", target=target)
    assert proc.returncode == 0, describe(proc)
    assert clients.imported(target, "wh_mi") == "1.0"
    got = pair.b.get(f"{p['b']}/files/{d1.sha256}/{d1.filename}", auth=pair.alice)
    assert got.status_code == 200 and got.content == d1.data, describe_response(got)

    # The staleness window: B has the page cached; A takes an upload; how long until B shows it?
    windows = []
    for i in range(5):
        version = f"2.{i}"
        d = wheel("wh-mi", version, dest=subdir(tmp_path, f"w{i}"))
        before = page(pair.b, p, "wh-mi", pair.alice)
        assert before.status_code == 200 and d.filename not in before.text, describe_response(before)
        page(pair.b, p, "wh-mi", pair.alice)  # served from B's cache now
        up_ok(pair.a, p, d, "wh-mi", version, pair.alice)
        t_uploaded = time.monotonic()

        def seen():
            r = page(pair.b, p, "wh-mi", pair.alice)
            assert r.status_code == 200, describe_response(r)
            return d.filename in r.text

        ok, _ = poll(seen, timeout=5.0, interval=0.01)
        window = time.monotonic() - t_uploaded
        assert ok, f"B still does not list {d.filename} {window:.2f} s after A's 201"
        windows.append(window)
    record("staleness_upload_a_to_b_ms", {"max": ms(max(windows)),
                                           "median": ms(statistics.median(windows)),
                                           "all": [ms(w) for w in windows]})
    assert max(windows) < 2.0, windows


def test_same_file_name_raced_at_both_instances(pair, tmp_path):
    p = pair.project("race")
    warm(pair.a, pair.b)
    OVERLAPS.clear()
    outcomes = []
    for i in range(5):
        version = f"1.{i}"
        da = wheel("wh-race", version, payload=uuid.uuid4().bytes * 4096,
                   dest=subdir(tmp_path, f"a{i}"))
        db = wheel("wh-race", version, payload=uuid.uuid4().bytes * 4096,
                   dest=subdir(tmp_path, f"b{i}"))
        assert da.filename == db.filename and da.sha256 != db.sha256
        ra, rb = barrier_race([prepared_upload(pair.a, p, da, "wh-race", version, pair.alice),
                               prepared_upload(pair.b, p, db, "wh-race", version, pair.alice)])
        for r in (ra, rb):
            assert isinstance(r, requests.Response), repr(r)
        detail = [describe_response(ra), describe_response(rb)]
        assert sorted((ra.status_code, rb.status_code)) == [201, 400], detail
        loser = ra if ra.status_code == 400 else rb
        assert "already been taken" in loser.text, describe_response(loser)
        winner = da if ra.status_code == 201 else db
        outcomes.append("A" if winner is da else "B")
        won_at = pair.a if winner is da else pair.b
        # The winning instance lists the file at once; the other within its staleness window.
        for wh in (won_at, pair.b if won_at is pair.a else pair.a):
            files, _ = poll(lambda: [f for f in listed(wh, p, "wh-race", pair.alice)
                                     if f[0] == da.filename],
                            timeout=0 if wh is won_at else 2.0)
            assert files == [(da.filename, winner.sha256)], (
                "winner" if wh is won_at else "other", wh.port, files)
            got = wh.get(f"{wh.project_url(p['id'])}/files/{winner.sha256}/{winner.filename}",
                         auth=pair.alice)
            assert got.status_code == 200 and sha256(got.content) == winner.sha256, \
                describe_response(got)
    record("race_different_bytes_winners", outcomes)

    # Identical bytes at both instances: one creates the file, the other is a no-op success.
    codes = []
    for i in range(3):
        version = f"3.{i}"
        d = wheel("wh-race", version, payload=uuid.uuid4().bytes * 4096,
                   dest=subdir(tmp_path, f"s{i}"))
        ra, rb = barrier_race([prepared_upload(pair.a, p, d, "wh-race", version, pair.alice),
                               prepared_upload(pair.b, p, d, "wh-race", version, pair.alice)])
        for r in (ra, rb):
            assert isinstance(r, requests.Response), repr(r)
        pair_codes = sorted((ra.status_code, rb.status_code))
        codes.append(pair_codes)
        assert pair_codes in ([200, 201], [201, 201]), [describe_response(ra),
                                                        describe_response(rb)]
        for wh in (pair.a, pair.b):
            files, _ = poll(lambda: [f for f in listed(wh, p, "wh-race", pair.alice)
                                     if f[0] == d.filename], timeout=2.0)
            assert files == [(d.filename, d.sha256)], (wh.port, files)
    record("race_identical_bytes_codes", codes)
    record("race_request_overlap_fraction", [round(o, 2) for o in OVERLAPS])


def test_token_revoked_on_a_is_refused_by_b(pair, tmp_path):
    p = pair.project("revoke")
    d = wheel("wh-rv", "1.0", dest=tmp_path)
    up_ok(pair.a, p, d, "wh-rv", "1.0", pair.alice)
    victim = pair.a.token("alice", "api", name="victim")
    vtok, vauth = victim["token"], ("__token__", victim["token"])
    # B has seen the token recently: its lookup and the page are cached there.
    for _ in range(2):
        r = pair.b.get("user", headers={"PRIVATE-TOKEN": vtok})
        assert r.status_code == 200, describe_response(r)
        r = page(pair.b, p, "wh-rv", vauth)
        assert r.status_code == 200, describe_response(r)

    r = pair.a.http.delete(f"{pair.a.api}/personal_access_tokens/{victim['id']}",
                           headers={"PRIVATE-TOKEN": pair.tok}, timeout=30)
    assert r.status_code == 204, describe_response(r)
    t_revoked = time.monotonic()
    assert pair.a.get("user", headers={"PRIVATE-TOKEN": vtok}).status_code == 401

    windows = {}
    pending = {"rest": lambda: pair.b.get("user", headers={"PRIVATE-TOKEN": vtok}),
               "simple_page": lambda: page(pair.b, p, "wh-rv", vauth)}
    last = {}
    while pending and time.monotonic() - t_revoked < 5.0:
        for key, fn in list(pending.items()):
            r = fn()
            last[key] = r
            assert r.status_code in (200, 401, 403), describe_response(r)
            if r.status_code in (401, 403):
                windows[key] = time.monotonic() - t_revoked
                del pending[key]
        time.sleep(0.01)
    assert not pending, {k: describe_response(last[k]) for k in pending}
    record("revocation_a_to_b_ms", {k: ms(v) for k, v in windows.items()})
    assert max(windows.values()) < 2.0, windows
    # ... and it stays refused (no cache flapping back).
    for _ in range(5):
        assert pair.b.get("user", headers={"PRIVATE-TOKEN": vtok}).status_code == 401
        assert page(pair.b, p, "wh-rv", vauth).status_code in (401, 403)
        time.sleep(0.1)


def test_yank_on_a_is_seen_on_b(pair, tmp_path):
    p = pair.project("yank")
    d = wheel("wh-yk", "1.0", dest=tmp_path)
    up_ok(pair.a, p, d, "wh-yk", "1.0", pair.alice)
    for _ in range(2):  # cached on B
        r = page(pair.b, p, "wh-yk", pair.alice, json_page=True)
        assert r.status_code == 200 and r.json()["files"][0]["yanked"] is False, \
            describe_response(r)
    r = pair.a.http.put(f"{p['a']}/yank", json={"name": "wh-yk", "version": "1.0",
                                                 "reason": "multi-instance"},
                        auth=pair.alice, timeout=30)
    assert r.status_code == 200, describe_response(r)
    t_yanked = time.monotonic()

    def seen():
        r = page(pair.b, p, "wh-yk", pair.alice, json_page=True)
        assert r.status_code == 200, describe_response(r)
        return r.json()["files"][0]["yanked"] == "multi-instance"

    ok, _ = poll(seen, timeout=5.0)
    window = time.monotonic() - t_yanked
    assert ok, f"B does not show the yank {window:.2f} s after A's 200"
    record("yank_a_to_b_ms", ms(window))
    assert window < 2.0, window


# ---------------------------------------------------------------- migrate-data

@pytest.mark.file_store_only(reason="the one-box registry's blobs must be in its data dir for the migrated instance to find them")
def test_migrate_data_from_a_one_box_sqlite_registry(wheelhouse_bin, pg, mi_root, tmp_path):
    old = Wheelhouse(wheelhouse_bin, mi_root / "onebox" / "data", mi_root / "onebox" / "server.log",
                     database_url=None)  # SQLite in the data dir, whatever the suite's mode
    clients = Clients(tmp_path / "clients")
    old.start()
    try:
        old.user("olga")
        old.user("root", admin=True)
        tok = old.token("olga", "api", name="ci")["token"]
        auth = ("__token__", tok)
        old.group("box")
        old.member("olga", "owner", group="box")
        p = old.project("box/lib")
        dt = old.deploy_token("read_package_registry", project="box/lib")
        w = wheel("wh-box", "1.0", dest=tmp_path)
        proc = clients.twine_upload(old.project_url(p["id"]), tok, w.path)
        assert proc.returncode == 0, describe(proc)
        r = old.http.put(f"{old.project_url(p['id'])}/yank",
                         json={"name": "wh-box", "version": "1.0", "reason": "old"}, auth=auth,
                         timeout=30)
        assert r.status_code == 200, describe_response(r)
        r = old.http.put(f"{old.project_url(p['id'])}/unyank",
                         json={"name": "wh-box", "version": "1.0"}, auth=auth, timeout=30)
        assert r.status_code == 200, describe_response(r)
        before = page(old, p, "wh-box", auth, json_page=True)
        assert before.status_code == 200, describe_response(before)
        before_user = old.get("user", headers={"PRIVATE-TOKEN": tok}).json()
    finally:
        assert old.stop() == 0, old.log_tail()
    assert (old.data_dir / "wheelhouse.sqlite3").is_file(), list(old.data_dir.iterdir())

    url = new_db(pg, "moved")
    t0 = time.monotonic()
    proc = run_cli(wheelhouse_bin, "migrate-data", "--from", old.sqlite_url, "--to", url,
                   timeout=120)
    record("migrate_data_small_registry_s", round(time.monotonic() - t0, 2))
    assert proc.returncode == 0, describe(proc)

    new = instance(wheelhouse_bin, mi_root, "moved", url, old.data_dir / "blobs")
    new.start()
    try:
        r = new.get("user", headers={"PRIVATE-TOKEN": tok})
        assert r.status_code == 200, describe_response(r)
        assert (r.json()["id"], r.json()["username"]) == (before_user["id"], "olga"), (
            before_user, describe_response(r))
        after = page(new, p, "wh-box", auth, json_page=True)
        assert after.status_code == 200, describe_response(after)
        keep = ("filename", "hashes", "yanked", "upload-time", "size", "core-metadata")
        strip = lambda body: [{k: f.get(k) for k in keep} for f in body["files"]]  # noqa: E731
        assert strip(after.json()) == strip(before.json()), (before.text, after.text)
        assert [f["hashes"]["sha256"] for f in after.json()["files"]] == [w.sha256]
        target = clients.target()
        proc = clients.pip_install(index_url(new.project_url(p["id"]), tok), "wh-box==1.0",
                                   target=target)
        assert proc.returncode == 0, describe(proc)
        assert clients.imported(target, "wh_box") == "1.0"
        r = new.get(f"{new.project_url(p['id'])}/simple/wh-box",
                    auth=(dt["username"], dt["token"]))
        assert r.status_code == 200 and w.filename in r.text, describe_response(r)

        # New rows after the copy (the id sequences must have moved past the copied ids).
        new.user("newbie")
        tok2 = new.token("newbie", "api")["token"]
        new.member("newbie", "developer", project="box/lib")
        q = new.project("box/more")
        w2 = wheel("wh-box", "2.0", dest=subdir(tmp_path, "w2"))
        for pid in (p["id"], q["id"]):
            r = new.upload(pid, w2.data, w2.filename, name="wh-box", version="2.0",
                           auth=("__token__", tok2 if pid == p["id"] else tok))
            assert r.status_code == 201, describe_response(r)
        assert sorted(f for f, _ in listed(new, p, "wh-box", auth)) == sorted(
            [w.filename, w2.filename])
    finally:
        new.stop()

    proc = run_cli(wheelhouse_bin, "migrate-data", "--from", old.sqlite_url, "--to", url)
    assert proc.returncode == 1, describe(proc)


# ---------------------------------------------------------------- PostgreSQL outage
# Last in the module: these stop / pause the module's cluster (and bring it back).

def test_postgres_outage(pair, pg, tmp_path):
    p = pair.project("outage")
    d = wheel("wh-down", "1.0", dest=tmp_path)
    up_ok(pair.a, p, d, "wh-down", "1.0", pair.alice)
    other = pair.project("outage-other")  # never read through B before the outage
    up_ok(pair.a, other, d, "wh-down", "1.0", pair.alice)
    base = {"a": p["a"], "b": p["b"]}
    whs = {"a": pair.a, "b": pair.b}
    paths = ["simple", "simple/wh-down"]
    cached = {}
    for key, wh in whs.items():
        for path in paths:
            for accept in (None, JSON_T):
                hdrs = {"Accept": accept} if accept else None
                r1 = wh.get(f"{base[key]}/{path}", auth=pair.alice, headers=hdrs)
                r2 = wh.get(f"{base[key]}/{path}", auth=pair.alice, headers=hdrs)
                assert r1.status_code == r2.status_code == 200, describe_response(r2)
                cached[(key, path, accept)] = r2.content
    d2 = wheel("wh-down", "2.0", dest=subdir(tmp_path, "new"))
    figures = {}

    pg.stop("fast")
    try:
        t_down = time.monotonic()

        def check_cached_reads(label):
            worst = 0.0
            for (key, path, accept), body in cached.items():
                hdrs = {"Accept": accept} if accept else None
                t = time.monotonic()
                r = whs[key].get(f"{base[key]}/{path}", auth=pair.alice, headers=hdrs)
                worst = max(worst, time.monotonic() - t)
                assert r.status_code == 200, (label, describe_response(r))
                assert r.content == body, (label, key, path, accept)
            for wh in whs.values():
                assert wh.http.get(f"{wh.base}/-/health", timeout=10).status_code == 200, label
            figures[f"cached_read_slowest_ms_{label}"] = ms(worst)
            assert worst < 5.0, (label, worst)

        check_cached_reads("just_down")

        t = time.monotonic()
        r = pair.a.upload(p["id"], d2.data, d2.filename, name="wh-down", version="2.0",
                          auth=pair.alice)
        figures["upload_503_ms"] = ms(time.monotonic() - t)
        assert r.status_code == 503, describe_response(r)
        assert time.monotonic() - t < 10.0, figures

        t = time.monotonic()
        r = pair.b.http.put(f"{p['b']}/yank", json={"name": "wh-down", "version": "1.0"},
                            auth=pair.alice, timeout=30)
        figures["yank_503_ms"] = ms(time.monotonic() - t)
        assert r.status_code == 503, describe_response(r)
        assert time.monotonic() - t < 10.0, figures

        t = time.monotonic()
        r = pair.b.http.post(f"{pair.b.api}/groups",
                             json={"name": "down", "path": "down",
                                   "parent_id": pair.group["id"]},
                             headers={"PRIVATE-TOKEN": pair.tok}, timeout=30)
        figures["rest_post_503_ms"] = ms(time.monotonic() - t)
        assert r.status_code == 503, describe_response(r)
        assert time.monotonic() - t < 10.0, figures

        # A page this instance never served cannot be answered: 503, quickly (never a 401
        # that would tell the client its credentials are wrong, never a 500, never a hang).
        t = time.monotonic()
        r = pair.b.get(f"{other['b']}/simple/wh-down", auth=pair.alice)
        figures["uncached_read_ms"] = ms(time.monotonic() - t)
        figures["uncached_read_status"] = r.status_code
        assert r.status_code == 503, describe_response(r)
        assert time.monotonic() - t < 10.0, figures

        # Well past the 1 s auth-cache lifetime, the cached pages still answer.
        time.sleep(max(0.0, 1.5 - (time.monotonic() - t_down)))
        check_cached_reads("after_1_5s")
        figures["outage_checks_s"] = round(time.monotonic() - t_down, 2)
    finally:
        t = time.monotonic()
        pg.start()
        t_up = time.monotonic()
        figures["postgres_restart_s"] = round(t_up - t, 2)

    last = {}

    def upload_works():
        r = pair.a.upload(p["id"], d2.data, d2.filename, name="wh-down", version="2.0",
                          auth=pair.alice)
        last["r"] = r
        assert r.status_code in (201, 503), describe_response(r)
        return r.status_code == 201

    ok, _ = poll(upload_works, timeout=15.0, interval=0.25)
    figures["write_recovered_after_s"] = round(time.monotonic() - t_up, 2)
    assert ok, describe_response(last["r"])

    def b_sees_it():
        return d2.filename in page(pair.b, p, "wh-down", pair.alice).text

    ok, _ = poll(b_sees_it, timeout=15.0, interval=0.05)
    assert ok, "B never listed the upload made on A after the outage"
    r = pair.b.http.put(f"{p['b']}/yank", json={"name": "wh-down", "version": "1.0"},
                        auth=pair.alice, timeout=30)
    assert r.status_code == 200, describe_response(r)
    record("postgres_outage", figures)


def test_postgres_hung(pair, pg, tmp_path):
    """PostgreSQL hangs (SIGSTOP: connects are accepted, open connections stay up, nothing
    answers) — what a network partition or a wedged database server looks like from here.
    The contract is the same as for a stopped server: writes 503 within a few seconds (never
    a hang), cached reads keep answering 200 promptly, /-/health 200, recovery on its own."""
    p = pair.project("hung")
    d = wheel("wh-hung", "1.0", dest=tmp_path)
    up_ok(pair.a, p, d, "wh-hung", "1.0", pair.alice)
    cached = {}
    for key, wh in (("a", pair.a), ("b", pair.b)):
        for _ in range(2):
            r = page(wh, p, "wh-hung", pair.alice)
            assert r.status_code == 200, describe_response(r)
        cached[key] = r.content
    d2 = wheel("wh-hung", "2.0", dest=subdir(tmp_path, "new"))
    figures = {}

    def timed(label, fn, limit):
        """Measure fn() (its HTTP timeout is `limit`); returns the response or None."""
        t = time.monotonic()
        try:
            r = fn()
        except requests.Timeout:
            r = None
        figures[label] = {"ms": ms(time.monotonic() - t),
                          "status": r.status_code if r is not None else f"none in {limit} s"}
        return r

    # Measure everything first (reads, then writes), assert after PostgreSQL is back, so one
    # run shows every deviation.
    got = {}
    pg.pause()
    try:
        time.sleep(1.2)  # past the 250 ms change-counter re-check and the 1 s auth cache
        for key, wh in (("a", pair.a), ("b", pair.b)):
            got[f"cached_read_{key}"] = timed(f"cached_read_{key}", lambda: wh.http.get(
                f"{wh.project_url(p['id'])}/simple/wh-hung", auth=pair.alice, timeout=7), 7)
        got["health"] = timed("health", lambda: pair.b.http.get(f"{pair.b.base}/-/health",
                                                                timeout=5), 5)
        got["upload"] = timed("upload", lambda: pair.a.upload(
            p["id"], d2.data, d2.filename, name="wh-hung", version="2.0", auth=pair.alice,
            timeout=12), 12)
        got["yank"] = timed("yank", lambda: pair.b.http.put(
            f"{p['b']}/yank", json={"name": "wh-hung", "version": "1.0"}, auth=pair.alice,
            timeout=12), 12)
    finally:
        pg.resume()
        t_up = time.monotonic()
        record("postgres_hung", figures)

    problems = []
    for key in ("a", "b"):
        r, f = got[f"cached_read_{key}"], figures[f"cached_read_{key}"]
        if r is None or r.status_code != 200 or r.content != cached[key] or f["ms"] > 5000:
            problems.append(f"cached read on {key.upper()}: {f} (want 200, same body, < 5 s)")
    if got["health"] is None or got["health"].status_code != 200:
        problems.append(f"health: {figures['health']}")
    for key in ("upload", "yank"):
        r, f = got[key], figures[key]
        if r is None or r.status_code != 503 or f["ms"] > 10000:
            problems.append(f"{key}: {f} (want 503 within 10 s)")

    last = {}

    def upload_works():
        r = up(pair.a, p, d2, "wh-hung", "2.0", pair.alice)
        last["r"] = r
        return r.status_code in (200, 201)

    ok, _ = poll(upload_works, timeout=15.0, interval=0.25)
    figures["write_recovered_after_s"] = round(time.monotonic() - t_up, 2)
    figures["recovery_upload_status"] = last["r"].status_code  # 200: the 503'd upload was kept
    record("postgres_hung", figures)
    assert ok, describe_response(last["r"])
    assert not problems, "while PostgreSQL hung:\n" + "\n".join(problems)

