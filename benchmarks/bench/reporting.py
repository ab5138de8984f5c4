"""The report: one table of every scenario with the ratios and the targets (met / NOT MET), a
header that says what ran where, the notes; and the raw figures as JSON."""
from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import time
from dataclasses import asdict
from pathlib import Path

from .common import NGINX, PYPI, REPO, WH
from .peers import Load
from .scenarios import Run


def fmt_ms(x: float) -> str:
    if math.isnan(x):
        return "?"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:.0f}"


def cell(load: Load | None, download: bool = False) -> str:
    if load is None:
        return "n/a"
    if load.requests == 0:
        return "no request done" + ("*" if load.errors else "")
    value = f"{load.mib_s:,.0f} MiB/s" if download else f"{load.rps:,.0f}/s"
    return f"{value} {fmt_ms(load.p50_ms)}/{fmt_ms(load.p99_ms)}ms" + ("*" if load.errors else "")


def ratio(a: Load | None, b: Load | None, download: bool = False) -> float | None:
    if a is None or b is None:
        return None
    x, y = (a.mib_s, b.mib_s) if download else (a.rps, b.rps)
    return x / y if y else None


def fmt_ratio(r: float | None) -> str:
    return "n/a" if r is None else f"{r:.2f}"


def met(ok: bool | None) -> str:
    return "" if ok is None else "met" if ok else "NOT MET"


def render(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), sep] + [line(r) for r in rows])


def git_revision() -> str:
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "?"


HEADER = ["scenario", WH, NGINX, PYPI, "WH/nginx", "WH/pypi", "target (measured)", "met"]


def rows(bench: Run) -> list[list[str]]:
    """The table's rows: the targets of README.md's "Performance" section, scenario by scenario."""
    args, results, extra = bench.args, bench.results, bench.extra
    table: list[list[str]] = []
    get = lambda key, server: results.get((key, server))
    for t in bench.targets:
        w, n, p = get(t.key, WH), get(t.key, NGINX), get(t.key, PYPI)
        r_n, r_p = ratio(w, n, t.download), ratio(w, p, t.download)
        if t.key.startswith(("pkg2", "pkg500")):
            ok = None if r_n is None or w is None else (r_n >= 0.5 and w.p99_ms < 10)
            target = f">=0.5x nginx ({fmt_ratio(r_n)}), p99<10ms ({fmt_ms(w.p99_ms) if w else '?'})"
        elif t.key.startswith(("index", "group")):
            ok = None if r_n is None else r_n >= 0.3
            target = f">=0.3x nginx ({fmt_ratio(r_n)})"
        else:
            ok = None if r_n is None else r_n >= 0.7
            target = f">=0.7x nginx ({fmt_ratio(r_n)})"
        table.append([t.label, cell(w, t.download), cell(n, t.download), cell(p, t.download),
                      fmt_ratio(r_n), fmt_ratio(r_p), target, met(ok)])

    anon, auth = get("anonymous", WH), get("authenticated", WH)
    r_auth = ratio(auth, anon)
    table.append(["4 anonymous read, public project", cell(anon), "", "", "", "", "", ""])
    table.append(["4 authenticated read (Basic token), private", cell(auth), "", "", "", "",
                  f">=0.8x anonymous ({fmt_ratio(r_auth)})", met(None if r_auth is None else r_auth >= 0.8)])

    speeds, pypi_speeds = extra["upload_mib_s"], extra.get("pypiserver_upload_mib_s") or []
    speed = statistics.median(speeds)
    pypi_speed = statistics.median(pypi_speeds) if pypi_speeds else None
    table.append([f"5 upload {args.upload_mib} MiB (median of {len(speeds)})", f"{speed:,.0f} MiB/s", "n/a",
                  f"{pypi_speed:,.0f} MiB/s" if pypi_speed else "n/a", "",
                  fmt_ratio(speed / pypi_speed if pypi_speed else None),
                  f">=200 MiB/s ({speed:,.0f})", met(speed >= 200)])
    above = (extra["upload_peak_rss_kib"] - extra["upload_idle_rss_kib"]) / 1024
    table.append(["5 upload: peak RSS above idle", f"{above:.1f} MiB (idle {extra['upload_idle_rss_kib'] / 1024:.1f})",
                  "", "", "", "", f"<64 MiB ({above:.1f})", met(above < 64)])

    big = big_label(extra)
    for t in bench.targets:
        if t.key in ("download", "range"):
            continue
        w, n = get(f"{t.key}_big", WH), get(f"{t.key}_big", NGINX)
        r_big, r_small = ratio(w, n), ratio(get(t.key, WH), get(t.key, NGINX))
        ok = None if r_big is None or r_small is None else r_big >= 0.8 * r_small
        table.append([f"6 [{big}] {t.label[2:]}", cell(w), cell(n), "n/a", fmt_ratio(r_big), "",
                      f">=0.8x small ratio {fmt_ratio(r_small)} ({fmt_ratio(r_big)})", met(ok)])
    startup = statistics.median(extra["big_startup_s"])
    table.append([f"6 [{big}] start-up to /-/health (median of 3)", f"{startup * 1000:.0f} ms", "", "", "", "",
                  f"<1 s ({startup:.2f} s)", met(startup < 1)])
    idle_big = extra["big_idle_rss_kib"] / 1024
    table.append([f"6 [{big}] idle RSS after start", f"{idle_big:.1f} MiB", "", "", "", "",
                  f"<100 MiB ({idle_big:.1f})", met(idle_big < 100)])
    table.append(["   (small catalogue: start-up, idle RSS)",
                  f"{extra['small_startup_s'] * 1000:.0f} ms, {extra['small_idle_rss_kib'] / 1024:.1f} MiB",
                  "", "", "", "", "", ""])
    table.append([f"   ({big}: RSS after its page loads)", f"{extra['big_rss_after_load_kib'] / 1024:.1f} MiB",
                  "", "", "", "", "", ""])
    return table


def big_label(extra: dict) -> str:
    return f"{extra['big_names'] // 1000}k pkgs/{extra['big_files'] / 1e6:g}M files"


def report(bench: Run) -> str:
    args, binary, cat, extra = bench.args, bench.binary, bench.cat, bench.extra
    affinity = len(os.sched_getaffinity(0))
    loaded = f"loaded in {extra['bulk_load_s']:.0f} s" + (f", database {extra['db_mib']:.0f} MiB" if "db_mib" in extra else "")
    lines = [
        "Wheelhouse benchmark" + (" (--quick)" if args.quick else ""),
        f"machine: {os.cpu_count()} cores ({affinity} usable), {time.strftime('%Y-%m-%d %H:%M %Z')}; "
        f"everything on 127.0.0.1, the load generator shares the cores",
        f"Wheelhouse: {binary} (built {time.strftime('%Y-%m-%d %H:%M', time.localtime(binary.stat().st_mtime))}, "
        f"repo at {git_revision()}), WHEELHOUSE_LOG_LEVEL=warning",
        f"nginx: {affinity} workers, static copies of the pages Wheelhouse rendered; "
        f"pypiserver 2.4.2: {bench.pypi_mode}, --backend cached-dir, no auth",
        f"load: wrk -t{args.threads} -c{args.connections} -d{args.seconds}s --latency, after a {args.warmup} s warm-up; "
        f"cells are req/s (or MiB/s) then p50/p99 latency" + (
            f"; {args.rounds} rounds alternating Wheelhouse and nginx, the median run kept (pypiserver: one run)"
            if args.rounds > 1 else ""),
        f"small catalogue: project of {cat.index_links:,} packages (1,500 files), group of "
        f"{len(cat.fleet_projects)} projects; large: {extra['big_names']:,} packages, {extra['big_files']:,} files "
        f"({loaded})",
        "database: " + ("PostgreSQL (--database-url)" if args.database_url else "SQLite in the data dir"),
        "",
        render(rows(bench), HEADER),
    ]
    if bench.notes:
        lines += ["", "notes (* in a cell: wrk saw errors):"] + [f"  - {n}" for n in bench.notes]
    return "\n".join(lines)


def write_json(bench: Run, path: Path) -> None:
    """The raw figures: every kept load by "scenario|server", the other figures, the notes."""
    path.write_text(json.dumps({
        "results": {f"{k}|{s}": asdict(v) for (k, s), v in bench.results.items()},
        "extra": {k: (str(v) if isinstance(v, Path) else v) for k, v in bench.extra.items()},
        "notes": bench.notes}, indent=2))
