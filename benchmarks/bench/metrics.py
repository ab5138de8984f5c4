"""Metrics on against metrics off, in the same run (`benchmarks/run metrics`): issue 15 says
counting costs next to nothing on the replay path, "the benchmark's page scenarios with metrics on
are within 3% of metrics off, measured in the same run". Standard library only.

One data dir (scenario 9's catalogue, bench/webcatalogue.py, with few search packages), two servers
on it side by side on different ports: `serve` as it is, and `serve --no-metrics`. Each row is a
page: simple index pages answered from the replay cache below Hummingbird (the one-file page, HTML
and JSON, and the 500-file page), and the web package page, which is rendered by the framework's
handlers every time (no replay). In every round each row is loaded on both servers one after the
other, with the same wrk connections, threads and duration, the order flipping from round to
round, so that drift on a busy machine falls on both sides alike; each server is left to go idle
between runs. Per run: req/s, p50, p99 and the server's CPU per request (utime + stime of its
process over the measured seconds, divided by wrk's request count: on shared cores this moves
less than req/s). Per row: the median of the per-round differences on vs off, in percent, with
their range, and the difference of the medians.

Before the loads each page is checked on both servers (200, the content type, the files listed);
the metrics server's /-/metrics is read around each of its runs, which shows whether the row was
replayed (wheelhouse_replayed_answers_total moved with the request counter) and that the
requests were counted, and the --no-metrics server's must carry no request counter at all.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote

from .client import request
from .common import JSON_ACCEPT, BenchError, log
from .entry import run_benchmark
from .pages import Bench as PagesBench
from .pages import MixWrk, Row, check, package_rows
from .peers import Load, ensure_system_tools
from .processes import session_cpu_ticks, wait_until_idle
from .reporting import fmt_ms, git_revision, render
from .webcatalogue import SEARCH_PROJECTS, WebCatalogue, search_entries, seed
from .wheelhouse import Wheelhouse

TARGET_PERCENT = 3.0
ON, OFF = "on", "off"
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def options(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchmarks/run metrics", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", type=Path, help="a Wheelhouse binary (default: build the release binary)")
    parser.add_argument("--quick", action="store_true", help="1 s loads, 3 rounds")
    parser.add_argument("--seconds", type=int, help="seconds per wrk run (default 3, --quick 1)")
    parser.add_argument("--rounds", type=int, help="rounds, each loading every row on and off (default 5, "
                        "--quick 3; at least 3)")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of wrk warm-up before each run (default 1)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--search-packages", type=int, default=40,
                        help="one-file packages besides the two package pages' (default 40)")
    parser.add_argument("--readme-kib", type=int, default=20, help="size of the package pages' README (default 20)")
    parser.add_argument("--target-percent", type=float, default=TARGET_PERCENT,
                        help="how far below metrics off metrics on may be (default 3)")
    parser.add_argument("--together", action="store_true",
                        help="load both servers at the same time (one wrk each) instead of one after the other")
    parser.add_argument("--database-url", help="run Wheelhouse on this (empty) PostgreSQL database")
    parser.add_argument("--work-dir", type=Path, help="where data goes (default: a new directory in /tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (1 if args.quick else 3)
    args.rounds = max(3, args.rounds or (3 if args.quick else 5))
    return args


# ---------------------------------------------------------------------------------------------
# Reading /-/metrics


def metric_total(text: str, name: str) -> float:
    """The sum of every series of `name` in Prometheus' text format (0 when there is none)."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, _, value = line.rpartition(" ")
        if series.split("{", 1)[0] == name:
            total += float(value)
    return total


def scrape(server: Wheelhouse) -> str:
    status, _, body = request(server.port, "GET", "/-/metrics")
    if status != 200:
        raise BenchError(f"GET /-/metrics on port {server.port} answered {status}")
    return body.decode()


def build_version(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("wheelhouse_build_info{") and 'version="' in line:
            return line.split('version="', 1)[1].split('"', 1)[0]
    return "?"


# ---------------------------------------------------------------------------------------------
# Rows and runs


@dataclass
class Run:
    server: str
    round: int
    load: Load
    cpu_us: float  # the server's CPU time per answered request, in microseconds
    replayed: float | None = None  # replayed answers / counted requests (metrics on only)
    counted: float | None = None  # wheelhouse_http_requests_total's increase / wrk's requests (metrics on only)


@dataclass
class MetricsRow:
    """A page loaded on both servers. `page` is scenario 9's Row (its path and checks); `accept`
    the Accept header sent; `replay` whether the page is meant to be answered by replay."""
    page: Row
    accept: str
    replay: bool
    runs: list[Run] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.page.key

    def headers(self) -> dict[str, str]:
        return {"Accept": self.accept}

    def of(self, server: str) -> list[Run]:
        return [run for run in self.runs if run.server == server]


@dataclass
class Bench:
    args: argparse.Namespace
    servers: dict[str, Wheelhouse]
    wrk: MixWrk
    cat: WebCatalogue | None = None
    rows: list[MetricsRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    loadavg: list[tuple[float, float, float]] = field(default_factory=list)
    version: str = "?"
    started: str = ""


def small_package() -> tuple[str, str]:
    """(project path, name) of the first one-file package the catalogue uploads (public)."""
    entry = next(e for e in search_entries(len(SEARCH_PROJECTS)) if e.public)
    return entry.project, entry.name


def make_rows(cat: WebCatalogue) -> list[MetricsRow]:
    project, name = small_package()
    simple_small = f"/api/v4/projects/{quote(project, safe='')}/packages/pypi/simple/{name}/"
    html, json_ = "text/html", JSON_ACCEPT
    pages = {row.key: row for row in package_rows(cat)}
    return [
        MetricsRow(Row(key="simple_small_html", label=f"simple page, 1 file ({name}), HTML", paths=[simple_small],
                       checks=[("files linked", rb"<a ", "1")]), html, replay=True),
        MetricsRow(Row(key="simple_small_json", label=f"simple page, 1 file ({name}), JSON", paths=[simple_small]),
                   json_, replay=True),
        MetricsRow(Row(key="simple_wide_html", label="simple page, 500 files (wide-wheels), HTML",
                       paths=[cat.simple_page], checks=pages["simple_wide"].checks), html, replay=True),
        MetricsRow(Row(key="web_long_history", label="web package page, 100 releases x 5 files, anonymous",
                       paths=[cat.pages[1].path], checks=pages[f"page_{cat.pages[1].name}_anonymous"].checks),
                   html, replay=False),
    ]


def check_rows(bench: Bench) -> None:
    """Each page on each server: 200 with the content type asked for; scenario 9's checks (files,
    releases, links) on the metrics server's HTML; both servers' answers the same size."""
    on = bench.servers[ON]
    view = PagesBench(args=bench.args, wh=on, wrk=bench.wrk)
    for row in bench.rows:
        sizes = {}
        for name, server in bench.servers.items():
            status, headers, body = request(server.port, "GET", row.page.paths[0], row.headers())
            if status != 200:
                raise BenchError(f"{row.key}: GET {row.page.paths[0]} answered {status} with metrics {name}")
            kind = headers.get("content-type", "")
            if not kind.startswith(row.accept):
                bench.notes.append(f"{row.key}: answered {kind} with metrics {name}, not {row.accept}")
            sizes[name] = len(body)
            if row.accept == JSON_ACCEPT:
                files = len(json.loads(body).get("files", []))
                if files != 1:
                    bench.notes.append(f"{row.key}: {files} files in the JSON page with metrics {name}, expected 1")
        row.page.answer_bytes = [sizes[ON]]
        if sizes[ON] != sizes[OFF]:
            bench.notes.append(f"{row.key}: {sizes[ON]} bytes with metrics on, {sizes[OFF]} off")
        if row.accept != JSON_ACCEPT:
            check(view, row.page)
            row.page.answer_bytes = [sizes[ON]]
    bench.notes.extend(view.notes)


def measure_one(bench: Bench, row: MetricsRow, name: str, round: int) -> Run:
    server, wrk = bench.servers[name], bench.wrk
    port, paths, headers = server.port, row.page.paths, row.headers()
    if bench.args.warmup > 0:
        wrk.run_paths(port, paths, headers, seconds=bench.args.warmup)
    before = scrape(server) if name == ON else ""
    ticks = session_cpu_ticks(server.proc.pid)
    load = wrk.run_paths(port, paths, headers)
    cpu_seconds = (session_cpu_ticks(server.proc.pid) - ticks) / TICKS_PER_SECOND
    run = Run(server=name, round=round, load=load,
              cpu_us=cpu_seconds * 1e6 / load.requests if load.requests else float("nan"))
    if name == ON and load.requests:
        after = scrape(server)
        grew = lambda metric: metric_total(after, metric) - metric_total(before, metric)
        counted = grew("wheelhouse_http_requests_total")  # the answers in flight at the end, and one scrape, too
        run.counted = counted / load.requests
        run.replayed = grew("wheelhouse_replayed_answers_total") / counted if counted else None
    if load.errors:
        bench.notes.append(f"{row.key}, metrics {name}, round {round + 1}: {load.errors}")
    if run.replayed is not None and (run.replayed >= 0.5) != row.replay:
        bench.notes.append(f"{row.key}, round {round + 1}: {run.replayed:.0%} of the answers replayed, "
                           f"expected {'most' if row.replay else 'none'}")
    log(f"wrk {row.key} metrics {name:3} (round {round + 1} of {bench.args.rounds}): {load.rps:,.0f} req/s, "
        f"p50 {load.p50_ms:.2f} ms, p99 {load.p99_ms:.2f} ms, {run.cpu_us:.0f} us CPU/request"
        + (f", {run.replayed:.0%} replayed" if run.replayed is not None else ""))
    # Requests wrk gave up on are still being answered: let them finish before the next run.
    wait_until_idle(server.proc.pid)
    return run


def start_servers(args, work: Path, binary: Path) -> dict[str, Wheelhouse]:
    help_text = subprocess.run([str(binary), "serve", "--help"], capture_output=True, text=True, timeout=60).stdout
    if "--no-metrics" not in help_text:
        raise BenchError(f"{binary} has no `serve --no-metrics`: nothing to compare")
    return {ON: Wheelhouse(binary, work, args.database_url),
            OFF: Wheelhouse(binary, work, args.database_url, serve_args=["--no-metrics"],
                            log_name="wheelhouse-no-metrics.log")}


def run(args, work: Path, binary: Path, wrk_bin: str) -> Bench:
    shutil.rmtree(work / "data", ignore_errors=True)  # a --work-dir from an earlier run
    bench = Bench(args=args, servers=start_servers(args, work, binary),
                  wrk=MixWrk(wrk_bin, args.threads, args.connections, args.seconds, 0, work=work))
    on, off = bench.servers[ON], bench.servers[OFF]
    on.start()
    bench.cat = seed(on, args.search_packages, args.readme_kib)
    off.start()  # on the data the first one put in place
    text_on, text_off = scrape(on), scrape(off)
    bench.version = build_version(text_on)
    if metric_total(text_off, "wheelhouse_http_requests_total") or "wheelhouse_http_requests_total{" in text_off:
        raise BenchError("the --no-metrics server still counts requests (wheelhouse_http_requests_total)")
    if "wheelhouse_http_requests_total{" not in text_on:
        raise BenchError("the metrics server shows no wheelhouse_http_requests_total")
    bench.rows = make_rows(bench.cat)
    check_rows(bench)
    for server in (on, off):
        wait_until_idle(server.proc.pid)  # the uploads' last writes, the checks
    bench.started = time.strftime("%Y-%m-%d %H:%M %Z")
    bench.loadavg.append(os.getloadavg())
    for round in range(args.rounds):
        order = (ON, OFF) if round % 2 == 0 else (OFF, ON)
        for row in bench.rows:
            if args.together:  # two wrk at once: whatever else runs on the machine hits both alike
                with ThreadPoolExecutor(2) as pool:
                    row.runs.extend(pool.map(lambda name: measure_one(bench, row, name, round), order))
            else:
                for name in order:
                    row.runs.append(measure_one(bench, row, name, round))
    bench.loadavg.append(os.getloadavg())
    text_off = scrape(off)
    if "wheelhouse_http_requests_total{" in text_off:
        bench.notes.append("the --no-metrics server showed request counters after the loads")
    for server in (on, off):
        server.stop()
    return bench


# ---------------------------------------------------------------------------------------------
# The report


def percent(a: float, b: float) -> float:
    return (a - b) / b * 100 if b else float("nan")


def fmt_pct(x: float) -> str:
    return f"{x:+.1f}%"


@dataclass
class Summary:
    """One row's figures: medians on and off, and the on-vs-off differences in percent (per round,
    paired with the off run next to it; and of the medians)."""
    rps_on: float
    rps_off: float
    p99_on: float
    p99_off: float
    cpu_on: float
    cpu_off: float
    paired_rps: list[float]
    paired_p99: list[float]
    paired_cpu: list[float]
    replayed: float | None
    counted: float | None

    @property
    def rps_diff(self) -> float:
        """The figure held to the target: the median of the per-round req/s differences."""
        return statistics.median(self.paired_rps)


def summarize(row: MetricsRow) -> Summary:
    on, off = row.of(ON), row.of(OFF)
    pairs = list(zip(on, off))  # same round
    med = lambda runs, f: statistics.median(f(r) for r in runs)
    replayed = [r.replayed for r in on if r.replayed is not None]
    counted = [r.counted for r in on if r.counted is not None]
    return Summary(
        rps_on=med(on, lambda r: r.load.rps), rps_off=med(off, lambda r: r.load.rps),
        p99_on=med(on, lambda r: r.load.p99_ms), p99_off=med(off, lambda r: r.load.p99_ms),
        cpu_on=med(on, lambda r: r.cpu_us), cpu_off=med(off, lambda r: r.cpu_us),
        paired_rps=[percent(a.load.rps, b.load.rps) for a, b in pairs],
        paired_p99=[percent(a.load.p99_ms, b.load.p99_ms) for a, b in pairs],
        paired_cpu=[percent(a.cpu_us, b.cpu_us) for a, b in pairs],
        replayed=statistics.median(replayed) if replayed else None,
        counted=statistics.median(counted) if counted else None,
    )


RUN_HEADER = ["row", "round", "metrics", "req/s", "p50", "p99", "CPU/request", "replayed", "counted"]
SUMMARY_HEADER = ["row", "answer", "replayed", "req/s on", "req/s off", "req/s on vs off (range)", "medians",
                  "p99 on", "p99 off", "p99 on vs off", "CPU/req on", "CPU/req off", "CPU on vs off",
                  "target", "met"]


def run_table(bench: Bench) -> list[list[str]]:
    out = []
    for row in bench.rows:
        for run in sorted(row.runs, key=lambda r: (r.round, r.server)):
            out.append([row.key, str(run.round + 1), run.server, f"{run.load.rps:,.0f}/s" + ("*" if run.load.errors else ""),
                        f"{fmt_ms(run.load.p50_ms)} ms", f"{fmt_ms(run.load.p99_ms)} ms", f"{run.cpu_us:.0f} us",
                        "" if run.replayed is None else f"{run.replayed:.0%}",
                        "" if run.counted is None else f"{run.counted:.2f}"])
    return out


def summary_table(bench: Bench) -> list[list[str]]:
    out = []
    for row in bench.rows:
        s = summarize(row)
        ok = s.rps_diff >= -bench.args.target_percent
        out.append([
            row.page.label, f"{row.page.answer_bytes[0] / 1024:.1f} KiB" if row.page.answer_bytes else "",
            "?" if s.replayed is None else f"{s.replayed:.0%}",
            f"{s.rps_on:,.0f}/s", f"{s.rps_off:,.0f}/s",
            f"{fmt_pct(s.rps_diff)} ({fmt_pct(min(s.paired_rps))}..{fmt_pct(max(s.paired_rps))})",
            fmt_pct(percent(s.rps_on, s.rps_off)),
            f"{fmt_ms(s.p99_on)} ms", f"{fmt_ms(s.p99_off)} ms", fmt_pct(statistics.median(s.paired_p99)),
            f"{s.cpu_on:.0f} us", f"{s.cpu_off:.0f} us", fmt_pct(statistics.median(s.paired_cpu)),
            f"on >= off - {bench.args.target_percent:g}% ({fmt_pct(s.rps_diff)})", "met" if ok else "NOT MET",
        ])
    return out


def report(bench: Bench, binary: Path) -> str:
    args, cat = bench.args, bench.cat
    (a1, a5, a15), (b1, b5, b15) = bench.loadavg[0], bench.loadavg[-1]
    lines = [
        "Wheelhouse benchmark: metrics on vs off (issue 15)" + (" (--quick)" if args.quick else ""),
        f"machine: {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), {bench.started}; load average "
        f"{a1:.2f} {a5:.2f} {a15:.2f} at the first load, {b1:.2f} {b5:.2f} {b15:.2f} at the last; everything on "
        f"127.0.0.1, wrk shares the cores",
        f"Wheelhouse: {binary} (built {time.strftime('%Y-%m-%d %H:%M', time.localtime(binary.stat().st_mtime))}, "
        f"version {bench.version}; benchmarks at {git_revision()}), WHEELHOUSE_LOG_LEVEL=warning, "
        + ("PostgreSQL (--database-url)" if args.database_url else "SQLite in the data dir"),
        f"two servers on one data dir, side by side: `serve` (metrics on) and `serve --no-metrics` (off)",
        f"load: wrk -t{args.threads} -c{args.connections} -d{args.seconds}s --latency after a {args.warmup} s warm-up, "
        f"{args.rounds} rounds, each loading every row on both servers "
        + ("at the same time (--together: one wrk per server, sharing the cores)" if args.together else
           "in turn (on first in odd rounds, off first in even ones)") + ", each server idle before each run",
        f"catalogue: {cat.uploads:,} files uploaded over HTTP in {cat.upload_seconds:.0f} s",
        "CPU/request: the server's utime + stime over the measured seconds / wrk's requests; counted: "
        "wheelhouse_http_requests_total's increase / wrk's requests (answers still in flight when wrk stops "
        "count too); replayed: wheelhouse_replayed_answers_total's increase / that increase (metrics on only)",
        "on vs off: the median of the per-round differences (the range over the rounds); medians: "
        "the difference of the two medians",
        "",
        render(summary_table(bench), SUMMARY_HEADER),
        "",
        "every run:",
        render(run_table(bench), RUN_HEADER),
    ]
    if bench.notes:
        lines += ["", "notes (* in a cell: wrk saw errors):"] + [f"  - {n}" for n in bench.notes]
    return "\n".join(lines)


def write_json(bench: Bench, path: Path) -> None:
    path.write_text(json.dumps({
        "version": bench.version, "loadavg": bench.loadavg, "notes": bench.notes,
        "rows": {row.key: {"label": row.page.label, "path": row.page.paths[0], "accept": row.accept,
                           "answer_bytes": row.page.answer_bytes, "summary": asdict(summarize(row)),
                           "runs": [asdict(run) for run in row.runs]}
                 for row in bench.rows}}, indent=2))


# ---------------------------------------------------------------------------------------------
# The entry point (benchmarks/run metrics)


def main(argv=None) -> int:
    args = options(argv)

    def measure(work: Path, binary: Path) -> str:
        _, wrk_bin = ensure_system_tools()
        bench = run(args, work, binary, wrk_bin)
        if args.json:
            write_json(bench, args.json)
        return report(bench, binary)

    return run_benchmark(args, "metrics", measure)


if __name__ == "__main__":
    sys.exit(main())
