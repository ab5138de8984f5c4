"""Every process the benchmark starts runs in a session of its own, so that a stop reaches its
workers too (nginx's, gunicorn's), and all of them are stopped on exit, Ctrl-C or error."""
from __future__ import annotations

import http.client
import os
import signal
import subprocess
import time
from pathlib import Path

from .client import request
from .common import BenchError, tail


class Processes:
    def __init__(self) -> None:
        self.running: list[subprocess.Popen] = []

    def start(self, name: str, argv: list[str], log_path: Path, env: dict | None = None) -> subprocess.Popen:
        with open(log_path, "ab") as logfile:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=logfile, stderr=subprocess.STDOUT,
                env=env, start_new_session=True,
            )
        return self.adopt(proc, name, log_path)

    def adopt(self, proc: subprocess.Popen, name: str, log_path: Path) -> subprocess.Popen:
        """Tracks a process started elsewhere (in a session of its own) so that exit stops it."""
        proc.bench_name = name  # type: ignore[attr-defined]
        proc.bench_log = log_path  # type: ignore[attr-defined]
        self.running.append(proc)
        return proc

    def forget(self, proc: subprocess.Popen | None) -> None:
        if proc in self.running:
            self.running.remove(proc)

    def stop(self, proc: subprocess.Popen, timeout: float = 15.0) -> None:
        self.forget(proc)
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
