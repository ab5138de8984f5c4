"""The caching proxies Wheelhouse is compared with in scenario 7, both from PyPI (pinned in
benchmarks/run), each with an empty cache of its own, pointed at the static upstream and keeping
its pages as long as Wheelhouse does (`ttl`):

- devpi-server: `devpi-init` then `devpi-server` (waitress, its default 50 threads), and a mirror
  index `root/upstream` made through its JSON API;
- proxpi: its Flask app under gunicorn, one process (its README: the cache is per process) with
  16 threads, one per wrk connection.
"""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from server import free_port

from .client import request
from .common import HOST, BenchError, tail
from .processes import PROCS, wait_http

DEVPI, PROXPI = "devpi", "proxpi"


@dataclass
class Proxy:
    name: str
    proc: subprocess.Popen
    port: int
    index_path: str  # the simple index clients are given, ending in "/"

    @property
    def index_url(self) -> str:
        return f"http://{HOST}:{self.port}{self.index_path}"

    def page_path(self, project: str) -> str:
        return f"{self.index_path}{project}/"


def venv_tool(name: str) -> Path:
    tool = Path(sys.executable).parent / name
    if not tool.exists():
        raise BenchError(f"{name} is not installed in this Python (run through benchmarks/run)")
    return tool


def start_devpi(work: Path, upstream_url: str, ttl: int) -> Proxy:
    serverdir = work / "devpi"
    shutil.rmtree(serverdir, ignore_errors=True)
    init = subprocess.run([str(venv_tool("devpi-init")), "--serverdir", str(serverdir), "--no-root-pypi"],
                          capture_output=True, text=True, timeout=300)
    if init.returncode != 0:
        raise BenchError(f"devpi-init failed:\n{init.stdout[-2000:]}{init.stderr[-2000:]}")
    port = free_port()
    proc = PROCS.start(DEVPI, [str(venv_tool("devpi-server")), "--serverdir", str(serverdir), "--host", HOST,
                               "--port", str(port), "--mirror-cache-expiry", str(ttl)], work / "devpi.log")
    wait_http(proc, port, "/+api", timeout=120, poll=0.1)
    # root's password is empty after devpi-init; its login answers a token for X-Devpi-Auth.
    status, _, body = request(port, "POST", "/+login", {"Content-Type": "application/json", "Accept": "application/json"},
                              json.dumps({"user": "root", "password": ""}))
    if status != 200:
        raise BenchError(f"devpi login as root answered {status}: {body[:300]!r}")
    token = json.loads(body)["result"]["password"]
    auth = base64.b64encode(f"root:{token}".encode()).decode()
    status, _, body = request(port, "PUT", "/root/upstream",
                              {"Content-Type": "application/json", "Accept": "application/json", "X-Devpi-Auth": auth},
                              json.dumps({"type": "mirror", "mirror_url": upstream_url, "mirror_cache_expiry": ttl}))
    if status not in (200, 201):
        raise BenchError(f"devpi could not make the mirror index ({status}): {body[:300]!r}\n{tail(work / 'devpi.log')}")
    return Proxy(DEVPI, proc, port, "/root/upstream/+simple/")


def start_proxpi(work: Path, upstream_url: str, ttl: int) -> Proxy:
    cache = work / "proxpi-cache"
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    port = free_port()
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "PROXPI_INDEX_URL": upstream_url,
           "PROXPI_INDEX_TTL": str(ttl), "PROXPI_CACHE_DIR": str(cache), "PROXPI_LOGGING_LEVEL": "WARNING"}
    gunicorn = str(venv_tool("gunicorn"))
    help_text = subprocess.run([gunicorn, "--help"], capture_output=True, text=True, timeout=60).stdout
    argv = [gunicorn, "--workers", "1", "--threads", "16", "--bind", f"{HOST}:{port}", "--log-level", "warning",
            *(["--no-control-socket"] if "--no-control-socket" in help_text else []), "proxpi.server:app"]
    proc = PROCS.start(PROXPI, argv, work / "proxpi.log", env=env)
    wait_http(proc, port, "/health", timeout=60, poll=0.1)
    return Proxy(PROXPI, proc, port, "/index/")
