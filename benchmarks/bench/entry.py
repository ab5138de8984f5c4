"""The life of one benchmark run, from options to exit code, in one place: SIGTERM and SIGHUP
become an exit that still cleans up, the binary is built when none is given, every process the
run started is stopped on exit, Ctrl-C or error, and the work directory in /tmp is removed unless
`--keep`. compare.py, upstream.py, objectstore.py and soak.py each spell this out in their own
`main`; `benchmarks/run pages` (bench/pages.py) was the first to use this one, `benchmarks/run
metrics` (bench/metrics.py) the second, and the others can move onto it as they are next changed."""
from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import Callable

from .common import BenchError, log
from .processes import PROCS


def _raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


def resolve_binary(given: Path | None) -> Path:
    """The binary to measure: `--bin` when given, else the release build (compare.py's)."""
    if given is None:
        from compare import build_binary  # the full benchmark's build, when no binary is given
        given = build_binary()
    binary = given.resolve()
    if not os.access(binary, os.X_OK):
        raise BenchError(f"{binary} is not an executable")
    return binary


def run_benchmark(args, prefix: str, measure: Callable[[Path, Path], str]) -> int:
    """Runs `measure(work directory, binary)`, prints the report it returns on stdout (progress
    went to stderr) and returns the exit code: 0, 1 after a BenchError (one line says why), 130
    after Ctrl-C. `args` needs `bin`, `work_dir` and `keep`."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_exit)
    began = time.monotonic()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix=f"wheelhouse-bench-{prefix}-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        binary = resolve_binary(args.bin)
        log(f"{os.cpu_count()} cores; binary {binary}; work directory {work}")
        print(measure(work, binary))
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
