"""Issue 15, integrity and backups through the command line, on a registry a real server filled:

- `wheelhouse fsck [--verify-hashes]`: 0 on a sound registry; 1 naming the project, package, file
  and sha256 when a blob is corrupted, truncated or gone (a metadata blob too); blobs no row
  references are listed but do not fail it.
- `wheelhouse gc [--dry-run] [--min-age S]`: a dry run removes nothing; an orphan blob older than
  --min-age goes, a younger one stays, referenced blobs always stay, and stale temporary files go;
  run over and over while uploads go on, it takes nothing an upload needs.
- `wheelhouse backup DEST` of a RUNNING server while uploads go on (SQLite through VACUUM INTO,
  blobs hard-linked; in the PostgreSQL + S3 pass a logical copy into SQLite, blobs streamed from
  the bucket), `wheelhouse restore DEST --data-dir NEW`, a one-box server on NEW serving every file
  byte for byte; uploads are in the backup or not, never half; restore refuses a tampered backup
  and leaves NEW empty.

The blob layout read here is the local store's: <blob dir>/sha256/ab/cd/<sha256>."""
from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from distributions import sdist, wheel
import whlib
from whlib import describe, describe_response, parse_links, sha256, upload_ok

pytestmark = pytest.mark.timeout(240)

SUMMARY = re.compile(r"checked (\d+) files, (\d+) metadata blobs: (\d+) problems, (\d+) unreferenced blobs")


class Registry:
    """A server with alice (a token), project reg/lib, and what was uploaded (file name ->
    bytes, for byte-for-byte checks)."""

    def __init__(self, wh):
        self.wh = wh
        wh.user("alice")
        self.tok = wh.token("alice", "api")["token"]
        self.auth = ("__token__", self.tok)
        wh.group("reg", "private")
        wh.member("alice", "owner", group="reg")
        self.project = wh.project("reg/lib", "private")
        self.pid = self.project["id"]
        self.sent: dict[str, bytes] = {}

    def put(self, dist, name, version):
        upload_ok(self.wh, self.pid, dist, name, version, self.auth)
        self.sent[dist.filename] = dist.data

    def blob(self, sha: str) -> Path:
        root = self.wh.blob_dir or self.wh.data_dir / "blobs"
        return root / "sha256" / sha[:2] / sha[2:4] / sha

    def listed(self, name: str, wh=None) -> dict[str, str]:
        """file name -> absolute URL, from the project's simple page for `name`."""
        wh = wh or self.wh
        r = wh.get(f"{wh.project_url(self.pid)}/simple/{name}/", auth=self.auth)
        if r.status_code == 404:
            return {}
        assert r.status_code == 200, describe_response(r)
        return {link.filename: urllib.parse.urljoin(r.url, link.href) for link in parse_links(r.text)}

    def fsck(self, *args, wh=None):
        proc = (wh or self.wh).cli("fsck", *args, timeout=300)
        m = SUMMARY.search(proc.stdout + proc.stderr)
        assert m, f"no summary line\n{describe(proc)}"
        return proc, tuple(int(x) for x in m.groups())


@pytest.fixture
def reg(make_server):
    return Registry(make_server(name="integrity"))


def output(proc) -> str:
    return proc.stdout + proc.stderr


# ---------------------------------------------------------------- fsck

def test_fsck_is_clean_on_a_sound_registry(reg):
    for i in range(3):
        reg.put(wheel("wh-sound", f"1.{i}"), "wh-sound", f"1.{i}")
    reg.put(sdist("wh-sound", "1.0"), "wh-sound", "1.0")
    for args in ((), ("--verify-hashes",)):
        proc, (files, meta, problems, unreferenced) = reg.fsck(*args)
        assert proc.returncode == 0, describe(proc)
        assert (files, problems, unreferenced) == (4, 0, 0), describe(proc)
        assert meta >= 3, describe(proc)  # each wheel's METADATA (and the sdist's PKG-INFO) kept
    assert "\r" not in proc.stderr, "a progress bar where stderr is no terminal"


@pytest.mark.file_store_only("corrupts blob files in the blob directory")
def test_fsck_names_corrupted_truncated_and_missing_blobs(reg):
    good = wheel("wh-good", "1.0", payload=10_000)
    bad = wheel("wh-bad", "1.0", payload=10_000)
    reg.put(good, "wh-good", "1.0")
    reg.put(bad, "wh-bad", "1.0")
    path = reg.blob(bad.sha256)
    assert path.is_file(), f"no blob at {path}"
    original = path.read_bytes()

    def rewrite(data: bytes):  # a new inode: never write through a hard link someone shares
        path.unlink(missing_ok=True)
        path.write_bytes(data)

    flipped = bytearray(original)
    flipped[len(flipped) // 2] ^= 0xFF
    rewrite(bytes(flipped))  # same size, wrong bytes: only --verify-hashes can tell
    proc, (_, _, problems, _) = reg.fsck("--verify-hashes")
    assert proc.returncode == 1 and problems == 1, describe(proc)
    lines = [line for line in output(proc).splitlines() if bad.sha256 in line]
    assert lines, f"no line names {bad.sha256}\n{describe(proc)}"
    assert any("reg/lib" in line and "wh-bad" in line for line in lines), lines
    assert good.sha256 not in output(proc), describe(proc)

    rewrite(original[:-100])  # truncated: the size tells, with or without the flag
    for args in ((), ("--verify-hashes",)):
        proc, (_, _, problems, _) = reg.fsck(*args)
        assert proc.returncode == 1 and problems == 1 and bad.sha256 in output(proc), describe(proc)

    path.unlink()  # gone
    proc, (_, _, problems, _) = reg.fsck()
    assert proc.returncode == 1 and problems == 1 and bad.filename in output(proc), describe(proc)

    rewrite(original)
    proc, (_, _, problems, _) = reg.fsck("--verify-hashes")
    assert proc.returncode == 0 and problems == 0, describe(proc)

    meta = reg.blob(sha256(good.metadata))  # the wheel's METADATA, served at <file>.metadata
    assert meta.is_file(), f"no metadata blob at {meta}"
    kept = meta.read_bytes()
    meta.unlink()
    proc, (_, _, problems, _) = reg.fsck()
    assert proc.returncode == 1 and problems == 1, describe(proc)
    assert "wh-good" in output(proc) or good.filename in output(proc), describe(proc)
    meta.write_bytes(kept)
    assert reg.fsck("--verify-hashes")[0].returncode == 0


# ---------------------------------------------------------------- gc

def plant_orphan(reg, size=5000, age=0.0) -> Path:
    data = os.urandom(size)
    path = reg.blob(sha256(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if age:
        t = time.time() - age
        os.utime(path, (t, t))
    return path


@pytest.mark.file_store_only("plants blobs and temporary files in the blob directory")
def test_gc_dry_run_min_age_and_stale_temporary_files(reg):
    for i in range(2):
        reg.put(wheel("wh-kept", f"1.{i}"), "wh-kept", f"1.{i}")
    kept = sorted(p for p in (reg.wh.data_dir / "blobs" / "sha256").rglob("*") if p.is_file())
    orphan = plant_orphan(reg)
    old_orphan = plant_orphan(reg, age=7200)
    tmp = reg.wh.data_dir / "blobs" / "tmp"
    tmp.mkdir(exist_ok=True)
    stale = tmp / "upload-stale-e2e"
    stale.write_bytes(b"half an upload")
    t = time.time() - 3 * 86400
    os.utime(stale, (t, t))

    proc, (_, _, problems, unreferenced) = reg.fsck()
    assert proc.returncode == 0 and (problems, unreferenced) == (0, 2), describe(proc)
    assert orphan.name in output(proc) and old_orphan.name in output(proc), describe(proc)

    proc = reg.wh.cli("gc", "--dry-run", "--min-age", "0")
    assert proc.returncode == 0, describe(proc)
    assert orphan.name in output(proc) and old_orphan.name in output(proc), describe(proc)
    assert orphan.exists() and old_orphan.exists() and stale.exists(), "a dry run removed something"

    proc = reg.wh.cli("gc")  # default --min-age 3600: only the two-hour-old orphan goes
    assert proc.returncode == 0, describe(proc)
    assert orphan.exists() and not old_orphan.exists(), describe(proc)
    assert f"removed unreferenced blob {old_orphan.name}" in output(proc), describe(proc)
    assert f"removed unreferenced blob {orphan.name}" not in output(proc), describe(proc)
    assert not stale.exists(), f"a three-day-old temporary file stayed\n{describe(proc)}"

    proc = reg.wh.cli("gc", "--min-age", "0")
    assert proc.returncode == 0 and orphan.name in output(proc), describe(proc)
    assert not orphan.exists(), describe(proc)
    now = sorted(p for p in (reg.wh.data_dir / "blobs" / "sha256").rglob("*") if p.is_file())
    assert now == kept, "gc removed a referenced blob"
    proc, (_, _, problems, unreferenced) = reg.fsck("--verify-hashes")
    assert proc.returncode == 0 and (problems, unreferenced) == (0, 0), describe(proc)
    for name, data in reg.sent.items():
        url = reg.listed("wh-kept")[name]
        r = reg.wh.get(url, auth=reg.auth)
        assert r.status_code == 200 and r.content == data, describe_response(r)


@pytest.mark.file_store_only("gc of the local blob directory while uploads run")
def test_gc_while_uploads_run_takes_nothing_an_upload_needs(reg):
    """The sharp case: an old orphan blob (a crash's leftover, two hours old, so gc may take it)
    with the very bytes an upload is sending. The upload may find the blob there and commit a row
    naming it while gc decides to remove it; gc re-checks under the blob lock, so whichever wins,
    the row's blob exists afterwards. gc runs over and over while the uploads go on."""
    dists = [wheel("wh-gc-race", f"1.{i}", payload=50_000) for i in range(96)]
    stop = threading.Event()
    runs = []

    def plant(d):
        path = reg.blob(d.sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(d.data)
        t = time.time() - 7200
        os.utime(path, (t, t))

    def collector():
        while not stop.is_set():
            proc = reg.wh.cli("gc")  # default --min-age 3600: the planted orphans qualify
            assert proc.returncode == 0, describe(proc)
            runs.append(output(proc).count("removed unreferenced blob"))

    def send(d):
        plant(d)  # just before its upload, so gc runs meet uploads of planted bytes
        r = reg.wh.upload(reg.pid, d.data, d.filename, name="wh-gc-race",
                          version=d.filename.split("-")[1], auth=reg.auth)
        return d, r.status_code

    with concurrent.futures.ThreadPoolExecutor(7) as pool:
        gc = pool.submit(collector)
        results = []
        for batch in range(0, len(dists), 6):  # six at a time, a few milliseconds apart
            results += list(pool.map(send, dists[batch:batch + 6]))
            time.sleep(0.02)
        stop.set()
        gc.result()
    refused = [(d.filename, s) for d, s in results if s != 201]
    assert not refused, refused
    listed = reg.listed("wh-gc-race")
    for d, _ in results:
        assert d.filename in listed, f"{d.filename} got 201 but is not listed"
        r = reg.wh.get(listed[d.filename], auth=reg.auth)
        assert r.status_code == 200 and r.content == d.data, f"{d.filename}: {describe_response(r)}"
    proc, (files, _, problems, unreferenced) = reg.fsck("--verify-hashes")
    assert proc.returncode == 0 and problems == 0 and files == len(dists), describe(proc)
    print(f"[integrity] gc ran {len(runs)} times during {len(dists)} uploads, "
          f"removing {sum(runs)} planted orphans before their upload committed")


# ---------------------------------------------------------------- backup and restore

def restore(wh, src: Path, target: Path) -> subprocess.CompletedProcess:
    """`wheelhouse restore SRC --data-dir TARGET` (not wh.cli: that adds wh's own data dir)."""
    return subprocess.run([str(wh.binary), "restore", str(src), "--data-dir", str(target)],
                          capture_output=True, text=True, timeout=300, env=wh.environment(),
                          stdin=subprocess.DEVNULL)


def backup_files(dest: Path) -> list[Path]:
    return sorted(p for p in dest.rglob("*") if p.is_file())


def test_backup_of_a_running_server_restores_byte_for_byte(reg, ops_server, tmp_path):
    wh = reg.wh
    for i in range(40):
        reg.put(wheel("wh-bk", f"0.{i}", payload=20_000), "wh-bk", f"0.{i}")
    reg.put(wheel("wh-bk", "0.999", payload=8 << 20), "wh-bk", "0.999")
    before_backup = set(reg.sent)

    stop = threading.Event()
    timeline = []  # (filename, bytes, status, acknowledged at)

    def uploader(k):
        i = 0
        while not stop.is_set():
            d = wheel("wh-bk", f"{k + 1}.{i}", payload=20_000)
            r = wh.upload(reg.pid, d.data, d.filename, name="wh-bk", version=f"{k + 1}.{i}",
                          auth=reg.auth)
            timeline.append((d.filename, d.data, r.status_code, time.monotonic()))
            i += 1

    dest = tmp_path / "backup"
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(uploader, k) for k in range(3)]
        time.sleep(0.3)
        started = time.monotonic()
        proc = wh.cli("backup", dest, timeout=300)
        finished = time.monotonic()
        time.sleep(0.3)
        stop.set()
        for f in futures:
            f.result()
    assert proc.returncode == 0, describe(proc)
    assert all(s == 201 for _, _, s, _ in timeline), [s for *_, s, _ in timeline if s != 201]
    for name, data, _, _ in timeline:
        reg.sent[name] = data
    during = [n for n, _, _, t in timeline if started <= t <= finished]
    after_backup = {n for n, _, _, t in timeline if t > finished}
    before = before_backup | {n for n, _, _, t in timeline if t < started}
    print(f"[integrity] backup took {finished - started:.2f}s; {len(during)} uploads acknowledged "
          f"during it, {len(after_backup)} after")

    # The manifest: versions, the database's checksum and every blob's.
    manifest = json.loads((dest / "manifest.json").read_text())
    assert {"format_version", "created_at", "wheelhouse_version", "schema_version", "database",
            "blobs"} <= set(manifest), manifest.keys()
    db = dest / manifest["database"]["file"]
    assert hashlib.sha256(db.read_bytes()).hexdigest() == manifest["database"]["sha256"]
    in_manifest = {b["sha256"]: b["size"] for b in manifest["blobs"]}
    for b in backup_files(dest / "blobs"):
        assert in_manifest.get(b.name) == b.stat().st_size, f"{b} not in the manifest as it is"
    assert len(in_manifest) == len(backup_files(dest / "blobs")), "manifest and blobs/ differ"

    new = tmp_path / "restored"
    proc = restore(wh, dest, new)
    assert proc.returncode == 0, describe(proc)
    # A restored registry is a one-box one whatever it came from: SQLite and blobs in NEW.
    back = ops_server(name="restored", data_dir=new, database_url=None, blob_dir=new / "blobs")
    listed = reg.listed("wh-bk", wh=back)
    missing = sorted(before - set(listed))
    assert not missing, f"acknowledged before the backup began, not in it: {missing[:10]}"
    late = sorted(after_backup & set(listed))
    assert not late, f"acknowledged after the backup ended, yet in it: {late[:10]}"
    for name, url in listed.items():
        assert name in reg.sent, f"{name} in the backup was never uploaded"
        r = back.get(url, auth=reg.auth)
        assert r.status_code == 200 and r.content == reg.sent[name], f"{name}: {describe_response(r)}"
    for name in reg.sent.keys() - listed.keys():  # not in the backup: not half there either
        sha = hashlib.sha256(reg.sent[name]).hexdigest()
        r = back.get(f"{back.project_url(reg.pid)}/files/{sha}/{name}", auth=reg.auth)
        assert r.status_code == 404, f"{name}: {describe_response(r)}"
    proc, (files, _, problems, unreferenced) = reg.fsck("--verify-hashes", wh=back)
    assert proc.returncode == 0 and problems == 0 and files == len(listed), describe(proc)
    assert unreferenced == 0, describe(proc)
    print(f"[integrity] restored {len(listed)} files, all byte for byte")

    # The original is untouched by it all.
    assert reg.fsck("--verify-hashes")[0].returncode == 0


def test_restore_refuses_a_tampered_backup_and_leaves_the_target_empty(reg, tmp_path):
    wh = reg.wh
    for i in range(3):
        reg.put(wheel("wh-tamper", f"1.{i}", payload=30_000), "wh-tamper", f"1.{i}")
    dest = tmp_path / "backup"
    proc = wh.cli("backup", dest)
    assert proc.returncode == 0, describe(proc)
    # DEST must not exist or be empty.
    proc = wh.cli("backup", dest)
    assert proc.returncode != 0, "backup wrote into a backup that is already there"

    def replace(path: Path, data: bytes):  # a new inode: the blobs are hard links to the live ones
        path.unlink()
        path.write_bytes(data)

    blob = next(p for p in backup_files(dest / "blobs"))
    db = next(p for p in dest.iterdir() if p.name.startswith("wheelhouse.sqlite"))

    def flip_blob(d: Path):
        p = d / blob.relative_to(dest)
        data = bytearray(p.read_bytes())
        data[len(data) // 2] ^= 1
        replace(p, bytes(data))

    def drop_blob(d: Path):
        (d / blob.relative_to(dest)).unlink()

    def flip_database(d: Path):
        p = d / db.name
        data = bytearray(p.read_bytes())
        data[-10] ^= 1
        replace(p, bytes(data))

    def edit_manifest(d: Path):
        p = d / "manifest.json"
        text = p.read_text()
        sha = blob.name if re.fullmatch(r"[0-9a-f]{64}", blob.name) else None
        assert sha and sha in text, "the blob's sha256 is not in the manifest"
        replace(p, text.replace(sha, "0" * 64, 1).encode())

    def drop_manifest(d: Path):
        (d / "manifest.json").unlink()

    for tamper in (flip_blob, drop_blob, flip_database, edit_manifest, drop_manifest):
        copy = tmp_path / f"copy-{tamper.__name__}"
        shutil.copytree(dest, copy)
        tamper(copy)
        target = tmp_path / f"new-{tamper.__name__}"
        proc = restore(wh, copy, target)
        assert proc.returncode != 0, f"{tamper.__name__}: restore accepted it\n{describe(proc)}"
        assert not target.exists() or not any(target.iterdir()), \
            f"{tamper.__name__}: restore left {[p.name for p in target.rglob('*')][:10]}"
        assert output(proc).strip(), f"{tamper.__name__}: no word of why\n{describe(proc)}"

    full = tmp_path / "not-empty"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    proc = restore(wh, dest, full)
    assert proc.returncode != 0 and (full / "keep.txt").read_text() == "mine", describe(proc)
    assert [p.name for p in full.iterdir()] == ["keep.txt"], describe(proc)
    # The untouched backup does restore.
    proc = restore(wh, dest, tmp_path / "good")
    assert proc.returncode == 0, describe(proc)
    # The live registry was never touched through the hard links.
    assert reg.fsck("--verify-hashes")[0].returncode == 0


@pytest.mark.skipif(not whlib.postgres_mode(), reason="PostgreSQL pass only: the way back into PostgreSQL")
def test_postgres_procedure_backup_restore_migrate_copy_fsck(reg, ops_server, tmp_path):
    """docs/operations.md's PostgreSQL procedure, step by step, on the suite's database (and its
    bucket, in the S3 pass): backup of the running registry, restore into a data dir,
    `migrate-data` into a new, empty PostgreSQL database, `blobs copy` into the new store,
    `fsck --verify-hashes`; then a server on the new database and store serves every file byte for
    byte, and the audit events came along."""
    wh = reg.wh
    for i in range(5):
        reg.put(wheel("wh-pgback", f"1.{i}", payload=30_000 + i), "wh-pgback", f"1.{i}")
    events = wh.cli("audit", "--json", "--limit", "1000")
    assert events.returncode == 0, describe(events)
    # 1, 2: backup and restore.
    dest, restored = tmp_path / "backup", tmp_path / "restored"
    proc = wh.cli("backup", dest, timeout=300)
    assert proc.returncode == 0, describe(proc)
    proc = restore(wh, dest, restored)
    assert proc.returncode == 0, describe(proc)
    # The registry to be: a new database, and the new store (a bucket prefix of its own in the S3
    # pass, a blob directory otherwise).
    target = ops_server(name="pg-back-target", data_dir=tmp_path / "target",
                        database_url=whlib.SESSION_POSTGRES.new_database("pgback"), start=False)
    store = target.blob_store.url if target.blob_store else f"file:{target.data_dir / 'blobs'}"
    # 3: migrate-data (it takes no storage options: run it bare).
    proc = subprocess.run([str(wh.binary), "migrate-data", "--from", f"sqlite:{restored / 'wheelhouse.sqlite3'}",
                           "--to", target.database_url], capture_output=True, text=True, timeout=300,
                          env=target.environment(), stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, describe(proc)
    # 4: blobs copy, from the restored directory into the new store.
    proc = target.cli("blobs", "copy", "--from", f"file:{restored / 'blobs'}", "--to", store, timeout=300)
    assert proc.returncode == 0 and ", 0 failed" in proc.stdout, describe(proc)
    # 5: fsck, then serve.
    proc, (files, _, problems, unreferenced) = reg.fsck("--verify-hashes", wh=target)
    assert proc.returncode == 0 and problems == 0 and files == len(reg.sent), describe(proc)
    target.start()
    listed = reg.listed("wh-pgback", wh=target)
    assert sorted(listed) == sorted(reg.sent), listed
    for name, url in listed.items():
        r = target.get(url, auth=reg.auth)
        assert r.status_code == 200 and r.content == reg.sent[name], f"{name}: {describe_response(r)}"
    moved = target.cli("audit", "--json", "--limit", "1000")
    assert moved.returncode == 0, describe(moved)
    assert moved.stdout == events.stdout, "the audit events did not come along unchanged"
