"""Scenario 9, run alone (`benchmarks/run pages`): the web interface's package page and search
page (issue 14), anonymous and signed in, at 16 connections; target p99 < 10 ms, printed as a
figure (met / NOT MET), never failing the run. The catalogue is bench/webcatalogue.py's.

Rows are loaded with wrk (bench/peers.py) in `--rounds` rounds that alternate the rows of one
group (the package pages; the searches), each row's median run kept, as scenarios 1 to 4 do. A
search "mix" cycles through several queries, one per request, with a wrk Lua script. Before a row
is loaded its answer is checked: 200, HTML, and the page it claims to be (the files and releases
listed, the result count a search must give, the visitor's name when signed in); a page the binary
does not serve yet shows as n/a with a note. "1-conn p50" is the median with one connection
(wrk -c1): the time one answer costs, without the queueing of 16 connections on 2 cores.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote

from .client import request
from .common import HOST, BenchError, log
from .entry import run_benchmark
from .peers import Load, Wrk, ensure_system_tools, parse_wrk
from .processes import wait_until_idle
from .reporting import fmt_ms, git_revision, render
from .scenarios import median
from .webcatalogue import SESSION_COOKIE, SignInError, WebCatalogue, seed, sign_in
from .wheelhouse import Wheelhouse

TARGET_P99_MS = 10.0
NAME_QUERY, SUMMARY_QUERY, NO_MATCH, BROAD = "kafka", "telemetry", "qqzzxx-nothing", "platform"
MIX = [NAME_QUERY, SUMMARY_QUERY, NO_MATCH, "duck", "ledger platform", "client"]


def options(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchmarks/run pages", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", type=Path, help="a Wheelhouse binary (default: build the release binary)")
    parser.add_argument("--quick", action="store_true", help="1 s loads, one round")
    parser.add_argument("--seconds", type=int, help="seconds per wrk run (default 3, --quick 1)")
    parser.add_argument("--rounds", type=int, help="rounds alternating the rows of a group, the median kept "
                        "(default 3, --quick 1)")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of wrk warm-up before each run (default 1)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--search-packages", type=int, default=2000, help="packages searched (default 2000)")
    parser.add_argument("--readme-kib", type=int, default=20, help="size of the package pages' README (default 20)")
    parser.add_argument("--no-single", action="store_true", help="skip the one-connection p50 column")
    parser.add_argument("--database-url", help="run Wheelhouse on this (empty) PostgreSQL database")
    parser.add_argument("--work-dir", type=Path, help="where data goes (default: a new directory in /tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (1 if args.quick else 3)
    args.rounds = args.rounds or (1 if args.quick else 3)
    return args


# ---------------------------------------------------------------------------------------------
# Loads


class MixWrk(Wrk):
    """wrk on one path, or cycling through several (a Lua script: each request takes the next)."""

    def __init__(self, *args, work: Path) -> None:
        super().__init__(*args)
        self.work = work

    def run_paths(self, port: int, paths: list[str], headers: dict[str, str], connections: int | None = None,
                  threads: int | None = None, seconds: int | None = None) -> Load:
        url = f"http://{HOST}:{port}{paths[0]}"
        header_args = [a for k, v in headers.items() for a in ("-H", f"{k}: {v}")]
        script = []
        if len(paths) > 1:
            path = self.work / f"mix-{abs(hash(tuple(paths)))}.lua"
            path.write_text("local paths = {" + ", ".join(json.dumps(p) for p in paths) + "}\n"
                            "local i = 0\n"
                            "request = function()\n"
                            "  i = i % #paths + 1\n"
                            "  return wrk.format(nil, paths[i])\n"
                            "end\n")
            script = ["-s", str(path)]
        c, t = connections or self.connections, threads or self.threads
        base = [self.binary, f"-t{t}", f"-c{c}", "--timeout", "10s", *header_args, *script]
        if self.warmup > 0:
            subprocess.run(base + [f"-d{self.warmup}s", url], capture_output=True, text=True, timeout=self.warmup + 60)
        seconds = seconds or self.seconds
        done = subprocess.run(base + [f"-d{seconds}s", "--latency", url], capture_output=True, text=True,
                              timeout=seconds + 60)
        if done.returncode != 0:
            raise BenchError(f"wrk failed for {url}: {done.stderr.strip() or done.stdout.strip()}")
        return parse_wrk(done.stdout)


@dataclass
class Row:
    """One line of the table: what is loaded (one path, or several in turn), as whom, and what
    came of it. `checks` are (what, pattern, expected) held against the answer before the load:
    a pattern with a group reads a figure off the page, one without counts its matches. `target`:
    whether p99 < 10 ms is this row's target."""
    key: str
    label: str
    paths: list[str]
    signed_in: bool = False
    target: bool = True
    checks: list[tuple[str, bytes, str]] = field(default_factory=list)
    answer_bytes: list[int] = field(default_factory=list)
    load: Load | None = None
    single: Load | None = None
    skipped: str = ""


@dataclass
class Bench:
    args: argparse.Namespace
    wh: Wheelhouse
    wrk: MixWrk
    cat: WebCatalogue | None = None
    cookie: str | None = None
    groups: list[tuple[str, list[Row]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    loadavg: list[float] = field(default_factory=list)

    def headers(self, row: Row) -> dict[str, str]:
        headers = {"Accept": "text/html"}
        if row.signed_in and self.cookie:
            headers["Cookie"] = f"{SESSION_COOKIE}={self.cookie}"
        return headers


def check(bench: Bench, row: Row) -> None:
    """Holds each path's answer against what the row claims; a row the binary cannot serve (no
    such page, no sign-in) is skipped with a note, a page that differs is measured with one."""
    if row.signed_in and not bench.cookie:
        row.skipped = "no session (see the notes)"
        return
    for path in row.paths:
        status, headers, body = request(bench.wh.port, "GET", path, bench.headers(row))
        if status != 200:
            row.answer_bytes.clear()
            row.skipped = f"answered {status}"
            bench.notes.append(f"{row.key}: GET {path} answered {status}: not measured")
            return
        row.answer_bytes.append(len(body))
        if not headers.get("content-type", "").startswith("text/html"):
            bench.notes.append(f"{row.key}: GET {path} answered {headers.get('content-type')}, not HTML")
        if len(row.paths) > 1:
            continue  # a mix's queries are each checked in their own rows
        for what, pattern, expected in row.checks:
            if re.compile(pattern).groups:  # the figure the page prints
                found = m.group(1).decode().replace(",", "") if (m := re.search(pattern, body)) else "none"
            else:  # how many times it occurs
                found = str(len(re.findall(pattern, body)))
            if found != expected:
                bench.notes.append(f"{row.key}: {what}: found {found}, expected {expected} (GET {path})")


def measure_group(bench: Bench, rows: list[Row]) -> None:
    """Each row loaded once per round, rows alternating; each row's median run kept."""
    live = [row for row in rows if not row.skipped]
    runs: dict[str, list[Load]] = {row.key: [] for row in live}
    for round in range(bench.args.rounds):
        for row in live:
            load = bench.wrk.run_paths(bench.wh.port, row.paths, bench.headers(row))
            log(f"wrk {row.key}" + (f" (round {round + 1} of {bench.args.rounds})" if bench.args.rounds > 1 else "")
                + f": {load.rps:,.0f} req/s, p50 {load.p50_ms:.2f} ms, p99 {load.p99_ms:.2f} ms")
            if load.errors:
                bench.notes.append(f"{row.key}: {load.errors}")
            runs[row.key].append(load)
            # Requests wrk gave up on are still being answered: let them finish, or they slow the next row.
            wait_until_idle(bench.wh.proc.pid)
    for row in live:
        row.load = median(runs[row.key])
        if not bench.args.no_single:
            row.single = bench.wrk.run_paths(bench.wh.port, row.paths, bench.headers(row), connections=1, threads=1,
                                             seconds=min(bench.args.seconds, 2))
            wait_until_idle(bench.wh.proc.pid)


def package_rows(cat: WebCatalogue) -> list[Row]:
    rows = []
    files = rb'<td[^>]*class="[^"]*\bfilename\b'
    for page in cat.pages:
        shape = (f"{page.files} files in 1 release" if page.releases == 1
                 else f"{page.releases} releases x {page.files} files")
        versions = rb'href="' + re.escape(page.path.encode()) + rb'/[^"/]+"'  # not .../<version>/yank and the like
        checks = [("files listed (td.filename)", files, str(page.files)),
                  ("versions linked", versions, str(page.releases)),
                  ("yanked marks (span.yanked)", rb'<span[^>]*class="[^"]*\byanked\b', str(page.yanked))]
        for signed_in in (False, True):
            who = "signed in (maintainer)" if signed_in else "anonymous"
            marker = (("signed in as the visitor (span#current-user)", rb'id="current-user"', "1") if signed_in
                      else ("sign-in link (a#sign-in)", rb'id="sign-in"', "1"))
            rows.append(Row(key=f"page_{page.name}_{'session' if signed_in else 'anonymous'}",
                            label=f"package page, {shape}, {who}", paths=[page.path], signed_in=signed_in,
                            checks=checks + [marker]))
    rows.append(Row(key="simple_wide", label="  (reference: its simple index page, 500 files)",
                    paths=[cat.simple_page], target=False,
                    checks=[("files linked", rb"<a ", str(cat.pages[0].files))]))
    return rows


def search_path(query: str) -> str:
    return f"/-/search?q={quote(query)}"


def search_rows(cat: WebCatalogue) -> list[Row]:
    result_count = rb'id="result-count"[^>]*>\s*([\d,]+) package'
    public = sum(1 for e in cat.search if e.public)
    rows = []
    for key, query, what in (("name", NAME_QUERY, "name substring"), ("summary", SUMMARY_QUERY, "summary word"),
                             ("none", NO_MATCH, "no match"), ("broad", BROAD, "word in every summary")):
        expected = cat.expected_matches(query, signed_in=False)
        rows.append(Row(key=f"search_{key}", label=f"search, {what} '{query}' ({expected:,} of {public:,} found)",
                        paths=[search_path(query)],
                        checks=[("p#result-count", result_count, str(expected)),
                                ("results on the page (li.result)", rb'<li[^>]*class="[^"]*\bresult\b',
                                 str(min(expected, 20)))]))
    mix = [search_path(q) for q in MIX]
    rows.append(Row(key="search_mix_anonymous", label=f"search, mix of {len(MIX)} queries, anonymous", paths=mix))
    rows.append(Row(key="search_mix_session", label=f"search, mix of {len(MIX)} queries, signed in", paths=mix,
                    signed_in=True))
    return rows


def run(args, work: Path, binary: Path, wrk_bin: str) -> Bench:
    shutil.rmtree(work / "data", ignore_errors=True)  # a --work-dir from an earlier run
    bench = Bench(args=args, wh=Wheelhouse(binary, work, args.database_url),
                  wrk=MixWrk(wrk_bin, args.threads, args.connections, args.seconds, args.warmup, work=work))
    bench.wh.start()
    bench.cat = seed(bench.wh, args.search_packages, args.readme_kib)
    if not bench.cat.visitor_password_set:
        bench.notes.append("`wheelhouse user create --password-stdin` failed: no passwords in this binary")
    try:
        bench.cookie = sign_in(bench.wh.port)
    except SignInError as error:
        bench.notes.append(f"sign-in: {error}; the signed-in rows are n/a")
    bench.groups = [("package pages", package_rows(bench.cat)), ("search", search_rows(bench.cat))]
    bench.loadavg.append(os.getloadavg()[0])
    wait_until_idle(bench.wh.proc.pid)  # the uploads' last writes
    for _, rows in bench.groups:
        for row in rows:
            check(bench, row)
        measure_group(bench, rows)
    bench.loadavg.append(os.getloadavg()[0])
    bench.wh.stop()
    return bench


# ---------------------------------------------------------------------------------------------
# The report


def kib(sizes: list[int]) -> str:
    if not sizes:
        return ""
    low, high = min(sizes) / 1024, max(sizes) / 1024
    return f"{low:.1f} KiB" if math.isclose(low, high, rel_tol=0.05) else f"{low:.1f}-{high:.1f} KiB"


HEADER = ["scenario", "answer", "req/s", "p50", "p99", "1-conn p50", "target (measured)", "met"]


def table(bench: Bench) -> list[list[str]]:
    out = []
    for _, rows in bench.groups:
        for row in rows:
            load = row.load
            if load is None:
                out.append([f"9 {row.label}", kib(row.answer_bytes), "n/a", "", "", "", row.skipped, ""])
                continue
            single = f"{fmt_ms(row.single.p50_ms)} ms" if row.single and row.single.requests else (
                "none done" if row.single else "")
            if load.requests == 0:  # wrk counts only the answers that came within its -d seconds
                out.append([f"9 {row.label}", kib(row.answer_bytes), "0/s*", "", "", single,
                            f"p99 < {TARGET_P99_MS:g} ms (no answer within {bench.args.seconds} s)" if row.target
                            else "(for reference)", "NOT MET" if row.target else ""])
                continue
            ok = load.p99_ms < TARGET_P99_MS
            target = f"p99 < {TARGET_P99_MS:g} ms ({fmt_ms(load.p99_ms)})" if row.target else "(for reference)"
            out.append([f"9 {row.label}", kib(row.answer_bytes), f"{load.rps:,.0f}/s" + ("*" if load.errors else ""),
                        f"{fmt_ms(load.p50_ms)} ms", f"{fmt_ms(load.p99_ms)} ms", single,
                        target, ("met" if ok else "NOT MET") if row.target else ""])
    return out


def report(bench: Bench, binary: Path) -> str:
    args, cat = bench.args, bench.cat
    public = sum(1 for e in cat.search if e.public)
    lines = [
        "Wheelhouse benchmark, scenario 9: web pages" + (" (--quick)" if args.quick else ""),
        f"machine: {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), {time.strftime('%Y-%m-%d %H:%M %Z')}; "
        f"load average {bench.loadavg[0]:.2f} at the first load, {bench.loadavg[-1]:.2f} at the last; "
        f"everything on 127.0.0.1, wrk shares the cores",
        f"Wheelhouse: {binary} (built {time.strftime('%Y-%m-%d %H:%M', time.localtime(binary.stat().st_mtime))}, "
        f"repo at {git_revision()}), WHEELHOUSE_LOG_LEVEL=warning, "
        + ("PostgreSQL (--database-url)" if args.database_url else "SQLite in the data dir"),
        f"load: wrk -t{args.threads} -c{args.connections} -d{args.seconds}s --latency after a {args.warmup} s warm-up"
        + (f"; {args.rounds} rounds alternating the rows of a group, the median run kept" if args.rounds > 1 else ""),
        f"catalogue: {cat.uploads:,} files uploaded over HTTP in {cat.upload_seconds:.0f} s; package pages with a "
        f"{cat.readme_bytes / 1024:.1f} KiB Markdown README; search over {len(cat.search):,} packages "
        f"({public:,} public, the rest in a private project the visitor reads)",
        f"signed in: one session from POST /users/sign_in, sent as the {SESSION_COOKIE} cookie"
        if bench.cookie else "signed in: no session (see the notes)",
        f"search mix: {', '.join(repr(q) for q in MIX)}, one per request in turn",
        "",
        render(table(bench), HEADER),
    ]
    if bench.notes:
        lines += ["", "notes (* in a cell: wrk saw errors):"] + [f"  - {n}" for n in bench.notes]
    return "\n".join(lines)


def write_json(bench: Bench, path: Path) -> None:
    path.write_text(json.dumps({
        "rows": {row.key: {"label": row.label, "paths": row.paths, "answer_bytes": row.answer_bytes,
                           "load": asdict(row.load) if row.load else None,
                           "single": asdict(row.single) if row.single else None, "skipped": row.skipped}
                 for _, rows in bench.groups for row in rows},
        "loadavg": bench.loadavg, "notes": bench.notes}, indent=2))


# ---------------------------------------------------------------------------------------------
# The entry point (benchmarks/run pages)


def main(argv=None) -> int:
    args = options(argv)

    def measure(work: Path, binary: Path) -> str:
        _, wrk_bin = ensure_system_tools()
        bench = run(args, work, binary, wrk_bin)
        if args.json:
            write_json(bench, args.json)
        return report(bench, binary)

    return run_benchmark(args, "pages", measure)


if __name__ == "__main__":
    sys.exit(main())
