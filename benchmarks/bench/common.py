"""What every module of the benchmark shares: where it listens, units, the servers' names, its log."""
from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
HOST = "127.0.0.1"
JSON_ACCEPT = "application/vnd.pypi.simple.v1+json"
MiB = 1024 * 1024
WH, NGINX, PYPI = "Wheelhouse", "nginx", "pypiserver"
SERVERS = (WH, NGINX, PYPI)


class BenchError(Exception):
    """The run cannot go on (a server refused, a tool is missing): reported in one line, exit 1."""


def log(message: str) -> None:
    """Progress goes to stderr, so stdout holds the table alone."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
