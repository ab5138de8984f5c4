"""What is measured and how: the six scenarios of benchmarks/README.md, on one Wheelhouse, one nginx
and one pypiserver. Each load runs in rounds that alternate the servers, and each server's median
run is kept (see `Run.measure`)."""
from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from . import loaders
from .client import links, multipart_upload, request, upload_fields
from .common import JSON_ACCEPT, NGINX, PYPI, SERVERS, WH, MiB, BenchError, log
from .loaders import Catalogue
from .peers import Load, Wrk, start_nginx, start_pypiserver
from .processes import PROCS, wait_until_idle
from .wheelhouse import Wheelhouse


@dataclass
class Target:
    """One URL per server for one scenario (None: the server has no such thing), and the bytes
    Wheelhouse answered there (nginx must serve the very same)."""
    key: str
    label: str
    paths: dict[str, str | None]
    headers: dict[str, str]
    download: bool = False
    expect: int = 200
    reference: bytes | None = None


@dataclass
class Run:
    """One benchmark run: the servers, the catalogue, and what was measured. `results` holds each
    (scenario key, server)'s kept load; `extra` the other figures (start-ups, RSS, uploads, the
    large catalogue), under the names the JSON output gives them; `notes` what the table's
    footnotes say."""
    args: object
    work: Path
    binary: Path
    wh: Wheelhouse
    wrk: Wrk
    cat: Catalogue | None = None
    targets: list[Target] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)
    pypi_mode: str = ""
    results: dict[tuple[str, str], Load] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def measure(self, key: str, runs: list[tuple[str, str]], headers: dict[str, str], rounds: int) -> None:
        """Loads each (server, path) in turn, `rounds` times over, and keeps each server's
        median run (by req/s, with that run's latencies): a moment of interference on the shared
        cores then moves one round, not the figure, and it falls on both servers alike."""
        loads: dict[str, list[Load]] = {server: [] for server, _ in runs}
        for round in range(rounds):
            for server, path in runs:
                load = self.wrk.run(self.ports[server], path, headers)
                log(f"wrk {key} on {server}" + (f" (round {round + 1} of {rounds})" if rounds > 1 else "")
                    + f": {load.rps:,.0f} req/s, p99 {load.p99_ms:.2f} ms")
                if load.errors:
                    self.notes.append(f"{key} on {server}: {load.errors}")
                loads[server].append(load)
        for server, done in loads.items():
            self.results[(key, server)] = median(done)


def median(loads: list[Load]) -> Load:
    return sorted(loads, key=lambda load: load.rps)[len(loads) // 2]


def run(args, work: Path, binary: Path, nginx_bin: str, wrk_bin: str) -> Run:
    """Every scenario in order; the caller reports the Run."""
    data_dir, docroot, pypi_dir = work / "data", work / "static", work / "pypiserver-packages"
    for d in (data_dir, docroot, pypi_dir, work / "nginx"):
        shutil.rmtree(d, ignore_errors=True)  # a --work-dir from an earlier run
    for d in (docroot, pypi_dir):
        d.mkdir(parents=True)
    bench = Run(args=args, work=work, binary=binary, wh=Wheelhouse(binary, work, args.database_url),
                wrk=Wrk(wrk_bin, args.threads, args.connections, args.seconds, args.warmup))
    wh = bench.wh

    # --- the small catalogue, scenarios 1 to 4
    wh.start()
    bench.cat = loaders.small_catalogue(wh, args, work, pypi_dir)
    bench.targets = snapshot_pages(bench, docroot)
    nginx_proc, nginx_port = start_nginx(nginx_bin, work, docroot, bench.targets[0].paths[NGINX])
    pypi_proc, pypi_port, bench.pypi_mode = start_pypiserver(work, pypi_dir)
    if pypi_proc is None:
        bench.notes.append(f"pypiserver could not be started: {bench.pypi_mode}")
    bench.ports = {WH: wh.port, NGINX: nginx_port, PYPI: pypi_port}
    check_targets(bench, pypi_up=pypi_proc is not None)
    page_loads(bench, pypi_proc)
    authenticated_reads(bench)
    uploads(bench, pypi_proc)
    if pypi_proc is not None:
        PROCS.stop(pypi_proc)
    large_catalogue(bench)
    PROCS.stop(nginx_proc)
    return bench


def snapshot_pages(bench: Run, docroot: Path) -> list[Target]:
    """Fetches the pages from Wheelhouse, saves them (and the big wheel) for nginx, returns the
    targets of scenarios 1 to 3."""
    wh, cat, notes = bench.wh, bench.cat, bench.notes
    simple = f"/api/v4/projects/{cat.main}/packages/pypi/simple/"
    pages = [
        ("pkg2", f"{simple}pkg-two/", "/simple/pkg-two/", 2),
        ("pkg500", f"{simple}pkg-many/", "/simple/pkg-many/", 500),
        ("index", simple, "/simple/", None),
        ("group", f"/api/v4/groups/{cat.fleet}/-/packages/pypi/simple/", None, None),
    ]
    targets = []
    labels = {"pkg2": "1 package page, 2 files", "pkg500": "1 package page, 500 files"}
    for key, path, pypi_path, expected_links in pages:
        for variant, accept in (("html", "text/html"), ("json", JSON_ACCEPT)):
            status, headers, body = request(wh.port, "GET", path, {"Accept": accept})
            if status != 200:
                raise BenchError(f"Wheelhouse answered {status} for {path} ({variant})")
            if variant == "html":
                found = len(links(body))
                if expected_links is not None and found != expected_links:
                    raise BenchError(f"{path} lists {found} files, expected {expected_links}")
                if key == "index":
                    cat.index_links = found
                elif key == "group":
                    cat.group_links = found
            elif not headers.get("content-type", "").startswith(JSON_ACCEPT):
                notes.append(f"{path} with Accept: {JSON_ACCEPT} answered {headers.get('content-type')}: "
                             f"no JSON rows")
                continue
            saved = docroot / path.lstrip("/") / f"index.{variant}"
            saved.parent.mkdir(parents=True, exist_ok=True)
            saved.write_bytes(body)
            if variant == "json" and key in ("index", "group"):
                continue  # the index scenarios measure HTML only
            if key == "index":
                label = f"2 project index, {cat.index_links:,} packages"
            elif key == "group":
                label = f"2 group index, {len(cat.fleet_projects)} projects ({cat.group_links} pkgs)"
            else:
                label = labels[key]
            targets.append(Target(
                key=f"{key}_{variant}", label=f"{label}, {variant.upper()}",
                paths={WH: path, NGINX: f"{path}index.{variant}", PYPI: pypi_path if variant == "html" else None},
                headers={"Accept": accept}, reference=body))

    big = cat.big_wheel
    status, _, body = request(wh.port, "GET", f"{simple}big-wheel/")
    hrefs = [h for h in links(body) if big.filename in h]
    if status != 200 or not hrefs:
        raise BenchError(f"no link to {big.filename} on its package page")
    file_path = urlsplit(hrefs[0]).path
    saved = docroot / file_path.lstrip("/")
    saved.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(big.path, saved)
    targets.append(Target(key="download", label=f"3 download, {big.size / MiB:.0f} MiB wheel (MiB/s)",
                          paths={WH: file_path, NGINX: file_path, PYPI: f"/packages/{big.filename}"},
                          headers={}, download=True))
    targets.append(Target(key="range", label="3 download, Range: bytes=0-1023",
                          paths={WH: file_path, NGINX: file_path, PYPI: f"/packages/{big.filename}"},
                          headers={"Range": "bytes=0-1023"}, expect=206))
    return targets


def check_targets(bench: Run, pypi_up: bool) -> None:
    """A server whose answer is not what a scenario measures is left out of it, with a note."""
    for target in bench.targets:
        for server in SERVERS:
            if target.paths.get(server) is None or (server == PYPI and not pypi_up):
                continue
            problem = check_target(target, server, bench.ports[server])
            if problem:
                bench.notes.append(f"{target.key}: {server} {problem}; not measured")
                target.paths[server] = None


def check_target(target: Target, server: str, port: int) -> str | None:
    """Why the server's answer is not what the scenario measures, or None when it is."""
    status, _, body = request(port, "GET", target.paths[server], target.headers, timeout=60)
    if status != target.expect:
        return f"answered {status} (expected {target.expect}) for {target.paths[server]}"
    if target.expect == 206 and len(body) != 1024:
        return f"sent {len(body)} bytes for a 1024-byte range"
    if target.reference is not None and server == NGINX and body != target.reference:
        return "does not serve the bytes Wheelhouse rendered"
    return None


def page_loads(bench: Run, pypi_proc) -> None:
    """Scenarios 1 to 3: the pages, the indexes, the download and the range, on every server."""
    for target in bench.targets:
        bench.measure(target.key, [(server, target.paths[server]) for server in (WH, NGINX)
                                   if target.paths.get(server) is not None], target.headers, bench.args.rounds)
        if target.paths.get(PYPI) is not None and pypi_proc is not None:
            # Once: at a few dozen requests a second, its figure is not close to any line.
            bench.measure(target.key, [(PYPI, target.paths[PYPI])], target.headers, 1)
            # gunicorn's sync workers go on with the requests wrk left queued (up to ~1.5 s each on
            # the 500-file page): let them finish, or they eat the next server's measurement.
            wait_until_idle(pypi_proc.pid)


def authenticated_reads(bench: Run) -> None:
    """Scenario 4: the same 2-file page, anonymous on the public project, Basic token on the
    private one, alternating."""
    wh, cat = bench.wh, bench.cat
    public_page = f"/api/v4/projects/{cat.main}/packages/pypi/simple/pkg-two/"
    private_page = f"/api/v4/projects/{cat.secret}/packages/pypi/simple/pkg-two/"
    status, _, _ = request(wh.port, "GET", private_page)
    if status == 200:
        raise BenchError("the private project's page answers anonymous requests")
    status, _, private_body = request(wh.port, "GET", private_page, {"Authorization": cat.auth})
    if status != 200 or len(links(private_body)) != 2:
        raise BenchError(f"the authenticated read of the private project answered {status}")
    anonymous: list[Load] = []
    authenticated: list[Load] = []
    for _ in range(bench.args.rounds):
        bench.measure("anonymous", [(WH, public_page)], {"Accept": "text/html"}, 1)
        anonymous.append(bench.results[("anonymous", WH)])
        bench.measure("authenticated", [(WH, private_page)], {"Accept": "text/html", "Authorization": cat.auth}, 1)
        authenticated.append(bench.results[("authenticated", WH)])
    for key, loads in (("anonymous", anonymous), ("authenticated", authenticated)):
        bench.results[(key, WH)] = median(loads)


def uploads(bench: Run, pypi_proc) -> None:
    """Scenario 5: `--upload-runs` uploads of an `--upload-mib` wheel to a freshly started server,
    timed, and its peak RSS (reset after a small warm-up upload) above idle; then pypiserver's."""
    args, wh, cat, extra, notes = bench.args, bench.wh, bench.cat, bench.extra, bench.notes
    log(f"scenario 5: {args.upload_runs} x {args.upload_mib} MiB uploads")
    wh.stop()
    extra["small_startup_s"] = wh.start().startup_seconds
    time.sleep(0.5)
    extra["small_idle_rss_kib"] = wh.memory_kib()["VmRSS"]
    loaders.upload(wh, cat, cat.uploads, loaders.bench_wheel("upload-warmup", "1.0.1"), "upload-warmup", "1.0.1")
    versions = [f"{i + 1}.0.1" for i in range(args.upload_runs)]
    big = [loaders.bench_wheel("upload-big", v, payload=args.upload_mib * MiB, dest=bench.work) for v in versions]
    for dist in big:
        dist.hexdigests()  # before the clock starts: the form carries them
    time.sleep(0.5)
    idle = wh.memory_kib()["VmRSS"]
    try:
        wh.reset_peak_memory()
    except OSError:
        notes.append("could not reset VmHWM (/proc/PID/clear_refs): the peak includes the earlier start-up")
    speeds = [dist.size / MiB / loaders.upload(wh, cat, cat.uploads, dist, "upload-big", version)
              for dist, version in zip(big, versions)]
    peak = wh.memory_kib()["VmHWM"]
    extra.update(upload_mib_s=speeds, upload_idle_rss_kib=idle, upload_peak_rss_kib=peak)
    if pypi_proc is not None:
        pypi_speeds = []
        for dist, version in zip(big, versions):
            status, body, seconds = multipart_upload(
                bench.ports[PYPI], "/", upload_fields(dist, "upload-big", version), dist, None)
            if status not in (200, 201):
                notes.append(f"pypiserver answered {status} to the large upload: {body[:200]!r}")
                break
            pypi_speeds.append(dist.size / MiB / seconds)
        extra["pypiserver_upload_mib_s"] = pypi_speeds
    for dist in big:
        dist.path.unlink()


def large_catalogue(bench: Run) -> None:
    """Scenario 6: with the server stopped, `wheelhouse bulk-load` brings the registry to
    `--big-packages` / `--big-files`; then start-up (median of 3), idle RSS, and scenarios 1-2
    again, against the same nginx pages (a page must not change with the catalogue around it)."""
    args, wh, cat, extra, notes = bench.args, bench.wh, bench.cat, bench.extra, bench.notes
    wh.stop()
    tally = cat.tally
    names, files = len(tally.names), tally.files
    add_names, add_files = args.big_packages - names, args.big_files - files
    if add_names <= 0 or add_files < add_names:
        raise BenchError(f"scenario 6 needs more packages/files than the {names}/{files} already there")
    loaded = loaders.large_catalogue(wh, add_names, add_files)
    extra["bulk_load_s"] = loaded.seconds
    extra.update(big_names=names + loaded.names, big_files=files + loaded.files)
    if not args.database_url:
        extra["db_mib"] = sum(path.stat().st_size for path in wh.data_dir.glob("wheelhouse.sqlite3*")) / MiB
    log(f"  loaded in {extra['bulk_load_s']:.1f} s: {extra['big_names']:,} packages, {extra['big_files']:,} files"
        + (f", database {extra['db_mib']:.0f} MiB" if "db_mib" in extra else ""))
    startups = []
    for i in range(3):
        startups.append(wh.start().startup_seconds)
        if i < 2:
            wh.stop()
    time.sleep(0.5)
    extra.update(big_startup_s=startups, big_idle_rss_kib=wh.memory_kib()["VmRSS"])
    loaders.check_releases(wh, cat, [cat.corp, cat.fleet, loaded.group], len(tally.releases) + loaded.releases)
    for target in bench.targets:
        if target.key in ("download", "range"):
            continue
        status, _, body = request(wh.port, "GET", target.paths[WH], target.headers)
        if status != 200:
            raise BenchError(f"Wheelhouse answered {status} for {target.paths[WH]} in the large catalogue")
        if body != target.reference:
            notes.append(f"{target.key}: the large catalogue's page differs from the small one's")
        bench.measure(f"{target.key}_big", [(server, target.paths[server]) for server in (WH, NGINX)],
                      target.headers, args.rounds)
    extra["big_rss_after_load_kib"] = wh.memory_kib()["VmRSS"]
    wh.stop()
