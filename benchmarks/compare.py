#!/usr/bin/env python3
"""Wheelhouse against nginx (the same bytes as static files) and pypiserver 2.4.2, on loopback.

Run through `benchmarks/run` (it makes the venv with pypiserver and gunicorn); see README.md beside
this file. Everything it starts listens on 127.0.0.1 only and is stopped on exit, Ctrl-C or error.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import io
import json
import math
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
HOST = "127.0.0.1"
JSON_ACCEPT = "application/vnd.pypi.simple.v1+json"
MiB = 1024 * 1024
WH, NGINX, PYPI = "Wheelhouse", "nginx", "pypiserver"
SERVERS = (WH, NGINX, PYPI)


class BenchError(Exception):
    pass


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# ---------------------------------------------------------------------------------------------
# Processes: every server runs in its own session, so a stop reaches its workers too.


class Processes:
    def __init__(self) -> None:
        self.running: list[subprocess.Popen] = []

    def start(self, name: str, argv: list[str], log_path: Path, env: dict | None = None) -> subprocess.Popen:
        with open(log_path, "ab") as logfile:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=logfile, stderr=subprocess.STDOUT,
                env=env, start_new_session=True,
            )
        proc.bench_name = name  # type: ignore[attr-defined]
        proc.bench_log = log_path  # type: ignore[attr-defined]
        self.running.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen, timeout: float = 15.0) -> None:
        if proc in self.running:
            self.running.remove(proc)
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._kill_session(proc.pid)
                proc.wait(5)
        self._kill_session(proc.pid)  # leftovers (workers) of the session this script created

    @staticmethod
    def _kill_session(sid: int) -> None:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                fields = stat[stat.rindex(")") + 2:].split()
                if int(fields[3]) == sid:  # field 6 of /proc/PID/stat: session id
                    os.kill(int(entry.name), signal.SIGKILL)
            except (OSError, ValueError, IndexError):
                continue

    def stop_all(self) -> None:
        while self.running:
            self.stop(self.running[-1], timeout=10)


PROCS = Processes()


def _raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


# ---------------------------------------------------------------------------------------------
# HTTP helpers (stdlib only, so the upload streams from disk without holding the body)


def request(port: int, method: str, path: str, headers: dict | None = None, body=None, timeout: float = 30.0):
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_http(proc: subprocess.Popen, port: int, path: str, timeout: float, poll: float = 0.002) -> float:
    """Seconds until GET path answers 200; raises if the process exits or the deadline passes."""
    start = time.monotonic()
    deadline = start + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"{proc.bench_name} exited with {proc.returncode}; log:\n{tail(proc.bench_log)}")
        try:
            status, _, _ = request(port, "GET", path, timeout=2)
            if status == 200:
                return time.monotonic() - start
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(poll)
    raise BenchError(f"{proc.bench_name} did not answer {path} within {timeout:.0f} s; log:\n{tail(proc.bench_log)}")


def session_cpu_ticks(sid: int) -> int:
    """CPU time (clock ticks) used so far by every process of session `sid`."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # after "pid (comm)": state, ppid, pgrp, session, ...
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def wait_until_idle(sid: int, timeout: float = 30.0) -> None:
    """Waits until a server (its whole session) has stopped using the CPU for half a second."""
    deadline = time.monotonic() + timeout
    last = session_cpu_ticks(sid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = session_cpu_ticks(sid)
        if now - last <= 2:
            return
        last = now


def proc_status_kib(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def multipart_upload(port: int, path: str, fields: list[tuple[str, str]], filename: str,
                     content: bytes | Path, auth: str | None, timeout: float = 300.0):
    """POSTs a twine-shaped multipart form; a Path is streamed from disk in 1 MiB chunks.
    Returns (status, body, seconds from the first byte sent to the whole response read)."""
    boundary = "wheelhouse-bench-" + os.urandom(12).hex()
    pre = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields
    ) + (f'--{boundary}\r\nContent-Disposition: form-data; name="content"; filename="{filename}"\r\n'
         f"Content-Type: application/octet-stream\r\n\r\n").encode()
    post = f"\r\n--{boundary}--\r\n".encode()
    size = content.stat().st_size if isinstance(content, Path) else len(content)
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.putrequest("POST", path, skip_accept_encoding=True)
        conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("Content-Length", str(len(pre) + size + len(post)))
        if auth:
            conn.putheader("Authorization", auth)
        conn.endheaders()
        start = time.monotonic()
        try:
            conn.send(pre)
            if isinstance(content, Path):
                with open(content, "rb") as f:
                    while chunk := f.read(MiB):
                        conn.send(chunk)
            else:
                conn.send(content)
            conn.send(post)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early (a refusal); read it below
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, body, time.monotonic() - start
    finally:
        conn.close()


def upload_fields(name: str, version: str, filetype: str, digest_source: bytes | Path) -> list[tuple[str, str]]:
    sha256, md5, blake = hashlib.sha256(), hashlib.md5(), hashlib.blake2b(digest_size=32)
    if isinstance(digest_source, Path):
        with open(digest_source, "rb") as f:
            while chunk := f.read(4 * MiB):
                sha256.update(chunk), md5.update(chunk), blake.update(chunk)
    else:
        sha256.update(digest_source), md5.update(digest_source), blake.update(digest_source)
    return [
        (":action", "file_upload"), ("protocol_version", "1"), ("metadata_version", "2.1"),
        ("name", name), ("version", version), ("filetype", filetype),
        ("pyversion", "py3" if filetype == "bdist_wheel" else "source"), ("requires_python", ">=3.8"),
        ("md5_digest", md5.hexdigest()), ("sha256_digest", sha256.hexdigest()),
        ("blake2_256_digest", blake.hexdigest()),
    ]


# ---------------------------------------------------------------------------------------------
# Real distributions, made in memory (small) or on disk (large)


def dist_name(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _metadata(name: str, version: str) -> bytes:
    return (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
            f"Summary: Wheelhouse benchmark package\nRequires-Python: >=3.8\n\n").encode()


def _record_line(path: str, data_digest: bytes, size: int) -> str:
    return f"{path},sha256={base64.urlsafe_b64encode(data_digest).rstrip(b'=').decode()},{size}\n"


def wheel_bytes(name: str, version: str) -> tuple[str, bytes]:
    d = dist_name(name)
    info = f"{d}-{version}.dist-info"
    members = {
        f"{d}/__init__.py": f"VERSION = {version!r}\n".encode(),
        f"{info}/METADATA": _metadata(name, version),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: wheelhouse-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(_record_line(p, hashlib.sha256(b).digest(), len(b)) for p, b in members.items())
    members[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p, b in members.items():
            z.writestr(p, b)
    return f"{d}-{version}-py3-none-any.whl", buf.getvalue()


def sdist_bytes(name: str, version: str) -> tuple[str, bytes]:
    d = dist_name(name)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for member, data in ((f"{d}-{version}/PKG-INFO", _metadata(name, version)),
                             (f"{d}-{version}/pyproject.toml", f'[project]\nname = "{name}"\nversion = "{version}"\n'.encode())):
            info = tarfile.TarInfo(member)
            info.size, info.mtime = len(data), 1_700_000_000
            t.addfile(info, io.BytesIO(data))
    return f"{d}-{version}.tar.gz", buf.getvalue()


def big_wheel(directory: Path, name: str, version: str, payload: int) -> Path:
    """A real wheel with `payload` random bytes stored (not deflated) in one member."""
    d = dist_name(name)
    info = f"{d}-{version}.dist-info"
    path = directory / f"{d}-{version}-py3-none-any.whl"
    digest = hashlib.sha256()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        with z.open(f"{d}/payload.bin", "w", force_zip64=True) as f:
            left = payload
            while left > 0:
                chunk = os.urandom(min(MiB, left))
                digest.update(chunk)
                f.write(chunk)
                left -= len(chunk)
        meta = _metadata(name, version)
        wheel = b"Wheel-Version: 1.0\nGenerator: wheelhouse-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        z.writestr(f"{info}/METADATA", meta)
        z.writestr(f"{info}/WHEEL", wheel)
        record = (_record_line(f"{d}/payload.bin", digest.digest(), payload)
                  + _record_line(f"{info}/METADATA", hashlib.sha256(meta).digest(), len(meta))
                  + _record_line(f"{info}/WHEEL", hashlib.sha256(wheel).digest(), len(wheel))
                  + f"{info}/RECORD,,\n")
        z.writestr(f"{info}/RECORD", record)
    return path


# ---------------------------------------------------------------------------------------------
# Wheelhouse


class Wheelhouse:
    def __init__(self, binary: Path, data_dir: Path, work: Path, database_url: str | None = None) -> None:
        self.binary, self.data_dir, self.work = binary, data_dir, work
        self.database = ["--database-url", database_url] if database_url else []
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def cli(self, *args: str, as_json: bool = False):
        argv = [str(self.binary), *args, "--data-dir", str(self.data_dir), *self.database] + (["--json"] if as_json else [])
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise BenchError(f"`wheelhouse {' '.join(args)}` failed ({done.returncode}): {done.stderr.strip()}")
        return json.loads(done.stdout) if as_json else done.stdout

    def start(self) -> float:
        """Starts the server; returns seconds from process start to /-/health answering."""
        self.starts += 1
        env = dict(os.environ, WHEELHOUSE_LOG_LEVEL="warning")
        argv = [str(self.binary), "serve", "--host", HOST, "--port", str(self.port), "--data-dir", str(self.data_dir),
                *self.database]
        start = time.monotonic()
        self.proc = PROCS.start(WH, argv, self.work / "wheelhouse.log", env=env)
        wait_http(self.proc, self.port, "/-/health", timeout=120)
        return time.monotonic() - start

    def stop(self) -> None:
        if self.proc is not None:
            PROCS.stop(self.proc)
            self.proc = None

    def memory(self) -> dict[str, int]:
        assert self.proc is not None
        return proc_status_kib(self.proc.pid)


# ---------------------------------------------------------------------------------------------
# nginx and pypiserver


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


# ---------------------------------------------------------------------------------------------
# wrk


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


# ---------------------------------------------------------------------------------------------
# The catalogue


def upload_all(wh: Wheelhouse, auth: str, jobs: list[tuple[int, str, bytes, str, str, str]]) -> None:
    """jobs: (project id, file name, bytes, name, version, filetype); 4 at a time."""
    def one(job):
        project, filename, data, name, version, filetype = job
        status, body, _ = multipart_upload(
            wh.port, f"/api/v4/projects/{project}/packages/pypi", upload_fields(name, version, filetype, data),
            filename, data, auth, timeout=120)
        if status not in (200, 201):
            raise BenchError(f"upload of {filename} to project {project} answered {status}: {body[:300]!r}")
    with ThreadPoolExecutor(4) as pool:
        for _ in pool.map(one, jobs):
            pass


def links(page: bytes) -> list[str]:
    return re.findall(r'<a [^>]*href="([^"]+)"', page.decode())


@dataclass
class Target:
    """One URL per server for one scenario (None: the server has no such thing)."""
    key: str
    label: str
    paths: dict[str, str | None]
    headers: dict[str, str]
    download: bool = False
    expect: int = 200


def setup_small_catalogue(wh: Wheelhouse, args, work: Path, pypi_dir: Path) -> dict:
    log("creating the user, groups and projects")
    wh.cli("user", "create", "bench", "--admin")
    token = wh.cli("token", "create", "--user", "bench", "--name", "bench", "--scope", "api", as_json=True)["token"]
    auth = "Basic " + base64.b64encode(f"__token__:{token}".encode()).decode()
    wh.cli("group", "create", "corp", "--visibility", "public")
    main = wh.cli("project", "create", "corp/main", "--visibility", "public", as_json=True)["id"]
    secret = wh.cli("project", "create", "corp/secret", "--visibility", "private", as_json=True)["id"]
    uploads = wh.cli("project", "create", "corp/uploads", "--visibility", "public", as_json=True)["id"]
    fleet = wh.cli("group", "create", "fleet", "--visibility", "public", as_json=True)["id"]
    fleet_projects = [wh.cli("project", "create", f"fleet/p{i:02d}", "--visibility", "public", as_json=True)["id"]
                      for i in range(args.group_projects)]

    jobs, main_files = [], []
    for make in (wheel_bytes, sdist_bytes):
        filename, data = make("pkg-two", "1.0.1")
        filetype = "bdist_wheel" if filename.endswith(".whl") else "sdist"
        for project in (main, secret):
            jobs.append((project, filename, data, "pkg-two", "1.0.1", filetype))
        main_files.append((filename, data))
    for i in range(500):
        filename, data = wheel_bytes("pkg-many", f"1.{i}.1")
        jobs.append((main, filename, data, "pkg-many", f"1.{i}.1", "bdist_wheel"))
        main_files.append((filename, data))
    for i in range(args.index_packages - 3):  # + pkg-two, pkg-many and big-wheel
        filename, data = wheel_bytes(f"filler-{i:04d}", "1.0.1")
        jobs.append((main, filename, data, f"filler-{i:04d}", "1.0.1", "bdist_wheel"))
        main_files.append((filename, data))
    for p, project in enumerate(fleet_projects):
        for k in range(args.group_packages):
            filename, data = wheel_bytes(f"fleet-{p:02d}-{k:02d}", "1.0.1")
            jobs.append((project, filename, data, f"fleet-{p:02d}-{k:02d}", "1.0.1", "bdist_wheel"))
    for filename, data in main_files:
        (pypi_dir / filename).write_bytes(data)

    log(f"uploading {len(jobs)} small distributions over HTTP")
    started = time.monotonic()
    upload_all(wh, auth, jobs)
    log(f"  {len(jobs)} uploads in {time.monotonic() - started:.1f} s")

    log(f"uploading the {args.download_mib} MiB wheel")
    big = big_wheel(work, "big-wheel", "1.0.1", args.download_mib * MiB)
    status, body, _ = multipart_upload(wh.port, f"/api/v4/projects/{main}/packages/pypi",
                                       upload_fields("big-wheel", "1.0.1", "bdist_wheel", big), big.name, big, auth)
    if status not in (200, 201):
        raise BenchError(f"upload of {big.name} answered {status}: {body[:300]!r}")
    shutil.copyfile(big, pypi_dir / big.name)
    return {"token": token, "auth": auth, "main": main, "secret": secret, "fleet": fleet, "uploads": uploads,
            "fleet_projects": fleet_projects, "big_wheel": big}


def snapshot_pages(wh: Wheelhouse, cat: dict, docroot: Path, notes: list[str]) -> list[Target]:
    """Fetches the pages from Wheelhouse, saves them (and the big wheel) for nginx, returns the targets."""
    main, fleet = cat["main"], cat["fleet"]
    simple = f"/api/v4/projects/{main}/packages/pypi/simple/"
    pages = [
        ("pkg2", f"{simple}pkg-two/", "/simple/pkg-two/", 2),
        ("pkg500", f"{simple}pkg-many/", "/simple/pkg-many/", 500),
        ("index", simple, "/simple/", None),
        ("group", f"/api/v4/groups/{fleet}/-/packages/pypi/simple/", None, None),
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
                cat[f"{key}_links"] = found
            elif not headers.get("content-type", "").startswith(JSON_ACCEPT):
                notes.append(f"{path} with Accept: {JSON_ACCEPT} answered {headers.get('content-type')}: "
                             f"no JSON rows")
                continue
            saved = docroot / path.lstrip("/") / f"index.{variant}"
            saved.parent.mkdir(parents=True, exist_ok=True)
            saved.write_bytes(body)
            cat[f"{key}_{variant}_bytes"] = len(body)
            cat[f"{key}_{variant}_body"] = body
            if variant == "json" and key in ("index", "group"):
                continue  # the index scenarios measure HTML only
            if key == "index":
                label = f"2 project index, {cat['index_links']:,} packages"
            elif key == "group":
                label = f"2 group index, {len(cat['fleet_projects'])} projects ({cat['group_links']} pkgs)"
            else:
                label = labels[key]
            targets.append(Target(
                key=f"{key}_{variant}", label=f"{label}, {variant.upper()}",
                paths={WH: path, NGINX: f"{path}index.{variant}", PYPI: pypi_path if variant == "html" else None},
                headers={"Accept": accept}))

    big_name = cat["big_wheel"].name
    status, _, body = request(wh.port, "GET", f"{simple}big-wheel/")
    hrefs = [h for h in links(body) if big_name in h]
    if status != 200 or not hrefs:
        raise BenchError(f"no link to {big_name} on its package page")
    file_path = urlsplit(hrefs[0]).path
    saved = docroot / file_path.lstrip("/")
    saved.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cat["big_wheel"], saved)
    cat["download_path"] = file_path
    size_mib = cat["big_wheel"].stat().st_size / MiB
    targets.append(Target(key="download", label=f"3 download, {size_mib:.0f} MiB wheel (MiB/s)",
                          paths={WH: file_path, NGINX: file_path, PYPI: f"/packages/{big_name}"},
                          headers={}, download=True))
    targets.append(Target(key="range", label="3 download, Range: bytes=0-1023",
                          paths={WH: file_path, NGINX: file_path, PYPI: f"/packages/{big_name}"},
                          headers={"Range": "bytes=0-1023"}, expect=206))
    return targets


def check_target(target: Target, server: str, port: int, reference: bytes | None) -> str | None:
    """Why the server's answer is not what the scenario measures, or None when it is."""
    status, _, body = request(port, "GET", target.paths[server], target.headers, timeout=60)
    if status != target.expect:
        return f"answered {status} (expected {target.expect}) for {target.paths[server]}"
    if target.expect == 206 and len(body) != 1024:
        return f"sent {len(body)} bytes for a 1024-byte range"
    if reference is not None and server == NGINX and body != reference:
        return "does not serve the bytes Wheelhouse rendered"
    return None


# ---------------------------------------------------------------------------------------------
# Scenario 6: the fast loader


def table_columns(con: sqlite3.Connection, table: str) -> dict[str, tuple[int, object, int]]:
    return {row[1]: (row[3], row[4], row[5]) for row in con.execute(f"PRAGMA table_info({table})")}


PACKAGE_COLUMNS = ("id", "project_id", "name", "normalized_name", "version", "canonical_version", "created_at")
FILE_COLUMNS = ("id", "package_id", "project_id", "file_name", "size", "sha256", "md5", "blake2b_256",
                "requires_python", "uploaded_at", "metadata_sha256", "metadata_size", "yanked", "yanked_reason")


def insertable(con: sqlite3.Connection, table: str, known: tuple[str, ...], required: int) -> list[str]:
    columns = table_columns(con, table)
    missing = [c for c in known[:required] if c not in columns]
    if missing:
        raise BenchError(f"{table} lacks columns {missing}; the loader needs updating")
    for name, (notnull, default, pk) in columns.items():
        if name not in known and notnull and default is None and not pk:
            raise BenchError(f"{table}.{name} is NOT NULL without a default; the loader needs updating")
    return [c for c in known if c in columns]


def bulk_load(db_path: Path, projects: list[int], add_names: int, add_files: int, names_per_project: int) -> None:
    con = sqlite3.connect(db_path, timeout=60, isolation_level=None)
    try:
        con.execute("PRAGMA busy_timeout = 60000")
        con.execute("PRAGMA synchronous = OFF")
        con.execute("PRAGMA cache_size = -1048576")  # 1 GiB for the index builds
        pcols = insertable(con, "packages", PACKAGE_COLUMNS, 7)
        fcols = insertable(con, "package_files", FILE_COLUMNS, 10)
        insert_package = f"INSERT INTO packages ({', '.join(pcols)}) VALUES ({', '.join('?' * len(pcols))})"
        insert_file = f"INSERT INTO package_files ({', '.join(fcols)}) VALUES ({', '.join('?' * len(fcols))})"
        package_id = (con.execute("SELECT COALESCE(MAX(id), 0) FROM packages").fetchone()[0]) + 1
        file_id = (con.execute("SELECT COALESCE(MAX(id), 0) FROM package_files").fetchone()[0]) + 1
        now = int(time.time() * 1_000_000)
        base, extra = divmod(add_files, add_names)
        name_index = 0
        con.execute("BEGIN")
        for p, project in enumerate(projects):
            package_rows, file_rows = [], []
            for i in range(min(names_per_project, add_names - name_index)):
                files = base + (1 if name_index < extra else 0)
                name_index += 1
                name = f"bulk{p:03d}-pkg-{i:05d}"
                d = dist_name(name)
                for v in range((files + 1) // 2):
                    version = f"{v + 1}.0.1"
                    values = {"id": package_id, "project_id": project, "name": name, "normalized_name": name,
                              "version": version, "canonical_version": version, "created_at": now - package_id}
                    package_rows.append(tuple(values[c] for c in pcols))
                    kinds = ["wheel", "sdist"][: min(2, files - 2 * v)]
                    for kind in kinds:
                        seed = file_id.to_bytes(8, "little")
                        wheel = kind == "wheel"
                        values = {
                            "id": file_id, "package_id": package_id, "project_id": project,
                            "file_name": f"{d}-{version}-py3-none-any.whl" if wheel else f"{d}-{version}.tar.gz",
                            "size": 4096 + (file_id * 7919) % 500_000,
                            "sha256": hashlib.sha256(seed).hexdigest(), "md5": hashlib.md5(seed).hexdigest(),
                            "blake2b_256": hashlib.blake2b(seed, digest_size=32).hexdigest(),
                            "requires_python": ">=3.8", "uploaded_at": now - file_id,
                            "metadata_sha256": hashlib.sha256(b"m" + seed).hexdigest() if wheel else None,
                            "metadata_size": 180 if wheel else None, "yanked": 0, "yanked_reason": None,
                        }
                        file_rows.append(tuple(values[c] for c in fcols))
                        file_id += 1
                    package_id += 1
            con.executemany(insert_package, package_rows)
            con.executemany(insert_file, file_rows)
        if "packages_version" in table_columns(con, "projects"):
            con.executemany("UPDATE projects SET packages_version = packages_version + 1 WHERE id = ?",
                            [(p,) for p in projects])
        con.execute("COMMIT")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


def catalogue_counts(db_path: Path) -> tuple[int, int]:
    con = sqlite3.connect(db_path, timeout=60)
    try:
        names = con.execute("SELECT COUNT(*) FROM (SELECT DISTINCT project_id, normalized_name FROM packages)").fetchone()[0]
        files = con.execute("SELECT COUNT(*) FROM package_files").fetchone()[0]
        return names, files
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------
# The report


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


# ---------------------------------------------------------------------------------------------


def git_revision() -> str:
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "?"


def build_binary() -> Path:
    argv = ["swift", "build", "-c", "release", "--scratch-path", ".build-release", "--product", "wheelhouse"]
    log(f"building: {' '.join(argv)} (a full build takes ~8 min on 2 cores)")
    done = subprocess.run(argv, cwd=REPO, stdout=sys.stderr, timeout=3600)  # stdout is for the table
    if done.returncode != 0:
        raise BenchError("the release build failed")
    return REPO / ".build-release" / "release" / "wheelhouse"


def main() -> int:
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
    parser.add_argument("--upload-mib", type=int, default=100, help="size of the large upload (default 100)")
    parser.add_argument("--upload-runs", type=int, help="large uploads to time (default 3, --quick 1)")
    parser.add_argument("--work-dir", type=Path, help="where data goes (default: a new directory in /tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--database-url", help="run Wheelhouse on this (empty) PostgreSQL database; skips scenario 6, "
                        "whose loader writes SQLite")
    args = parser.parse_args()
    args.seconds = args.seconds or (1 if args.quick else 3)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.big_packages = args.big_packages or (10_000 if args.quick else 100_000)
    args.big_files = args.big_files or (100_000 if args.quick else 1_000_000)
    args.upload_runs = args.upload_runs or (1 if args.quick else 3)
    args.index_packages, args.group_projects, args.group_packages, args.download_mib = 1000, 50, 10, 16

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_exit)
    began = time.monotonic()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="wheelhouse-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        report = run(args, work)
        print(report)
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


def run(args, work: Path) -> str:
    nginx_bin, wrk_bin = ensure_system_tools()
    binary = (args.bin or build_binary()).resolve()
    if not os.access(binary, os.X_OK):
        raise BenchError(f"{binary} is not an executable")
    cores = os.cpu_count()
    log(f"{cores} cores; binary {binary}; work directory {work}")

    data_dir, docroot, pypi_dir = work / "data", work / "static", work / "pypiserver-packages"
    for d in (data_dir, docroot, pypi_dir, work / "nginx"):
        shutil.rmtree(d, ignore_errors=True)  # a --work-dir from an earlier run
    for d in (docroot, pypi_dir):
        d.mkdir(parents=True)
    wh = Wheelhouse(binary, data_dir, work, args.database_url)
    wrk = Wrk(wrk_bin, args.threads, args.connections, args.seconds, args.warmup)
    results: dict[tuple[str, str], Load] = {}
    notes: list[str] = []
    extra: dict = {}

    # --- the small catalogue, scenarios 1 to 4
    wh.start()
    cat = setup_small_catalogue(wh, args, work, pypi_dir)
    targets = snapshot_pages(wh, cat, docroot, notes)
    nginx_proc, nginx_port = start_nginx(nginx_bin, work, docroot, targets[0].paths[NGINX])
    pypi_proc, pypi_port, pypi_mode = start_pypiserver(work, pypi_dir)
    if pypi_proc is None:
        notes.append(f"pypiserver could not be started: {pypi_mode}")
    ports = {WH: wh.port, NGINX: nginx_port, PYPI: pypi_port}
    for target in targets:
        reference = cat.get(f"{target.key}_body")
        for server in SERVERS:
            if target.paths.get(server) is None or (server == PYPI and pypi_proc is None):
                continue
            problem = check_target(target, server, ports[server], reference)
            if problem:
                notes.append(f"{target.key}: {server} {problem}; not measured")
                target.paths[server] = None

    def measure(key: str, runs: list[tuple[str, int, str]], headers: dict[str, str], rounds: int) -> None:
        """Loads each (server, port, path) in turn, `rounds` times over, and keeps each server's
        median run (by req/s, with that run's latencies): a moment of interference on the shared
        cores then moves one round, not the figure, and it falls on both servers alike."""
        loads: dict[str, list[Load]] = {server: [] for server, _, _ in runs}
        for round in range(rounds):
            for server, port, path in runs:
                load = wrk.run(port, path, headers)
                log(f"wrk {key} on {server}" + (f" (round {round + 1} of {rounds})" if rounds > 1 else "")
                    + f": {load.rps:,.0f} req/s, p99 {load.p99_ms:.2f} ms")
                if load.errors:
                    notes.append(f"{key} on {server}: {load.errors}")
                loads[server].append(load)
        for server, done in loads.items():
            results[(key, server)] = sorted(done, key=lambda load: load.rps)[len(done) // 2]

    for target in targets:
        measure(target.key, [(server, ports[server], target.paths[server]) for server in (WH, NGINX)
                             if target.paths.get(server) is not None], target.headers, args.rounds)
        if target.paths.get(PYPI) is not None and pypi_proc is not None:
            # Once: at a few dozen requests a second, its figure is not close to any line.
            measure(target.key, [(PYPI, ports[PYPI], target.paths[PYPI])], target.headers, 1)
            # gunicorn's sync workers go on with the requests wrk left queued (up to ~1.5 s each on
            # the 500-file page): let them finish, or they eat the next server's measurement.
            wait_until_idle(pypi_proc.pid)

    # scenario 4: the same 2-file page, anonymous on the public project, Basic token on the private one
    public_page = f"/api/v4/projects/{cat['main']}/packages/pypi/simple/pkg-two/"
    private_page = f"/api/v4/projects/{cat['secret']}/packages/pypi/simple/pkg-two/"
    status, _, _ = request(wh.port, "GET", private_page)
    if status == 200:
        raise BenchError("the private project's page answers anonymous requests")
    status, _, private_body = request(wh.port, "GET", private_page, {"Authorization": cat["auth"]})
    if status != 200 or len(links(private_body)) != 2:
        raise BenchError(f"the authenticated read of the private project answered {status}")
    anonymous: list[Load] = []
    authenticated: list[Load] = []
    for _ in range(args.rounds):
        measure("anonymous", [(WH, wh.port, public_page)], {"Accept": "text/html"}, 1)
        anonymous.append(results[("anonymous", WH)])
        measure("authenticated", [(WH, wh.port, private_page)], {"Accept": "text/html", "Authorization": cat["auth"]}, 1)
        authenticated.append(results[("authenticated", WH)])
    for key, loads in (("anonymous", anonymous), ("authenticated", authenticated)):
        results[(key, WH)] = sorted(loads, key=lambda load: load.rps)[len(loads) // 2]

    # --- scenario 5: large uploads on a freshly started server
    log(f"scenario 5: {args.upload_runs} x {args.upload_mib} MiB uploads")
    wh.stop()
    extra["small_startup_s"] = wh.start()
    time.sleep(0.5)
    extra["small_idle_rss_kib"] = wh.memory()["VmRSS"]
    warm_name, warm = wheel_bytes("upload-warmup", "1.0.1")
    status, body, _ = multipart_upload(wh.port, f"/api/v4/projects/{cat['uploads']}/packages/pypi",
                                       upload_fields("upload-warmup", "1.0.1", "bdist_wheel", warm), warm_name, warm,
                                       cat["auth"])
    if status not in (200, 201):
        raise BenchError(f"the warm-up upload answered {status}: {body[:300]!r}")
    uploads = [big_wheel(work, "upload-big", f"{i + 1}.0.1", args.upload_mib * MiB) for i in range(args.upload_runs)]
    time.sleep(0.5)
    idle = wh.memory()["VmRSS"]
    try:
        Path(f"/proc/{wh.proc.pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    except OSError:
        notes.append("could not reset VmHWM (/proc/PID/clear_refs): the peak includes the earlier start-up")
    upload_speeds = []
    for i, path in enumerate(uploads):
        status, body, seconds = multipart_upload(
            wh.port, f"/api/v4/projects/{cat['uploads']}/packages/pypi",
            upload_fields("upload-big", f"{i + 1}.0.1", "bdist_wheel", path), path.name, path, cat["auth"])
        if status not in (200, 201):
            raise BenchError(f"the {args.upload_mib} MiB upload answered {status}: {body[:300]!r}")
        upload_speeds.append(path.stat().st_size / MiB / seconds)
    peak = wh.memory()["VmHWM"]
    extra.update(upload_mib_s=upload_speeds, upload_idle_rss_kib=idle, upload_peak_rss_kib=peak)
    if pypi_proc is not None:
        pypi_speeds = []
        for i, path in enumerate(uploads):
            status, body, seconds = multipart_upload(
                pypi_port, "/", upload_fields("upload-big", f"{i + 1}.0.1", "bdist_wheel", path), path.name, path, None)
            if status not in (200, 201):
                notes.append(f"pypiserver answered {status} to the large upload: {body[:200]!r}")
                break
            pypi_speeds.append(path.stat().st_size / MiB / seconds)
        extra["pypiserver_upload_mib_s"] = pypi_speeds
        PROCS.stop(pypi_proc)
    for path in uploads:
        path.unlink()

    # --- scenario 6: the large catalogue
    wh.stop()
    if args.database_url:
        notes.append("scenario 6 skipped: --database-url (its bulk loader writes SQLite)")
    else:
        large_catalogue(args, wh, data_dir, targets, cat, extra, notes, ports, measure)
    PROCS.stop(nginx_proc)

    if args.json:
        args.json.write_text(json.dumps({
            "results": {f"{k}|{s}": asdict(v) for (k, s), v in results.items()},
            "extra": {k: (str(v) if isinstance(v, Path) else v) for k, v in extra.items()},
            "notes": notes}, indent=2))
    return report(args, binary, cores, pypi_mode, cat, targets, results, extra, notes)


def large_catalogue(args, wh: Wheelhouse, data_dir: Path, targets, cat: dict, extra: dict, notes: list[str],
                    ports: dict, measure) -> None:
    """Scenario 6: bulk-loads the SQLite database, restarts, measures the pages again."""
    db_path = data_dir / "wheelhouse.sqlite3"
    names, files = catalogue_counts(db_path)
    add_names, add_files = args.big_packages - names, args.big_files - files
    if add_names <= 0 or add_files < add_names:
        raise BenchError(f"scenario 6 needs more packages/files than the {names}/{files} already there")
    per_project = 1000
    bulk_projects_count = math.ceil(add_names / per_project)
    log(f"scenario 6: creating {bulk_projects_count} projects, then loading {add_names:,} packages "
        f"and {add_files:,} files")
    wh.cli("group", "create", "bulk", "--visibility", "public")
    bulk_projects = [wh.cli("project", "create", f"bulk/p{i:03d}", "--visibility", "public", as_json=True)["id"]
                     for i in range(bulk_projects_count)]
    started = time.monotonic()
    bulk_load(db_path, bulk_projects, add_names, add_files, per_project)
    extra["bulk_load_s"] = time.monotonic() - started
    names, files = catalogue_counts(db_path)
    extra.update(big_names=names, big_files=files, db_mib=db_path.stat().st_size / MiB)
    log(f"  loaded in {extra['bulk_load_s']:.1f} s: {names:,} packages, {files:,} files, "
        f"database {extra['db_mib']:.0f} MiB")
    startups = []
    for i in range(3):
        startups.append(wh.start())
        if i < 2:
            wh.stop()
    time.sleep(0.5)
    extra.update(big_startup_s=startups, big_idle_rss_kib=wh.memory()["VmRSS"])
    for target in targets:
        if target.key in ("download", "range"):
            continue
        status, _, body = request(wh.port, "GET", target.paths[WH], target.headers)
        if status != 200:
            raise BenchError(f"Wheelhouse answered {status} for {target.paths[WH]} in the large catalogue")
        if body != cat.get(f"{target.key}_body"):
            notes.append(f"{target.key}: the large catalogue's page differs from the small one's")
        measure(f"{target.key}_big", [(server, ports[server], target.paths[server]) for server in (WH, NGINX)],
                target.headers, args.rounds)
    extra["big_rss_after_load_kib"] = wh.memory()["VmRSS"]
    wh.stop()


def report(args, binary, cores, pypi_mode, cat, targets, results, extra, notes) -> str:
    header = ["scenario", WH, NGINX, PYPI, "WH/nginx", "WH/pypi", "target (measured)", "met"]
    rows: list[list[str]] = []
    get = lambda key, server: results.get((key, server))
    for t in targets:
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
        rows.append([t.label, cell(w, t.download), cell(n, t.download), cell(p, t.download),
                     fmt_ratio(r_n), fmt_ratio(r_p), target, met(ok)])

    anon, auth = get("anonymous", WH), get("authenticated", WH)
    r_auth = ratio(auth, anon)
    rows.append(["4 anonymous read, public project", cell(anon), "", "", "", "", "", ""])
    rows.append(["4 authenticated read (Basic token), private", cell(auth), "", "", "", "",
                 f">=0.8x anonymous ({fmt_ratio(r_auth)})", met(None if r_auth is None else r_auth >= 0.8)])

    speeds, pypi_speeds = extra["upload_mib_s"], extra.get("pypiserver_upload_mib_s") or []
    speed = statistics.median(speeds)
    pypi_speed = statistics.median(pypi_speeds) if pypi_speeds else None
    rows.append([f"5 upload {args.upload_mib} MiB (median of {len(speeds)})", f"{speed:,.0f} MiB/s", "n/a",
                 f"{pypi_speed:,.0f} MiB/s" if pypi_speed else "n/a", "",
                 fmt_ratio(speed / pypi_speed if pypi_speed else None),
                 f">=200 MiB/s ({speed:,.0f})", met(speed >= 200)])
    above = (extra["upload_peak_rss_kib"] - extra["upload_idle_rss_kib"]) / 1024
    rows.append(["5 upload: peak RSS above idle", f"{above:.1f} MiB (idle {extra['upload_idle_rss_kib'] / 1024:.1f})",
                 "", "", "", "", f"<64 MiB ({above:.1f})", met(above < 64)])

    big = f"{extra.get('big_names', 0) // 1000}k pkgs/{extra.get('big_files', 0) / 1e6:g}M files"
    for t in (targets if "big_names" in extra else []):
        if t.key in ("download", "range"):
            continue
        w, n = get(f"{t.key}_big", WH), get(f"{t.key}_big", NGINX)
        r_big, r_small = ratio(w, n), ratio(get(t.key, WH), get(t.key, NGINX))
        ok = None if r_big is None or r_small is None else r_big >= 0.8 * r_small
        rows.append([f"6 [{big}] {t.label[2:]}", cell(w), cell(n), "n/a", fmt_ratio(r_big), "",
                     f">=0.8x small ratio {fmt_ratio(r_small)} ({fmt_ratio(r_big)})", met(ok)])
    startup = statistics.median(extra.get("big_startup_s") or [0])
    rows.append([f"6 [{big}] start-up to /-/health (median of 3)", f"{startup * 1000:.0f} ms", "", "", "", "",
                 f"<1 s ({startup:.2f} s)", met(startup < 1)])
    idle_big = extra.get("big_idle_rss_kib", 0) / 1024
    rows.append([f"6 [{big}] idle RSS after start", f"{idle_big:.1f} MiB", "", "", "", "",
                 f"<100 MiB ({idle_big:.1f})", met(idle_big < 100)])
    rows.append(["   (small catalogue: start-up, idle RSS)",
                 f"{extra['small_startup_s'] * 1000:.0f} ms, {extra['small_idle_rss_kib'] / 1024:.1f} MiB",
                 "", "", "", "", "", ""])
    rows.append([f"   ({big}: RSS after its page loads)", f"{extra.get('big_rss_after_load_kib', 0) / 1024:.1f} MiB",
                 "", "", "", "", "", ""])
    if "big_names" not in extra:
        rows = [row for row in rows if not row[0].startswith(("6 ", f"   ({big}"))]

    affinity = len(os.sched_getaffinity(0))
    lines = [
        "Wheelhouse benchmark" + (" (--quick)" if args.quick else ""),
        f"machine: {cores} cores ({affinity} usable), {time.strftime('%Y-%m-%d %H:%M %Z')}; "
        f"everything on 127.0.0.1, the load generator shares the cores",
        f"Wheelhouse: {binary} (built {time.strftime('%Y-%m-%d %H:%M', time.localtime(binary.stat().st_mtime))}, "
        f"repo at {git_revision()}), WHEELHOUSE_LOG_LEVEL=warning",
        f"nginx: {affinity} workers, static copies of the pages Wheelhouse rendered; "
        f"pypiserver 2.4.2: {pypi_mode}, --backend cached-dir, no auth",
        f"load: wrk -t{args.threads} -c{args.connections} -d{args.seconds}s --latency, after a {args.warmup} s warm-up; "
        f"cells are req/s (or MiB/s) then p50/p99 latency" + (
            f"; {args.rounds} rounds alternating Wheelhouse and nginx, the median run kept (pypiserver: one run)"
            if args.rounds > 1 else ""),
        f"small catalogue: project of {cat['index_links']:,} packages (1,500 files), group of "
        f"{len(cat['fleet_projects'])} projects; " + (
            f"large: {extra['big_names']:,} packages, {extra['big_files']:,} files "
            f"(loaded in {extra['bulk_load_s']:.0f} s, database {extra['db_mib']:.0f} MiB)" if "big_names" in extra
            else "no large catalogue (scenario 6 skipped)"),
        "database: " + ("PostgreSQL (--database-url)" if args.database_url else "SQLite in the data dir"),
        "",
        render(rows, header),
    ]
    if notes:
        lines += ["", "notes (* in a cell: wrk saw errors):"] + [f"  - {n}" for n in notes]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
