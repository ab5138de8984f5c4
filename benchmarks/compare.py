#!/usr/bin/env python3
"""Wheelhouse against nginx (the same bytes as static files) and pypiserver 2.4.2, on loopback.

Run through `benchmarks/run` (it makes the venv with pypiserver and gunicorn); see README.md beside
this file. Everything it starts listens on 127.0.0.1 only and is stopped on exit, Ctrl-C or error.
This file holds the options and the run's lifecycle; the package `bench/` beside it does the rest.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import reporting, scenarios
from bench.common import REPO, BenchError, log
from bench.peers import ensure_system_tools
from bench.processes import PROCS


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", type=Path, help="a Wheelhouse binary (default: build the release binary)")
    parser.add_argument("--quick", action="store_true", help="1 s loads, 10k packages/100k files, one large upload")
    parser.add_argument("--seconds", type=int, help="seconds per wrk run (default 3, --quick 1)")
    parser.add_argument("--rounds", type=int, help="runs per scenario and server, alternating Wheelhouse and nginx; "
                        "the median is kept (default 3, --quick 1)")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of wrk warm-up before each run (default 1)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--big-packages", type=int, help="scenario 6 packages (default 100000, --quick 10000)")
    parser.add_argument("--big-files", type=int, help="scenario 6 files (default 1000000, --quick 100000)")
    parser.add_argument("--upload-mib", type=int, default=100,
                        help="size of the large upload (default 100; 1024 for the 1 GiB case)")
    parser.add_argument("--upload-runs", type=int, help="large uploads to time (default 3, --quick 1)")
    parser.add_argument("--work-dir", type=Path, help="where data goes (default: a new directory in /tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--database-url", help="run Wheelhouse on this (empty) PostgreSQL database, every scenario")
    args = parser.parse_args()
    args.seconds = args.seconds or (1 if args.quick else 3)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.big_packages = args.big_packages or (10_000 if args.quick else 100_000)
    args.big_files = args.big_files or (100_000 if args.quick else 1_000_000)
    args.upload_runs = args.upload_runs or (1 if args.quick else 3)
    args.index_packages, args.group_projects, args.group_packages, args.download_mib = 1000, 50, 10, 16
    return args


def build_binary() -> Path:
    argv = ["swift", "build", "-c", "release", "--scratch-path", ".build-release", "--product", "wheelhouse"]
    log(f"building: {' '.join(argv)} (a full build takes ~8 min on 2 cores)")
    done = subprocess.run(argv, cwd=REPO, stdout=sys.stderr, timeout=3600)  # stdout is for the table
    if done.returncode != 0:
        raise BenchError("the release build failed")
    return REPO / ".build-release" / "release" / "wheelhouse"


def _raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


def main() -> int:
    args = options()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_exit)
    began = time.monotonic()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="wheelhouse-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        nginx_bin, wrk_bin = ensure_system_tools()
        binary = (args.bin or build_binary()).resolve()
        if not os.access(binary, os.X_OK):
            raise BenchError(f"{binary} is not an executable")
        log(f"{os.cpu_count()} cores; binary {binary}; work directory {work}")
        bench = scenarios.run(args, work, binary, nginx_bin, wrk_bin)
        if args.json:
            reporting.write_json(bench, args.json)
        print(reporting.report(bench))
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
