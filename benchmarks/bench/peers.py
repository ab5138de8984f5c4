"""What Wheelhouse is compared with and loaded by: nginx serving the very bytes it rendered as static
files, pypiserver 2.4.2 over the same package files, and wrk, whose output becomes a Load."""
from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from server import free_port

from .common import HOST, JSON_ACCEPT, NGINX, PYPI, MiB, BenchError, log
from .processes import PROCS, wait_http


def find_tool(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/sbin")


def ensure_system_tools() -> tuple[str, str]:
    nginx, wrk = find_tool("nginx"), find_tool("wrk")
    if nginx and wrk:
        return nginx, wrk
    if os.geteuid() != 0:
        raise BenchError("nginx and wrk are needed: apt-get install -y nginx-light wrk (as root)")
    log("installing nginx-light and wrk with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for argv in (["apt-get", "update"], ["apt-get", "install", "-y", "nginx-light", "wrk"]):
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            raise BenchError(f"{' '.join(argv)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    nginx, wrk = find_tool("nginx"), find_tool("wrk")
    if not (nginx and wrk):
        raise BenchError("nginx or wrk still missing after apt-get install")
    return nginx, wrk


def start_nginx(nginx: str, work: Path, docroot: Path, probe: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    prefix = work / "nginx"
    prefix.mkdir(exist_ok=True)
    workers = len(os.sched_getaffinity(0))
    conf = prefix / "nginx.conf"
    conf.write_text(f"""
{'user root;' if os.geteuid() == 0 else ''}
worker_processes {workers};
daemon off;
master_process on;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    client_body_temp_path {prefix}/body;
    types {{
        text/html html;
        {JSON_ACCEPT} json;
        application/octet-stream whl;
        application/gzip gz;
    }}
    default_type application/octet-stream;
    server {{
        listen {HOST}:{port};
        root {docroot};
        location / {{ }}
    }}
}}
""")
    help_text = subprocess.run([nginx, "-h"], capture_output=True, text=True, timeout=30).stderr
    argv = [nginx, "-p", f"{prefix}/", "-c", str(conf)] + (["-e", str(prefix / "error.log")] if " -e " in help_text else [])
    proc = PROCS.start(NGINX, argv, work / "nginx.log")
    wait_http(proc, port, probe, timeout=30)
    return proc, port


def start_pypiserver(work: Path, packages: Path) -> tuple[subprocess.Popen | None, int, str]:
    """gunicorn with 2 sync workers; else pypi-server's own default server. (None, 0, why) if neither."""
    bindir = Path(sys.executable).parent
    gunicorn, pypi_server = bindir / "gunicorn", bindir / "pypi-server"
    app = (f"pypiserver:app(roots=[{str(packages)!r}], authenticate=[], password_file='.', "
           f"backend_arg='cached-dir', disable_fallback=True)")
    attempts = []
    if gunicorn.exists():
        help_text = subprocess.run([str(gunicorn), "--help"], capture_output=True, text=True, timeout=60).stdout
        port = free_port()
        argv = [str(gunicorn), "-w", "2", "-b", f"{HOST}:{port}", "--timeout", "300", "--graceful-timeout", "5",
                "--log-level", "warning"] + (["--no-control-socket"] if "--no-control-socket" in help_text else []) + [app]
        attempts.append(("gunicorn -w 2 (sync workers)", argv, port))
    if pypi_server.exists():
        port = free_port()
        argv = [str(pypi_server), "run", "-p", str(port), "-i", HOST, "-a", ".", "-P", ".",
                "--backend", "cached-dir", "--disable-fallback", str(packages)]
        attempts.append(("pypi-server run (its default server)", argv, port))
    why = "pypiserver is not installed in this Python (run through benchmarks/run)"
    for label, argv, port in attempts:
        proc = PROCS.start(PYPI, argv, work / "pypiserver.log")
        try:
            wait_http(proc, port, "/health", timeout=60)
            return proc, port, label
        except BenchError as error:
            why = f"{label}: {error}"
            log(f"pypiserver via {label} failed: {error}")
            PROCS.stop(proc)
    return None, 0, why


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    mib_s: float
    requests: int
    errors: str = ""


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}
_UNITS_B = {"B": 1 / MiB, "KB": 1 / 1024, "MB": 1.0, "GB": 1024.0, "TB": 1024.0 * 1024}


def parse_wrk(out: str) -> Load:
    def latency(pct: str) -> float:
        m = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        return float(m.group(1)) * _UNITS_MS[m.group(2)] if m else math.nan
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)([KMGT]?B)", out)
    count = re.search(r"(\d+) requests in", out)
    errors = []
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock and any(int(x) for x in sock.groups()):
        errors.append("socket errors: connect %s, read %s, write %s, timeout %s" % sock.groups())
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        errors.append(f"{non2xx.group(1)} non-2xx/3xx responses")
    if not rps:
        raise BenchError(f"could not read wrk's output:\n{out}")
    return Load(
        rps=float(rps.group(1)), p50_ms=latency("50"), p99_ms=latency("99"),
        mib_s=float(transfer.group(1)) * _UNITS_B[transfer.group(2)] if transfer else math.nan,
        requests=int(count.group(1)) if count else 0, errors="; ".join(errors),
    )


class Wrk:
    def __init__(self, binary: str, threads: int, connections: int, seconds: int, warmup: int) -> None:
        self.binary, self.threads, self.connections, self.seconds, self.warmup = binary, threads, connections, seconds, warmup

    def run(self, port: int, path: str, headers: dict[str, str]) -> Load:
        url = f"http://{HOST}:{port}{path}"
        header_args = [a for k, v in headers.items() for a in ("-H", f"{k}: {v}")]
        base = [self.binary, f"-t{self.threads}", f"-c{self.connections}", "--timeout", "10s", *header_args]
        if self.warmup > 0:
            subprocess.run(base + [f"-d{self.warmup}s", url], capture_output=True, text=True, timeout=self.warmup + 60)
        done = subprocess.run(base + [f"-d{self.seconds}s", "--latency", url], capture_output=True, text=True,
                              timeout=self.seconds + 60)
        if done.returncode != 0:
            raise BenchError(f"wrk failed for {url}: {done.stderr.strip() or done.stdout.strip()}")
        return parse_wrk(done.stdout)
