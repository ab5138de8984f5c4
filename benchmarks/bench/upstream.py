"""Scenario 7: Wheelhouse as a caching proxy of an upstream index (issue 12), beside devpi-server
and proxpi, all three pointed at one static upstream (bench/static_upstream.py) in one run:

- cold and warm `uv pip install` and `pip install` of a closure of about 35 real wheels into a fresh
  venv, client caches off (cold: every proxy started afresh with an empty cache, once per client);
- req/s of cached upstream project pages (wrk), against Wheelhouse's local pages of the very same
  files (target: at least 0.8x, and ahead of devpi and proxpi);
- a cached 16 MiB file against a local 16 MiB file on Wheelhouse (target: at least 0.9x).

Run on its own: `benchmarks/run upstream [--bin PATH] [--quick] ...` (see README.md). Everything
listens on 127.0.0.1 and is stopped on exit, Ctrl-C or error."""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from distributions import Dist, wheel

from . import installs, proxies, static_upstream
from .client import links, multipart_upload, request, upload_fields
from .common import HOST, JSON_ACCEPT, MiB, BenchError, log
from .peers import Wrk, ensure_system_tools
from .processes import PROCS, wait_until_idle
from .reporting import cell, fmt_ratio, git_revision, met, render
from .scenarios import Run
from .static_upstream import StaticUpstream
from .wheelhouse import Wheelhouse

WH_CACHED, WH_LOCAL = "WH cached", "WH local"
DEVPI, PROXPI, UPSTREAM = proxies.DEVPI, proxies.PROXPI, static_upstream.NGINX_NAME
PROXIES = (WH_CACHED, DEVPI, PROXPI)
GROUP, LOCAL_GROUP = "acme", "local"
PAGE_PROJECTS = ("requests", "bench-versions")  # a real closure project (1 file) and one of --many-files
BIG = "big-upstream"


def options(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchmarks/run upstream", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", type=Path, help="a Wheelhouse binary (default: build the release binary)")
    parser.add_argument("--quick", action="store_true", help="1 s loads, one round")
    parser.add_argument("--seconds", type=int, help="seconds per wrk run (default 3, --quick 1)")
    parser.add_argument("--rounds", type=int, help="rounds of cold and warm installs (each on proxies started "
                        "afresh), and of loads on each Wheelhouse side, the median kept (default 3, --quick 1)")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of wrk warm-up before each run (default 1)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--many-files", type=int, default=50, help="files on the bench-versions page (default 50)")
    parser.add_argument("--download-mib", type=int, default=16)
    parser.add_argument("--ttl", type=int, default=1800, help="how long every proxy reuses an upstream page, "
                        "in seconds (default 1800, devpi's and proxpi's own default)")
    parser.add_argument("--work-dir", type=Path, help="where data goes (default: a new directory in /tmp); "
                        "the downloaded closure stays in it for the next run given the same directory")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (1 if args.quick else 3)
    args.rounds = args.rounds or (1 if args.quick else 3)
    return args


# ---------------------------------------------------------------------------------------------
# The servers


class CacheModeWheelhouse:
    """A Wheelhouse started on an empty data dir with forwarding on in cache mode, set through the
    CLI: an admin, a public group `acme` with a public project (its group index is what clients
    are given), and a public group `local` whose project holds the local twins of measured files.
    A binary without forwarding (`settings set` fails) runs on with `forwarding` false: its local
    side is still measured, its cached side is n/a with the reason in `why`."""

    def __init__(self, binary: Path, work: Path, upstream_url: str, ttl: int) -> None:
        self.wh = Wheelhouse(binary, work)
        self.upstream_url, self.ttl = upstream_url, ttl
        self.token = ""
        self.group = self.local_group = self.local_project = 0
        self.forwarding, self.why = False, ""

    @property
    def port(self) -> int:
        return self.wh.port

    @property
    def index_path(self) -> str:
        return self.group_index(self.group)

    @staticmethod
    def group_index(group: int) -> str:
        return f"/api/v4/groups/{group}/-/packages/pypi/simple/"

    @property
    def index_url(self) -> str:
        return f"http://{HOST}:{self.port}{self.index_path}"

    def start_empty(self) -> "CacheModeWheelhouse":
        wh = self.wh
        wh.stop()
        shutil.rmtree(wh.data_dir, ignore_errors=True)
        wh.start()
        wh.user("bench", admin=True)
        self.token = wh.token("bench", "api", name="bench")["token"]
        self.group = wh.group(GROUP, "public")["id"]
        wh.project(f"{GROUP}/app", "public")
        self.local_group = wh.group(LOCAL_GROUP, "public")["id"]
        self.local_project = wh.project(f"{LOCAL_GROUP}/pages", "public")["id"]
        self.forwarding, self.why = True, ""
        for key, value in (("pypi_upstream_url", self.upstream_url), ("pypi_upstream_ttl_seconds", str(self.ttl)),
                           ("pypi_package_requests_forwarding", "true")):
            done = wh.cli("settings", "set", key, value)
            if done.returncode != 0:
                self.forwarding = False
                self.why = (f"`wheelhouse settings set {key} {value}` failed: "
                            f"{(done.stderr.strip() or done.stdout.strip()).splitlines()[0]}")
                return self
        # Restarted so that the settings are certainly in force, rather than waiting for the
        # running server to notice them.
        wh.stop()
        wh.start()
        status, _, body = request(self.port, "GET", "/api/v4/application/settings", {"PRIVATE-TOKEN": self.token})
        if status != 200 or not json.loads(body).get("pypi_package_requests_forwarding"):
            raise BenchError(f"GET /api/v4/application/settings answered {status}: {body[:300]!r}")
        return self

    def upload_local(self, dist: Dist, name: str, version: str, requires_python: str | None) -> None:
        fields = [(k, requires_python or "") if k == "requires_python" else (k, v)
                  for k, v in upload_fields(dist, name, version)]
        auth = "Basic " + base64.b64encode(f"__token__:{self.token}".encode()).decode()
        status, body, _ = multipart_upload(self.port, f"/api/v4/projects/{self.local_project}/packages/pypi",
                                           fields, dist, auth)
        if status not in (200, 201):
            raise BenchError(f"the local upload of {dist.filename} answered {status}: {body[:300]!r}")

    def stop(self) -> None:
        self.wh.stop()


class Servers:
    """Wheelhouse, devpi and proxpi, each with an empty cache, all pointed at the upstream."""

    def __init__(self, bench: Run, upstream: StaticUpstream, wh: CacheModeWheelhouse) -> None:
        self.bench, self.upstream, self.wh = bench, upstream, wh
        self.peers: dict[str, proxies.Proxy] = {}

    def start_empty(self) -> None:
        self.stop()
        log("starting Wheelhouse, devpi and proxpi with empty caches")
        self.wh.start_empty()
        note = f"{WH_CACHED}: n/a, this binary has no upstream forwarding ({self.wh.why})"
        if not self.wh.forwarding and note not in self.bench.notes:
            self.bench.notes.append(note)
        self.peers = {DEVPI: proxies.start_devpi(self.bench.work, self.upstream.simple_url, self.bench.args.ttl),
                      PROXPI: proxies.start_proxpi(self.bench.work, self.upstream.simple_url, self.bench.args.ttl)}
        self.bench.ports.update({WH_CACHED: self.wh.port, WH_LOCAL: self.wh.port, UPSTREAM: self.upstream.port,
                                 **{name: peer.port for name, peer in self.peers.items()}})

    @property
    def proxies(self) -> tuple[str, ...]:
        return PROXIES if self.wh.forwarding else (DEVPI, PROXPI)

    def index_url(self, server: str) -> str:
        if server == WH_CACHED:
            return self.wh.index_url
        if server == UPSTREAM:
            return self.upstream.simple_url
        return self.peers[server].index_url

    def page_path(self, server: str, project: str) -> str:
        """The project page a client of `server` reads (on WH local: the local twin's page)."""
        if server == WH_CACHED:
            return f"{self.wh.index_path}{project}/"
        if server == WH_LOCAL:
            return f"{self.wh.group_index(self.wh.local_group)}{project}/"
        if server == UPSTREAM:
            return f"/simple/{project}/"
        return self.peers[server].page_path(project)

    def stop(self) -> None:
        self.wh.stop()
        for peer in self.peers.values():
            PROCS.stop(peer.proc)
        self.peers = {}


# ---------------------------------------------------------------------------------------------
# The measurements


def closure_installs(bench: Run, servers: Servers, upstream: StaticUpstream) -> None:
    """For uv, then pip, `rounds` rounds, each on proxies started afresh: one install straight
    from the upstream (for reference), a cold install through each proxy, then a warm one through
    each; each median is kept, so that a moment of interference on the shared cores moves one
    round, not a figure. The upstream's log gives what a cold install made each proxy fetch."""
    args, work, extra = bench.args, bench.work, bench.extra
    expect = set(upstream.closure)
    requirements = list(static_upstream.CLOSURE)
    for client in (installs.UV, installs.PIP):
        venv = work / "venvs" / client
        times: dict[str, list[float]] = {}
        for round in range(args.rounds):
            servers.start_empty()
            of = f" (round {round + 1} of {args.rounds})" if args.rounds > 1 else ""
            seconds = installs.install(client, servers.index_url(UPSTREAM), requirements, venv, expect)
            times.setdefault("direct", []).append(seconds)
            log(f"{client} install straight from the upstream{of}: {seconds:.2f} s")
            for server in servers.proxies:
                time.sleep(1.2)  # the upstream's log buffer is flushed every second
                before = static_upstream.access_log(work)
                seconds = installs.install(client, servers.index_url(server), requirements, venv, expect)
                time.sleep(1.2)
                after = static_upstream.access_log(work)
                times.setdefault(f"cold|{server}", []).append(seconds)
                extra[f"{client}_cold_upstream|{server}"] = [after[0] - before[0], after[1] - before[1]]
                log(f"{client} cold install through {server}{of}: {seconds:.2f} s, "
                    f"{after[0] - before[0]} upstream requests, {(after[1] - before[1]) / MiB:.1f} MiB")
            for server in servers.proxies:
                seconds = installs.install(client, servers.index_url(server), requirements, venv, expect)
                times.setdefault(f"warm|{server}", []).append(seconds)
                log(f"{client} warm install through {server}{of}: {seconds:.2f} s")
        extra[f"{client}_direct_s"] = statistics.median(times.pop("direct"))
        for key, values in times.items():
            phase, server = key.split("|")
            extra[f"{client}_{phase}_s|{server}"] = statistics.median(values)
            extra[f"{client}_{phase}_runs_s|{server}"] = values


def page_answer(status: int, headers: dict, body: bytes, variant: str) -> tuple[int | None, str | None]:
    """(files listed, problem) of a project page answer."""
    if status != 200:
        return None, f"answered {status}"
    if variant == "html":
        return len(links(body)), None
    if not headers.get("content-type", "").startswith(JSON_ACCEPT):
        return None, f"answered {headers.get('content-type')} to Accept: {JSON_ACCEPT}"
    return len(json.loads(body)["files"]), None


def page_loads(bench: Run, servers: Servers, upstream: StaticUpstream) -> None:
    """Each measured page, HTML and JSON, on every server: fetched twice first (the first may be
    the proxy's miss; Wheelhouse's second must say `Wheelhouse-Upstream: hit`) and checked to list
    every file; then WH cached and WH local alternate `rounds` times, the others run once."""
    args, notes = bench.args, bench.notes
    for project in PAGE_PROJECTS:
        files = len(upstream.projects[project])
        for variant, accept in (("html", "text/html"), ("json", JSON_ACCEPT)):
            key = f"page_{project}_{variant}"
            headers = {"Accept": accept}
            runnable = []
            for server in (WH_CACHED, WH_LOCAL, DEVPI, PROXPI, UPSTREAM):
                if server == WH_CACHED and not servers.wh.forwarding:
                    continue
                path = servers.page_path(server, project)
                port = bench.ports[server]
                request(port, "GET", path, headers, timeout=60)
                status, answer_headers, body = request(port, "GET", path, headers, timeout=60)
                found, problem = page_answer(status, answer_headers, body, variant)
                if problem is None and found != files:
                    problem = f"lists {found} files, not {files}"
                if problem:
                    notes.append(f"{key}: {server} {problem} for {path}; not measured")
                    continue
                if server == WH_CACHED and answer_headers.get("wheelhouse-upstream") != "hit":
                    notes.append(f"{key}: the cached page's second answer said Wheelhouse-Upstream: "
                                 f"{answer_headers.get('wheelhouse-upstream')}")
                bench.extra[f"{key}_bytes|{server}"] = len(body)
                runnable.append((server, path))
            bench.measure(key, [(s, p) for s, p in runnable if s in (WH_CACHED, WH_LOCAL)], headers, args.rounds)
            for server, path in runnable:
                if server not in (WH_CACHED, WH_LOCAL):
                    bench.measure(key, [(server, path)], headers, 1)
                    settle(servers, server)


def settle(servers: Servers, server: str) -> None:
    """Lets a Python proxy finish the requests wrk left queued before the next load starts."""
    peer = servers.peers.get(server)
    if peer is not None:
        wait_until_idle(peer.proc.pid)


def file_path(bench: Run, servers: Servers, server: str, project: str, filename: str) -> str:
    """The path of `filename` as `server`'s HTML page for `project` links it."""
    page = servers.page_path(server, project)
    status, _, body = request(bench.ports[server], "GET", page, {"Accept": "text/html"}, timeout=60)
    hrefs = [h for h in links(body) if urlsplit(h).path.endswith("/" + filename) or h.split("#")[0] == filename]
    if status != 200 or not hrefs:
        raise BenchError(f"{server} has no link to {filename} on {page} ({status})")
    return urlsplit(urljoin(f"http://{HOST}:{bench.ports[server]}{page}", hrefs[0])).path


def fetch_whole(port: int, path: str, sha256: str, timeout: float = 60.0) -> str | None:
    """GETs a file until it is served whole (proxpi redirects to the upstream while it is still
    fetching); None when its bytes are the expected ones, else what went wrong."""
    deadline = time.monotonic() + timeout
    while True:
        status, _, body = request(port, "GET", path, timeout=60)
        if status == 200:
            return None if hashlib.sha256(body).hexdigest() == sha256 else "served other bytes"
        if status not in (301, 302, 303, 307) or time.monotonic() > deadline:
            return f"answered {status}"
        time.sleep(0.2)


def download_loads(bench: Run, servers: Servers, upstream: StaticUpstream, local_sha256: str) -> None:
    """The 16 MiB upstream file through each proxy, fetched whole (and checked) once first, so that
    the load reads each one's cache; against Wheelhouse's local 16 MiB file, alternating."""
    big = upstream.file(BIG)
    name = big.path.name
    runnable = []
    for server in (WH_CACHED, WH_LOCAL, DEVPI, PROXPI, UPSTREAM):
        if server == WH_CACHED and not servers.wh.forwarding:
            continue
        path = f"/files/{name}" if server == UPSTREAM else file_path(bench, servers, server, BIG, name)
        problem = fetch_whole(bench.ports[server], path, local_sha256 if server == WH_LOCAL else big.sha256)
        if problem:
            bench.notes.append(f"download: {server} {problem} for {path}; not measured")
            continue
        runnable.append((server, path))
    bench.measure("download", [(s, p) for s, p in runnable if s in (WH_CACHED, WH_LOCAL)], {}, bench.args.rounds)
    for server, path in runnable:
        if server not in (WH_CACHED, WH_LOCAL):
            bench.measure("download", [(server, path)], {}, 1)
            settle(servers, server)


def upload_local_twins(servers: Servers, upstream: StaticUpstream, args, made: Path) -> str:
    """The files of the measured pages, uploaded as they are upstream (the same bytes and
    Requires-Python) to the local project, and a local wheel of the big file's name and size
    with other bytes (one blob each, whatever the store shares). Returns the local big file's sha256."""
    for project in PAGE_PROJECTS:
        for f in upstream.projects[project]:
            servers.wh.upload_local(Dist.at(f.path), f.name, f.version, f.requires_python)
    big = upstream.file(BIG)
    twin = wheel(BIG, big.version, payload=args.download_mib * MiB, dest=made)
    servers.wh.upload_local(twin, BIG, big.version, None)
    return twin.hexdigests()["sha256"]


def run(args, work: Path, binary: Path, nginx_bin: str, wrk_bin: str) -> Run:
    wh = CacheModeWheelhouse(binary, work, "", args.ttl)
    bench = Run(args=args, work=work, binary=binary, wh=wh.wh,
                wrk=Wrk(wrk_bin, args.threads, args.connections, args.seconds, args.warmup))
    for d in ("upstream", "upstream-made", "upstream-nginx", "venvs", "data", "devpi", "proxpi-cache"):
        shutil.rmtree(work / d, ignore_errors=True)  # a --work-dir from an earlier run
    closure = static_upstream.download_closure(work / "closure")
    upstream = static_upstream.build(work, closure, args.many_files, args.download_mib)
    static_upstream.start_nginx(nginx_bin, work, upstream)
    bench.extra.update(closure_wheels=len(closure), closure_mib=sum(p.stat().st_size for p in closure) / MiB,
                       upstream_projects=len(upstream.projects))
    log(f"upstream: {len(upstream.projects)} projects at {upstream.simple_url}")
    wh.upstream_url = upstream.simple_url
    servers = Servers(bench, upstream, wh)
    # Another job on the shared cores skews every figure: the report says how busy they were.
    bench.extra["loadavg_start"] = os.getloadavg()[0]
    try:
        closure_installs(bench, servers, upstream)
        local_sha256 = upload_local_twins(servers, upstream, args, work / "upstream-made" / "local")
        page_loads(bench, servers, upstream)
        download_loads(bench, servers, upstream, local_sha256)
    finally:
        servers.stop()
    bench.extra["loadavg_end"] = os.getloadavg()[0]
    return bench


# ---------------------------------------------------------------------------------------------
# The report


HEADER = ["scenario", WH_CACHED, WH_LOCAL, DEVPI, PROXPI, "upstream (nginx)", "cached/local", "target (measured)",
          "met"]


def seconds_cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def rows(bench: Run) -> list[list[str]]:
    extra, results = bench.extra, bench.results
    wheels = extra["closure_wheels"]
    table = []
    for client, label in ((installs.UV, "uv pip install"), (installs.PIP, "pip install")):
        for phase in ("cold", "warm"):
            get = lambda server: extra.get(f"{client}_{phase}_s|{server}")
            table.append([f"7 {phase} {label}, {wheels} wheels", seconds_cell(get(WH_CACHED)), "",
                          seconds_cell(get(DEVPI)), seconds_cell(get(PROXPI)),
                          seconds_cell(extra.get(f"{client}_direct_s")) if phase == "cold" else "", "", "", ""])
        fetched = lambda server: extra.get(f"{client}_cold_upstream|{server}")
        traffic = lambda f: "n/a" if f is None else f"{f[0]} req, {f[1] / MiB:.1f} MiB"
        table.append([f"   (upstream traffic of the cold {client} install)", traffic(fetched(WH_CACHED)), "",
                      traffic(fetched(DEVPI)), traffic(fetched(PROXPI)), "", "", "", ""])
    for project in PAGE_PROJECTS:
        files = "1 file" if project == "requests" else f"{bench.args.many_files} files"
        for variant in ("html", "json"):
            key = f"page_{project}_{variant}"
            get = lambda server: results.get((key, server))
            c, l, d, p = get(WH_CACHED), get(WH_LOCAL), get(DEVPI), get(PROXPI)
            r = None if c is None or l is None else c.rps / l.rps
            ahead = all(x is None or (c is not None and c.rps > x.rps) for x in (d, p))
            ok = None if r is None else (r >= 0.8 and ahead)
            target = (f">=0.8x local ({fmt_ratio(r)}), ahead of devpi ({times(ratio(c, d))}) "
                      f"and proxpi ({times(ratio(c, p))})")
            table.append([f"7 page {project} ({files}), {variant.upper()}", cell(c), cell(l), cell(d), cell(p),
                          cell(get(UPSTREAM)), fmt_ratio(r), target, met(ok)])
    get = lambda server: results.get(("download", server))
    c, l = get(WH_CACHED), get(WH_LOCAL)
    r = None if c is None or l is None else c.mib_s / l.mib_s
    table.append([f"7 download, {bench.args.download_mib} MiB wheel (MiB/s)", cell(c, True), cell(l, True),
                  cell(get(DEVPI), True), cell(get(PROXPI), True), cell(get(UPSTREAM), True), fmt_ratio(r),
                  f">=0.9x local ({fmt_ratio(r)})", met(None if r is None else r >= 0.9)])
    return table


def ratio(a, b) -> float | None:
    return None if a is None or b is None or not b.rps else a.rps / b.rps


def times(r: float | None) -> str:
    return "n/a" if r is None else f"{r:.1f}x"


def version_of(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def report(bench: Run) -> str:
    args, binary, extra = bench.args, bench.binary, bench.extra
    affinity = len(os.sched_getaffinity(0))
    lines = [
        "Wheelhouse benchmark, scenario 7: caching an upstream index" + (" (--quick)" if args.quick else ""),
        f"machine: {os.cpu_count()} cores ({affinity} usable), {time.strftime('%Y-%m-%d %H:%M %Z')}; "
        f"everything on 127.0.0.1, the clients and the load generator share the cores; load average "
        f"{extra['loadavg_start']:.1f} at the start, {extra['loadavg_end']:.1f} at the end",
        f"Wheelhouse: {binary} (built {time.strftime('%Y-%m-%d %H:%M', time.localtime(binary.stat().st_mtime))}, "
        f"repo at {git_revision()}), cache mode, group index, WHEELHOUSE_LOG_LEVEL=warning, SQLite",
        f"devpi-server {version_of('devpi-server')} (waitress, 50 threads); proxpi {version_of('proxpi')} "
        f"(gunicorn, 1 process, 16 threads); page lifetime {args.ttl} s on all three",
        f"upstream: nginx, {affinity} workers, static PEP 691/503 pages of {extra['upstream_projects']} projects: "
        f"the closure of {' '.join(static_upstream.CLOSURE)} ({extra['closure_wheels']} wheels, "
        f"{extra['closure_mib']:.1f} MiB) and the measured pages' files",
        f"clients: uv {version_of('uv')} (--no-cache), pip {version_of('pip')} (--no-cache-dir), into a fresh venv; "
        f"cold and warm installs: median of {args.rounds} rounds, each on proxies started afresh",
        f"load: wrk -t{args.threads} -c{args.connections} -d{args.seconds}s --latency after a {args.warmup} s warm-up; "
        f"cells are req/s (or MiB/s) then p50/p99 latency; WH cached and WH local alternate {args.rounds} rounds, "
        f"the median kept; devpi, proxpi and nginx run once",
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
# The entry point (benchmarks/run upstream)


def _raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


def main(argv=None) -> int:
    args = options(argv)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_exit)
    began = time.monotonic()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="wheelhouse-bench-upstream-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        nginx_bin, wrk_bin = ensure_system_tools()
        if args.bin is None:
            from compare import build_binary  # the full benchmark's build, when no binary is given
            args.bin = build_binary()
        binary = args.bin.resolve()
        if not os.access(binary, os.X_OK):
            raise BenchError(f"{binary} is not an executable")
        log(f"{os.cpu_count()} cores; binary {binary}; work directory {work}")
        bench = run(args, work, binary, nginx_bin, wrk_bin)
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
