"""Scenario 8: blobs in an S3-compatible bucket (issue 13), against one local moto server, with the
same measurements on the file store in the same run for comparison:

- uploads of a 100 MiB and a 1 GiB wheel through the upload API on `--blob-store s3://...` and on
  the file store: MiB/s, and the server's peak RSS (VmHWM, reset before each size) above idle;
  boto3 putting the same file straight into the bucket is shown for reference;
- a 16 MiB file in proxy mode, fetched `--fetches` times one after another and as many at once,
  against the SAME client fetching the object straight from moto with a SigV4-signed GET
  (target: proxy at least 0.7x direct);
- redirect mode (`--s3-download redirect`, on a second moto without signature checks, since moto
  cannot check presigned URLs): time to the first byte of a GET through Wheelhouse that follows
  the 302, against a GET of a presigned URL of the same object (median and p90, and the 302 alone);
- the simple pages (wrk) on s3:// against file: (target: at least 0.95x; they never touch the
  bucket, which moto's request log must confirm).

Run on its own: `benchmarks/run objectstore [--bin PATH] [--quick] ...` (see README.md). Everything
listens on 127.0.0.1 and is stopped on exit, Ctrl-C or error."""
from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

import s3_server
from distributions import Dist
from server import proc_status_kib

from . import loaders
from .client import links, request
from .common import HOST, JSON_ACCEPT, MiB, BenchError, log
from .loaders import Catalogue
from .peers import Wrk, ensure_system_tools
from .processes import PROCS
from .reporting import cell, fmt_ms, fmt_ratio, git_revision, met, render
from .scenarios import Run
from .wheelhouse import Wheelhouse

WH_S3, WH_FILE, DIRECT = "WH s3", "WH file", "S3 direct"
BUCKET = "wheelhouse-bench"
PREFIX = "bench"  # keys are bench/sha256/<hex>: the prefix is part of what is measured
REDIRECT_BUCKET = "wheelhouse-bench-redirect"


def options(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchmarks/run objectstore", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", type=Path, help="a Wheelhouse binary (default: build the release binary)")
    parser.add_argument("--quick", action="store_true",
                        help="1 s loads, one round, one upload of each size, 8 fetches, 10 redirects")
    parser.add_argument("--seconds", type=int, help="seconds per wrk run (default 3, --quick 1)")
    parser.add_argument("--rounds", type=int, help="rounds alternating s3 and file (pages) or proxy and direct "
                        "(downloads), the median kept (default 3, --quick 1)")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of wrk warm-up before each run (default 1)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--upload-mib", type=int, nargs="+", default=[100, 1024],
                        help="sizes of the large uploads (default 100 1024)")
    parser.add_argument("--upload-runs", type=int, help="uploads of the smallest size per store, the median kept "
                        "(default 3, --quick 1); the larger sizes are uploaded once")
    parser.add_argument("--download-mib", type=int, default=16)
    parser.add_argument("--fetches", type=int, help="fetches of the download, one after another and all at once "
                        "(default 16, --quick 8)")
    parser.add_argument("--redirects", type=int, help="time-to-first-byte samples of each redirect-mode path "
                        "(default 40, --quick 10)")
    parser.add_argument("--many-files", type=int, default=500, help="files on the larger page (default 500)")
    parser.add_argument("--work-dir", type=Path, help="where data goes (default: a new directory in /tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (1 if args.quick else 3)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.upload_runs = args.upload_runs or (1 if args.quick else 3)
    args.fetches = args.fetches or (8 if args.quick else 16)
    args.redirects = args.redirects or (10 if args.quick else 40)
    args.upload_mib = sorted(set(args.upload_mib))
    return args


# ---------------------------------------------------------------------------------------------
# The servers


class StoreWheelhouse(Wheelhouse):
    """A Wheelhouse whose blobs live in a bucket of `s3` (an s3_server.S3Server) under `prefix`,
    or on the file store of its data dir when `s3` is None. The harness's Server gives the server
    and every admin command the same store options and the store's credentials only."""

    def __init__(self, binary: Path, work: Path, s3=None, prefix: str = "", serve_args=()) -> None:
        super().__init__(binary, work)
        self.s3, self.prefix = s3, prefix
        self.serve_args = list(serve_args)
        if s3 is not None:
            self.blob_store = s3.store(prefix)

    def key(self, sha256: str) -> str:
        """The bucket key of a blob (issue 13's layout)."""
        return (f"{self.prefix}/" if self.prefix else "") + f"sha256/{sha256}"


@dataclass
class Registry:
    """One Wheelhouse with the benchmark's user and projects: `main` holds the measured pages and
    the download, `uploads` the large uploads."""
    name: str
    wh: StoreWheelhouse
    cat: Catalogue | None = None
    file_path: str = ""  # the download's path, as main's page links it

    def setup(self) -> "Registry":
        wh = self.wh
        wh.stop()
        shutil.rmtree(wh.data_dir, ignore_errors=True)
        wh.start()
        wh.user("bench", admin=True)
        token = wh.token("bench", "api", name="bench")["token"]
        corp = wh.group("corp", "public")["id"]
        main = wh.project("corp/main", "public")["id"]
        uploads = wh.project("corp/uploads", "public")["id"]
        self.cat = Catalogue(token=token, main=main, secret=main, uploads=uploads, corp=corp, fleet=corp,
                             fleet_projects=[])
        return self

    @property
    def simple(self) -> str:
        return f"/api/v4/projects/{self.cat.main}/packages/pypi/simple/"

    def upload(self, project: int, dist: Dist, name: str, version: str) -> float:
        return loaders.upload(self.wh, self.cat, project, dist, name, version, timeout=600)


def check_binary(binary: Path) -> None:
    """A binary without object storage cannot run any part of this scenario: say so at once."""
    done = subprocess.run([str(binary), "serve", "--help"], capture_output=True, text=True, timeout=60)
    if "--blob-store" not in done.stdout + done.stderr:
        raise BenchError(f"{binary} has no --blob-store (`wheelhouse serve --help`): it predates issue 13")


def start_s3(work: Path, name: str, check_signatures: bool, bucket: str) -> s3_server.S3Server:
    """A moto server (its own session, stopped on exit) with one empty bucket, without the
    harness's TCP forwarder (a Python relay would be what is measured)."""
    try:
        s3 = s3_server.S3Server(work / name, bucket=bucket, check_signatures=check_signatures,
                                forwarder=False).start()
    except (s3_server.S3NotFound, s3_server.S3ServerError) as error:
        raise BenchError(str(error)) from None
    PROCS.adopt(s3.proc, f"moto ({name})", s3.log_path)
    return s3


def presigning_client(s3: s3_server.S3Server):
    """A boto3 client whose presigned URLs are SigV4 (boto3's own default for S3 is still the
    older query signature), as Wheelhouse's redirects are."""
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=s3.moto_endpoint, region_name=s3.region,
                        aws_access_key_id=s3.access_key, aws_secret_access_key=s3.secret_key,
                        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))


# ---------------------------------------------------------------------------------------------
# The client: timed fetches on the standard library, the same for every server


@dataclass
class Fetch:
    """One GET, timed from the request's first byte sent: to the first body byte (`ttfb`) and to
    the last (`total`); `status` and `bytes` of the final answer, `sha256` when asked for."""
    status: int
    ttfb: float
    total: float
    bytes: int
    sha256: str = ""


def split_url(url: str) -> tuple[int, str]:
    """(port, path with query) of an absolute http://127.0.0.1 URL."""
    parts = urlsplit(url)
    if parts.hostname != HOST or parts.scheme != "http":
        raise BenchError(f"{url} is not on http://{HOST}")
    return parts.port, parts.path + (f"?{parts.query}" if parts.query else "")


def fetch(port: int, path: str, headers: dict | None = None, follow: bool = False, digest: bool = False) -> Fetch:
    """GET on a connection of its own, the body read in 1 MiB blocks and dropped (or hashed);
    with `follow`, a 302 is followed to its Location as pip does, the clock still running."""
    start = time.monotonic()
    buffer = bytearray(MiB)
    hasher = hashlib.sha256() if digest else None
    while True:
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        try:
            conn.request("GET", path, headers=headers or {})
            resp = conn.getresponse()
            if follow and resp.status in (301, 302, 303, 307):
                resp.read()
                port, path = split_url(resp.getheader("Location", ""))
                headers, follow = {}, False
                continue
            first = resp.read1(64 * 1024)  # whatever the first read brings: the first byte's time
            ttfb = time.monotonic() - start
            size = len(first)
            if hasher:
                hasher.update(first)
            view = memoryview(buffer)
            while first and (n := resp.readinto(buffer)):
                if hasher:
                    hasher.update(view[:n])
                size += n
            total = time.monotonic() - start
            return Fetch(resp.status, ttfb, total, size, hasher.hexdigest() if hasher else "")
        finally:
            conn.close()


@dataclass
class Series:
    """`count` fetches of one file: one after another (`concurrent` 1) or all at once. MiB/s is
    the bytes over the wall time; the latencies are each fetch's whole time."""
    count: int
    concurrent: int
    seconds: float
    mib: float
    fetches: list[Fetch] = field(default_factory=list)

    @property
    def mib_s(self) -> float:
        return self.mib / self.seconds

    @property
    def p50_ms(self) -> float:
        return percentile([f.total for f in self.fetches], 50) * 1000

    @property
    def p90_ms(self) -> float:
        return percentile([f.total for f in self.fetches], 90) * 1000


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank percentile (p50 of 40 samples is the 20th smallest)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(len(ordered) * pct / 100) - 1))]


def series(port: int, path: str, headers: dict, count: int, concurrent: bool, size: int) -> Series:
    """`count` fetches, sequential or all at once (threads released together); each must answer
    200 with `size` bytes."""
    done: list[Fetch] = []
    if concurrent:
        gate = threading.Barrier(count + 1)
        lock = threading.Lock()
        errors: list[BaseException] = []

        def one():
            gate.wait()
            try:
                result = fetch(port, path, headers)
                with lock:
                    done.append(result)
            except BaseException as error:  # reported below, on the main thread
                errors.append(error)

        threads = [threading.Thread(target=one) for _ in range(count)]
        for t in threads:
            t.start()
        gate.wait()
        start = time.monotonic()
        for t in threads:
            t.join()
        seconds = time.monotonic() - start
        if errors:
            raise BenchError(f"a concurrent fetch of {path} failed: {errors[0]!r}")
    else:
        start = time.monotonic()
        for _ in range(count):
            done.append(fetch(port, path, headers))
        seconds = time.monotonic() - start
    bad = [f for f in done if f.status != 200 or f.bytes != size]
    if bad:
        raise BenchError(f"GET {path} answered {bad[0].status} with {bad[0].bytes} bytes (expected 200, {size})")
    return Series(count, count if concurrent else 1, seconds, count * size / MiB, done)


def signed_get_headers(s3, key: str) -> dict[str, str]:
    """The headers of a GET of `key` signed with SigV4 by botocore, as any AWS client sends it
    (moto with signature checks cannot serve presigned URLs); valid for some minutes, so one
    signature serves a whole series."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    req = AWSRequest(method="GET", url=f"{s3.moto_endpoint}/{s3.bucket}/{key}")
    S3SigV4Auth(Credentials(s3.access_key, s3.secret_key), "s3", s3.region).add_auth(req)
    return dict(req.headers.items())


# ---------------------------------------------------------------------------------------------
# The measurements


def uploads(bench: Run, regs: dict[str, Registry], s3) -> None:
    """For each size, `upload_runs` (smallest size) or one upload to each store, alternating file
    and s3, each server's VmHWM reset before the size and read after it; then boto3 puts the same
    file straight into the bucket (8 MiB parts, 3 at a time, as the server's own multipart
    upload sends them), for reference."""
    args, extra, notes = bench.args, bench.extra, bench.notes
    made = bench.work / "made"
    for reg in regs.values():
        reg.upload(reg.cat.uploads, loaders.bench_wheel("upload-warmup", "1.0.1"), "upload-warmup", "1.0.1")
    time.sleep(0.5)
    for name, reg in regs.items():
        extra[f"upload_idle_rss_kib|{name}"] = reg.wh.memory_kib()["VmRSS"]
    client = s3.client
    from boto3.s3.transfer import TransferConfig
    transfer = TransferConfig(multipart_threshold=16 * MiB, multipart_chunksize=8 * MiB, max_concurrency=3)
    for mib in args.upload_mib:
        runs = args.upload_runs if mib == args.upload_mib[0] else 1
        log(f"uploads: {runs} x {mib} MiB to each store")
        dists = [loaders.bench_wheel("upload-big", f"{mib}.{i}.1", payload=mib * MiB, dest=made) for i in range(runs)]
        for dist in dists:
            dist.hexdigests()  # before the clock starts: the form carries them
        for name, reg in regs.items():
            try:
                reg.wh.reset_peak_memory()
            except OSError:
                notes.append(f"could not reset VmHWM of {name}: its peak includes what came before")
        for i, dist in enumerate(dists):
            for name, reg in regs.items():
                seconds = reg.upload(reg.cat.uploads, dist, "upload-big", f"{mib}.{i}.1")
                extra.setdefault(f"upload_{mib}_mib_s|{name}", []).append(dist.size / MiB / seconds)
                log(f"  {name}: {dist.size / MiB / seconds:,.0f} MiB/s")
        for name, reg in regs.items():
            extra[f"upload_{mib}_peak_rss_kib|{name}"] = reg.wh.memory_kib()["VmHWM"]
        key = regs[WH_S3].wh.key(dists[0].sha256)
        head = client.head_object(Bucket=s3.bucket, Key=key)
        if head["ContentLength"] != dists[0].size:
            raise BenchError(f"the bucket's {key} holds {head['ContentLength']} bytes, not {dists[0].size}")
        direct = f"direct-upload/{dists[0].filename}"
        start = time.monotonic()
        client.upload_file(str(dists[0].path), s3.bucket, direct, Config=transfer)
        extra[f"upload_{mib}_mib_s|{DIRECT}"] = [dists[0].size / MiB / (time.monotonic() - start)]
        client.delete_object(Bucket=s3.bucket, Key=direct)  # moto holds every object in memory
        log(f"  boto3 straight into the bucket: {extra[f'upload_{mib}_mib_s|{DIRECT}'][0]:,.0f} MiB/s")
        for dist in dists:
            dist.path.unlink()


def catalogue(regs: dict[str, Registry], args, made: Path) -> Dist:
    """The same files on every registry: a 2-file package (wheel and sdist), a package of
    `many_files` wheels, and the download; returns the download's Dist."""
    jobs = [(loaders.bench_wheel("pkg-two", "1.0.1"), "pkg-two", "1.0.1"),
            (loaders.bench_sdist("pkg-two", "1.0.1"), "pkg-two", "1.0.1")]
    jobs += [(loaders.bench_wheel("pkg-many", f"1.{i}.1"), "pkg-many", f"1.{i}.1") for i in range(args.many_files)]
    big = loaders.bench_wheel("big-wheel", "1.0.1", payload=args.download_mib * MiB, dest=made)
    for name, reg in regs.items():
        started = time.monotonic()
        loaders.upload_all(reg.wh, reg.cat, [(reg.cat.main, *job) for job in jobs])
        log(f"  {name}: {len(jobs)} small uploads in {time.monotonic() - started:.1f} s")
        reg.upload(reg.cat.main, big, "big-wheel", "1.0.1")
        reg.file_path = file_path(reg, big)
    return big


def file_path(reg: Registry, dist: Dist) -> str:
    status, _, body = request(reg.wh.port, "GET", f"{reg.simple}big-wheel/")
    hrefs = [h for h in links(body) if dist.filename in h]
    if status != 200 or not hrefs:
        raise BenchError(f"{reg.name}: no link to {dist.filename} on its package page ({status})")
    return urlsplit(hrefs[0]).path


def moto_requests(s3) -> int:
    """Requests moto has logged so far (its server writes one line per request)."""
    try:
        return sum(1 for line in s3.log_path.read_text(errors="replace").splitlines() if '"' in line and " HTTP/" in line)
    except OSError:
        return 0


def page_loads(bench: Run, regs: dict[str, Registry], s3) -> None:
    """The 2-file and the many-file page, HTML and JSON, on s3 and file alternating `rounds`
    times (each one's median kept); the two must list the same files in pages of one size, and
    moto must see no request while they are loaded."""
    args, notes = bench.args, bench.notes
    for project, files in (("pkg-two", 2), ("pkg-many", args.many_files)):
        for variant, accept in (("html", "text/html"), ("json", JSON_ACCEPT)):
            key = f"page_{project}_{variant}"
            headers = {"Accept": accept}
            shapes = {}
            for name, reg in regs.items():
                status, answer, body = request(reg.wh.port, "GET", f"{reg.simple}{project}/", headers)
                if status != 200:
                    raise BenchError(f"{name} answered {status} for its {project} page ({variant})")
                # The same files, as each server links them (its own port in the URLs; the order
                # and upload times of files uploaded at once may differ): the loads then serve
                # pages of the same size.
                body = body.replace(f":{reg.wh.port}/".encode(), b":PORT/")
                rows = links(body) if variant == "html" else [
                    json.dumps({k: v for k, v in f.items() if k != "upload-time"}, sort_keys=True)
                    for f in json.loads(body).get("files", [])]
                if len(rows) != files:
                    raise BenchError(f"{name}'s {project} page ({variant}) lists {len(rows)} files, not {files}")
                shapes[name] = (len(body), sorted(rows))
            if shapes[WH_S3] != shapes[WH_FILE]:
                notes.append(f"{key}: the s3 and file registries' pages list other files or differ in size "
                             f"({shapes[WH_S3][0]} and {shapes[WH_FILE][0]} bytes)")
            before = moto_requests(s3)
            bench.measure(key, [(name, f"{reg.simple}{project}/") for name, reg in regs.items()], headers, args.rounds)
            time.sleep(0.2)
            touched = moto_requests(s3) - before
            bench.extra[f"{key}_bucket_requests"] = touched
            if touched:
                notes.append(f"{key}: moto logged {touched} requests while the pages were loaded")


def proxy_downloads(bench: Run, regs: dict[str, Registry], s3, big: Dist) -> None:
    """The download in proxy mode, `fetches` times one after another and as many at once, on the
    s3 registry and straight from moto with a signed GET (the same client), alternating `rounds`
    times, each median kept; the file store's for reference."""
    args, extra = bench.args, bench.extra
    s3_reg = regs[WH_S3]
    key = s3_reg.wh.key(big.sha256)
    head = s3.client.head_object(Bucket=s3.bucket, Key=key)
    if head["ContentLength"] != big.size:
        raise BenchError(f"the bucket's {key} holds {head['ContentLength']} bytes, not {big.size}")
    direct_path = f"/{s3.bucket}/{key}"
    sides = {
        WH_S3: lambda: (s3_reg.wh.port, s3_reg.file_path, {}),
        WH_FILE: lambda: (regs[WH_FILE].wh.port, regs[WH_FILE].file_path, {}),
        DIRECT: lambda: (s3.moto_port, direct_path, signed_get_headers(s3, key)),
    }
    for side, where in sides.items():
        port, path, headers = where()
        got = fetch(port, path, headers, digest=True)
        if got.status != 200 or got.sha256 != big.sha256:
            raise BenchError(f"{side}: GET {path} answered {got.status} with other bytes than the file's")
    for concurrent in (False, True):
        mode = "concurrent" if concurrent else "sequential"
        kept: dict[str, list[Series]] = {side: [] for side in sides}
        for round in range(args.rounds):
            for side, where in sides.items():
                port, path, headers = where()
                before = moto_requests(s3)
                done = series(port, path, headers, args.fetches, concurrent, big.size)
                if side == WH_S3:
                    time.sleep(0.2)
                    extra.setdefault(f"download_{mode}_bucket_requests|{side}", []).append(moto_requests(s3) - before)
                kept[side].append(done)
                log(f"download, {args.fetches} {mode}, {side}"
                    + (f" (round {round + 1} of {args.rounds})" if args.rounds > 1 else "")
                    + f": {done.mib_s:,.0f} MiB/s, p50 {done.p50_ms:.0f} ms")
        fetched = extra.get(f"download_{mode}_bucket_requests|{WH_S3}", [])
        if fetched and min(fetched) < args.fetches:
            bench.notes.append(f"download, {mode}: moto logged {min(fetched)} requests for {args.fetches} GETs "
                               f"through {WH_S3} (some answered from the server's memory)")
        for side, runs in kept.items():
            best = sorted(runs, key=lambda s: s.mib_s)[len(runs) // 2]
            extra[f"download_{mode}|{side}"] = {"mib_s": best.mib_s, "p50_ms": best.p50_ms, "p90_ms": best.p90_ms,
                                                "runs_mib_s": [s.mib_s for s in runs]}


def redirect_latency(bench: Run, reg: Registry, s3, big: Dist) -> None:
    """Redirect mode: time to the first byte of a GET through Wheelhouse that follows the 302 to
    the presigned URL, against a GET of a presigned URL (boto3's, SigV4) straight to moto, each on
    fresh connections, alternating `redirects` times; and the 302 answer alone."""
    args, extra, notes = bench.args, bench.extra, bench.notes
    status, headers, _ = request(reg.wh.port, "GET", reg.file_path)
    if status != 302 or "location" not in headers:
        notes.append(f"redirect mode: GET {reg.file_path} answered {status}, not a 302 with a Location; not measured")
        return
    location = headers["location"]
    extra["redirect_location_query"] = sorted(k.split("=")[0] for k in urlsplit(location).query.split("&"))
    got = fetch(reg.wh.port, reg.file_path, follow=True, digest=True)
    if got.status != 200 or got.sha256 != big.sha256:
        raise BenchError(f"following the 302 of {reg.file_path} gave {got.status} with other bytes than the file's")
    presigned = presigning_client(s3).generate_presigned_url(
        "get_object", ExpiresIn=600, Params={  # what Wheelhouse's own presigned URL asks for
            "Bucket": s3.bucket, "Key": reg.wh.key(big.sha256),
            "ResponseContentDisposition": f'attachment; filename="{big.filename}"'})
    direct_port, direct_path = split_url(presigned)
    got = fetch(direct_port, direct_path, digest=True)
    if got.status != 200 or got.sha256 != big.sha256:
        raise BenchError(f"the presigned URL answered {got.status} with other bytes than the file's")
    via, direct, answer = [], [], []
    for _ in range(args.redirects):
        via.append(fetch(reg.wh.port, reg.file_path, follow=True).ttfb)
        direct.append(fetch(direct_port, direct_path).ttfb)
        answer.append(fetch(reg.wh.port, reg.file_path).total)  # the 302's head and empty body
    for name, values in (("via", via), ("direct", direct), ("answer", answer)):
        extra[f"redirect_ttfb_{name}_ms"] = [v * 1000 for v in values]


def run(args, work: Path, binary: Path, wrk_bin: str) -> Run:
    for d in ("s3", "file", "redirect", "moto", "moto-redirect", "made"):
        shutil.rmtree(work / d, ignore_errors=True)  # a --work-dir from an earlier run
    check_binary(binary)
    s3 = start_s3(work, "moto", check_signatures=True, bucket=BUCKET)
    redirect_s3 = start_s3(work, "moto-redirect", check_signatures=False, bucket=REDIRECT_BUCKET)
    regs = {WH_S3: Registry(WH_S3, StoreWheelhouse(binary, work / "s3", s3, PREFIX)),
            WH_FILE: Registry(WH_FILE, StoreWheelhouse(binary, work / "file"))}
    redirect = Registry("WH s3 redirect", StoreWheelhouse(binary, work / "redirect", redirect_s3, PREFIX,
                                                          serve_args=["--s3-download", "redirect"]))
    bench = Run(args=args, work=work, binary=binary, wh=regs[WH_S3].wh,
                wrk=Wrk(wrk_bin, args.threads, args.connections, args.seconds, args.warmup))
    bench.extra["loadavg_start"] = os.getloadavg()[0]
    try:
        log("starting Wheelhouse on s3:// and on file:, each on an empty data dir")
        for reg in regs.values():
            reg.setup()
        bench.ports.update({name: reg.wh.port for name, reg in regs.items()})
        uploads(bench, regs, s3)
        log("the measured pages and the download, on both")
        big = catalogue(regs, args, work / "made")
        page_loads(bench, regs, s3)
        proxy_downloads(bench, regs, s3, big)
        log("redirect mode, on a moto without signature checks")
        redirect.setup()
        redirect.upload(redirect.cat.main, big, "big-wheel", "1.0.1")
        redirect.file_path = file_path(redirect, big)
        redirect_latency(bench, redirect, redirect_s3, big)
    finally:
        for reg in (*regs.values(), redirect):
            reg.wh.stop()
    bench.extra["loadavg_end"] = os.getloadavg()[0]
    for name, server in (("moto", s3), ("moto_redirect", redirect_s3)):
        if server.proc is not None and server.proc.poll() is None:
            bench.extra[f"{name}_peak_rss_kib"] = proc_status_kib(server.proc.pid)["VmHWM"]
    return bench


# ---------------------------------------------------------------------------------------------
# The report


HEADER = ["scenario", WH_S3, WH_FILE, DIRECT, "s3/other", "target (measured)", "met"]


def mib_s_cell(values: list[float] | None) -> str:
    return "n/a" if not values else f"{statistics.median(values):,.0f} MiB/s"


def rss_cell(extra: dict, mib: int, name: str) -> str:
    peak, idle = extra.get(f"upload_{mib}_peak_rss_kib|{name}"), extra.get(f"upload_idle_rss_kib|{name}")
    return "n/a" if peak is None else f"+{(peak - idle) / 1024:.1f} MiB (idle {idle / 1024:.0f})"


def signed_ms(x: float) -> str:
    return ("+" if x >= 0 else "-") + fmt_ms(abs(x))


def series_cell(value: dict | None) -> str:
    return "n/a" if value is None else f"{value['mib_s']:,.0f} MiB/s {value['p50_ms']:.0f}/{value['p90_ms']:.0f}ms"


def rows(bench: Run) -> list[list[str]]:
    args, extra, results = bench.args, bench.extra, bench.results
    table = []
    for mib in args.upload_mib:
        label = f"{mib // 1024} GiB" if mib % 1024 == 0 else f"{mib} MiB"
        speeds = {name: extra.get(f"upload_{mib}_mib_s|{name}") for name in (WH_S3, WH_FILE, DIRECT)}
        runs = len(speeds[WH_S3] or [])
        r = (statistics.median(speeds[WH_S3]) / statistics.median(speeds[WH_FILE])
             if speeds[WH_S3] and speeds[WH_FILE] else None)
        table.append([f"8 upload {label}" + (f" (median of {runs})" if runs > 1 else ""), mib_s_cell(speeds[WH_S3]),
                      mib_s_cell(speeds[WH_FILE]), mib_s_cell(speeds[DIRECT]) + " (boto3)", fmt_ratio(r),
                      "(for reference)", ""])
        peak = extra.get(f"upload_{mib}_peak_rss_kib|{WH_S3}")
        above = None if peak is None else (peak - extra[f"upload_idle_rss_kib|{WH_S3}"]) / 1024
        table.append([f"8 upload {label}: peak RSS above idle", rss_cell(extra, mib, WH_S3),
                      rss_cell(extra, mib, WH_FILE), "", "",
                      f"<64 MiB on s3 ({'?' if above is None else f'{above:.1f}'})",
                      met(None if above is None else above < 64)])
    for mode in ("sequential", "concurrent"):
        get = lambda side: extra.get(f"download_{mode}|{side}")
        s3, direct = get(WH_S3), get(DIRECT)
        r = s3["mib_s"] / direct["mib_s"] if s3 and direct else None
        table.append([f"8 download {args.download_mib} MiB, proxy, {args.fetches} {mode}", series_cell(s3),
                      series_cell(get(WH_FILE)), series_cell(direct) + " (signed GET)", fmt_ratio(r),
                      f">=0.7x direct ({fmt_ratio(r)})", met(None if r is None else r >= 0.7)])
    via, direct, answer = (extra.get(f"redirect_ttfb_{k}_ms") for k in ("via", "direct", "answer"))
    if via:
        p = lambda values, pct: percentile(values, pct)
        extra_50, extra_90 = p(via, 50) - p(direct, 50), p(via, 90) - p(direct, 90)
        table.append([f"8 redirect: first byte, {len(via)} GETs (p50/p90)",
                      f"{fmt_ms(p(via, 50))}/{fmt_ms(p(via, 90))}ms (302 followed)", "",
                      f"{fmt_ms(p(direct, 50))}/{fmt_ms(p(direct, 90))}ms (presigned)", "",
                      f"extra: {signed_ms(extra_50)} ms p50, {signed_ms(extra_90)} ms p90", ""])
        table.append(["   (the 302 answer alone, p50/p90)", f"{fmt_ms(p(answer, 50))}/{fmt_ms(p(answer, 90))}ms",
                      "", "", "", "", ""])
    else:
        table.append(["8 redirect: first byte", "n/a", "", "", "", "", ""])
    for project in ("pkg-two", "pkg-many"):
        files = 2 if project == "pkg-two" else args.many_files
        for variant in ("html", "json"):
            key = f"page_{project}_{variant}"
            s3, file = results.get((key, WH_S3)), results.get((key, WH_FILE))
            r = s3.rps / file.rps if s3 and file and file.rps else None
            table.append([f"8 package page, {files} files, {variant.upper()}", cell(s3), cell(file), "",
                          fmt_ratio(r), f">=0.95x file ({fmt_ratio(r)})", met(None if r is None else r >= 0.95)])
    return table


def version_of(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def report(bench: Run) -> str:
    args, binary, extra = bench.args, bench.binary, bench.extra
    affinity = len(os.sched_getaffinity(0))
    lines = [
        "Wheelhouse benchmark, scenario 8: object storage" + (" (--quick)" if args.quick else ""),
        f"machine: {os.cpu_count()} cores ({affinity} usable), {time.strftime('%Y-%m-%d %H:%M %Z')}; "
        f"everything on 127.0.0.1, moto and the clients share the cores; load average "
        f"{extra['loadavg_start']:.1f} at the start, {extra['loadavg_end']:.1f} at the end",
        f"Wheelhouse: {binary} (built {time.strftime('%Y-%m-%d %H:%M', time.localtime(binary.stat().st_mtime))}, "
        f"repo at {git_revision()}), WHEELHOUSE_LOG_LEVEL=warning, SQLite; "
        f"s3://{BUCKET}/{PREFIX} (proxy mode) and file: on two instances, each its own data dir",
        f"S3: moto {version_of('moto')} server, signature checks on (IAM user and policy); redirect mode on a "
        f"second moto without them (moto cannot check presigned URLs); boto3 {version_of('boto3')}; moto's "
        f"peak RSS {extra.get('moto_peak_rss_kib', 0) / MiB:.1f} GiB (it holds every object in memory)",
        f"uploads: twine's multipart form streamed from disk, alternating file and s3; peak RSS is VmHWM, reset "
        f"before each size, minus the idle RSS after a small warm-up upload",
        f"downloads: Python http.client, a new connection per GET, the body read and dropped; MiB/s over the wall "
        f"time, then p50/p90 of a GET; {args.rounds} rounds alternating the sides, the median kept; redirect: "
        f"time to the first body byte, {args.redirects} alternating samples",
        f"pages: wrk -t{args.threads} -c{args.connections} -d{args.seconds}s --latency after a {args.warmup} s "
        f"warm-up, req/s then p50/p99; s3 and file alternate {args.rounds} rounds, the median kept",
        "",
        render(rows(bench), HEADER),
    ]
    if bench.notes:
        lines += ["", "notes (* in a cell: wrk saw errors):"] + [f"  - {n}" for n in bench.notes]
    return "\n".join(lines)


def write_json(bench: Run, path: Path) -> None:
    path.write_text(json.dumps({
        "results": {f"{k}|{s}": asdict(v) for (k, s), v in bench.results.items()},
        "extra": bench.extra, "notes": bench.notes}, indent=2))


# ---------------------------------------------------------------------------------------------
# The entry point (benchmarks/run objectstore)


def _raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


def main(argv=None) -> int:
    args = options(argv)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_exit)
    began = time.monotonic()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="wheelhouse-bench-objectstore-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        _, wrk_bin = ensure_system_tools()
        if args.bin is None:
            from compare import build_binary  # the full benchmark's build, when no binary is given
            args.bin = build_binary()
        binary = args.bin.resolve()
        if not os.access(binary, os.X_OK):
            raise BenchError(f"{binary} is not an executable")
        log(f"{os.cpu_count()} cores; binary {binary}; work directory {work}")
        bench = run(args, work, binary, wrk_bin)
        if args.json:
            write_json(bench, args.json)
        print(report(bench))
        log(f"done in {time.monotonic() - began:.0f} s")
        return 0
    except BenchError as error:
        log(f"FAILED: {error}")
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    except SystemExit as stop:
        log(f"stopped by a signal (exit {stop.code})")
        raise
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        PROCS.stop_all()
        if args.keep:
            log(f"work directory kept: {work}")
        elif args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
