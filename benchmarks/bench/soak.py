"""Soak: thousands of hostile connections held against one Wheelhouse (issue 16), while a few
ordinary clients keep reading pages, so that what the attack costs everyone else is a figure:

- idle connections: half of them never send a byte ("silent": the request-header deadline must
  cut them), half send one request, read its answer and then go quiet ("kept-alive": the
  keep-alive deadline must cut them);
- slowloris connections: each sends a partial request head, then one more header byte every
  second (cut by the request-header deadline, with a 408 first);
- meanwhile, from a process of its own, normal requests at a modest rate on a few keep-alive
  connections (the 2-file package page and /-/health, alternating), and once a second a
  /-/health on a new connection (which must get past the accept backlog);
- every second: the server's open descriptors (/proc/PID/fd), its RSS (VmRSS) and CPU (utime +
  stime), and how many hostile connections the server has closed (the client sees EOF or RST).

One run has up to three variants, each on a freshly started server on the same data: the default
deadlines (60 s header, 75 s keep-alive), short ones (`--request-header-timeout 5
--keepalive-timeout 5`), and the short ones with `--max-connections 2000`. Each variant goes
baseline (normal requests alone), opening (the hostile connections are opened), hostile (held for
`--hostile-seconds`; any the server cuts is opened again, as an attacker would), drain (no more
reopening: wait until the server has cut them all, or its deadlines plus 10 s have passed), after
(descriptors and RSS once they are gone). A binary without the deadline flags runs the default
variant alone, and its table says how many were closed (none, before issue 16).

Run on its own: `benchmarks/run soak [--bin PATH] [--quick] ...` (see README.md). The process
raises its own descriptor limit (soft and hard, to `--nofile`) before anything starts, and the
server inherits it. Everything listens on 127.0.0.1 and is stopped on exit, Ctrl-C or error."""
from __future__ import annotations

import argparse
import errno
import http.client
import json
import math
import multiprocessing
import os
import re
import resource
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

from . import loaders
from .client import links, request
from .common import HOST, BenchError, log
from .loaders import Catalogue
from .processes import PROCS
from .reporting import fmt_ms, git_revision, render
from .wheelhouse import Wheelhouse

SILENT, KEPT, SLOW = "silent", "kept-alive", "slowloris"
KINDS = (SILENT, KEPT, SLOW)
PHASES = ("baseline", "opening", "hostile", "drain", "after")
CLK_TCK = os.sysconf("SC_CLK_TCK")
# The deadlines a server without the flags is held to (issue 16's defaults, nginx's).
DEFAULT_HEADER_TIMEOUT, DEFAULT_KEEPALIVE_TIMEOUT = 60.0, 75.0
DEADLINE_FLAGS = ("--request-header-timeout", "--keepalive-timeout")
DEFAULT_RELEASE_BINARY = Path(__file__).resolve().parents[2] / ".build-release" / "release" / "wheelhouse"


def options(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchmarks/run soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", type=Path, help="a Wheelhouse binary (default: .build-release/release/wheelhouse "
                        "if it exists, else build it)")
    parser.add_argument("--quick", action="store_true", help="1,000 + 1,000 connections, 5 s baseline, 10 s "
                        "hostile, drain at most 15 s: a check that the scenario runs, not its figures")
    parser.add_argument("--idle", type=int, help="idle connections, half silent, half kept-alive (default 5000)")
    parser.add_argument("--slowloris", type=int, help="slowloris connections (default 5000)")
    parser.add_argument("--baseline-seconds", type=float, help="normal requests alone (default 10)")
    parser.add_argument("--hostile-seconds", type=float, help="the hostile connections held (default 30)")
    parser.add_argument("--drain-max", type=float, help="longest wait for the server to cut them afterwards "
                        "(default: the variant's deadlines + 10 s after the last one opened)")
    parser.add_argument("--rate", type=float, default=50, help="normal requests per second (default 50)")
    parser.add_argument("--clients", type=int, default=4, help="keep-alive connections of the normal requests")
    parser.add_argument("--short-timeout", type=float, default=5, help="the short variants' header and "
                        "keep-alive deadlines (default 5)")
    parser.add_argument("--cap", type=int, default=2000, help="--max-connections of the capped variant")
    parser.add_argument("--variants", nargs="+", choices=("default", "short", "cap"),
                        default=["default", "short", "cap"])
    parser.add_argument("--nofile", type=int, default=65536, help="descriptor limit (soft and hard) of this "
                        "process and the server it starts (default 65536; without the right to raise the hard "
                        "limit, the hard limit)")
    parser.add_argument("--max-connecting", type=int, default=64, help="hostile connects in flight at once")
    parser.add_argument("--work-dir", type=Path, help="where data goes (default: a new directory in /tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)
    args.idle = args.idle if args.idle is not None else (1000 if args.quick else 5000)
    args.slowloris = args.slowloris if args.slowloris is not None else (1000 if args.quick else 5000)
    args.baseline_seconds = args.baseline_seconds or (5 if args.quick else 10)
    args.hostile_seconds = args.hostile_seconds or (10 if args.quick else 30)
    if args.quick and args.drain_max is None:
        args.drain_max = 15
    return args


# ---------------------------------------------------------------------------------------------
# Small helpers


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank percentile (p99 of 1,500 samples is the 1,485th smallest)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(len(ordered) * pct / 100) - 1))]


def raise_descriptor_limit(wanted: int, needed: int) -> tuple[int, int, int]:
    """Raises this process's descriptor limit to `wanted` (soft and hard; raising the hard limit
    needs root), else the soft limit to the hard one; the server started later inherits it.
    Returns (hard limit found, soft, hard now); raises if fewer than `needed` are allowed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    found = hard
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, max(wanted, hard)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        raise BenchError(f"this process may open {soft} descriptors, the soak needs {needed}: raise the hard "
                         f"limit (ulimit -Hn) or run with fewer connections")
    return found, soft, hard


def serve_flags(binary: Path) -> str:
    """`wheelhouse serve --help`, where the flags a binary knows are listed."""
    done = subprocess.run([str(binary), "serve", "--help"], capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


def proc_stat_ticks(pid: int) -> int:
    """utime + stime of a process (all its threads), in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def proc_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------------------------------------
# The normal requests, in a process of their own (the hostile side's loop must not delay them)


def normal_load(port: int, paths: list[str], rate: float, clients: int, stop, out, timeout: float = 10.0,
                probe_timeout: float = 15.0) -> None:
    """Runs in a forked child until `stop` is set, then sends (samples, probes) through `out`.

    Each of `clients` threads keeps one keep-alive connection and sends a GET every
    clients/rate seconds, the paths in turn; a connection the server closed between two
    requests is opened again once and the request repeated (as any client library does), the
    clock still running. A sample is (start, seconds, path index, ok, reconnected). A probe
    thread sends GET /-/health on a new connection once a second: (start, seconds, ok)."""
    samples: list[tuple] = []
    probes: list[tuple] = []
    interval = clients / rate

    def worker(i: int) -> None:
        conn = None
        k = i
        next_at = time.monotonic() + i * interval / clients
        while not stop.is_set():
            wait = next_at - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            next_at = max(next_at + interval, time.monotonic())  # no burst after a stall
            index = k % len(paths)
            k += 1
            start = time.monotonic()
            ok = reconnected = False
            for attempt in (0, 1):
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
                        reconnected = reconnected or attempt == 1
                    conn.request("GET", paths[index])
                    resp = conn.getresponse()
                    body = resp.read()
                    ok = resp.status == 200 and bool(body)
                    if resp.will_close:
                        conn.close()
                        conn = None
                    break
                except (OSError, http.client.HTTPException) as error:
                    if conn is not None:
                        conn.close()
                    conn = None
                    if isinstance(error, socket.timeout):
                        break  # a timeout is the figure, not a reason to try again
            samples.append((start, time.monotonic() - start, index, ok, reconnected))

    def prober() -> None:
        while not stop.is_set():
            start = time.monotonic()
            ok = False
            conn = http.client.HTTPConnection(HOST, port, timeout=probe_timeout)
            try:
                conn.request("GET", "/-/health")
                resp = conn.getresponse()
                ok = resp.status == 200 and bool(resp.read())
            except (OSError, http.client.HTTPException):
                pass
            finally:
                conn.close()
            seconds = time.monotonic() - start
            probes.append((start, seconds, ok))
            stop.wait(max(0.0, 1.0 - seconds))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    threads.append(threading.Thread(target=prober, daemon=True))
    for t in threads:
        t.start()
    stop.wait()
    for t in threads:
        t.join(timeout + 1)
    out.send((list(samples), list(probes)))
    out.close()


# ---------------------------------------------------------------------------------------------
# The hostile connections: non-blocking sockets on one selector, in this process


class Conn:
    __slots__ = ("sock", "kind", "state", "opened", "answered")

    def __init__(self, sock: socket.socket, kind: str) -> None:
        self.sock, self.kind = sock, kind
        self.state = "connecting"
        self.opened = 0.0
        self.answered = False


class Hostile:
    """Opens and holds the hostile connections and notices every one the server closes: a read
    that returns end-of-file or fails with a reset, or a slowloris byte that cannot be sent.
    `reopen` opens a closed connection again (of the same kind), to hold the attack's size."""

    REQUEST = b"GET /-/health HTTP/1.1\r\nHost: soak\r\n\r\n"
    PARTIAL_HEAD = b"GET /-/health HTTP/1.1\r\nHost: soak\r\nX-Slow: "

    # Connections the client counts as open that the server has not accepted yet, beyond which
    # opening waits (the accept backlog is 256: past it the kernel drops handshakes, and with
    # syncookies a silent client then believes in a connection the server never had).
    UNACCEPTED_MAX = 128

    def __init__(self, port: int, max_connecting: int, server_fds) -> None:
        self.port, self.max_connecting = port, max_connecting
        self.server_fds = server_fds  # callable: the server's open descriptors now
        self.fds_base = self.fds_seen = 0
        self.fds_checked = self.fds_progress = 0.0
        self.sel = selectors.DefaultSelector()
        self.live: set[Conn] = set()
        self.pending: deque[str] = deque()  # kinds waiting to be opened
        self.connecting = 0
        self.open = Counter()  # established, from the client's side, per kind
        self.cut = Counter()  # closed by the server, per kind (cumulative)
        self.resets = Counter()  # of which with a reset rather than an end-of-file
        self.established = Counter()  # cumulative
        self.failed_connects = 0
        self.answers = Counter()  # (kind, status line) of whatever the server wrote
        self.lifetimes: dict[str, list[float]] = {k: [] for k in KINDS}
        self.slow_due: deque[tuple[float, Conn]] = deque()
        self.reopen = False
        self.last_established = self.last_cut = 0.0

    # -- opening
    def enqueue(self, counts: dict[str, int]) -> None:
        """Queues the connections to open, the kinds interleaved so that each grows evenly."""
        left = dict(counts)
        while any(left.values()):
            for kind in KINDS:
                if left.get(kind):
                    self.pending.append(kind)
                    left[kind] -= 1

    def start_opening(self, counts: dict[str, int]) -> None:
        self.fds_base = self.fds_seen = self.server_fds()
        self.fds_progress = time.monotonic()
        self.enqueue(counts)

    def _backlog_full(self) -> bool:
        """Whether the server is behind in accepting what was opened; after a second without
        progress (its cap reached), opening goes on regardless, as an attacker's would."""
        now = time.monotonic()
        if now - self.fds_checked >= 0.1:
            self.fds_checked = now
            fds = self.server_fds()
            if fds > self.fds_seen:
                self.fds_progress = now
            self.fds_seen = fds
        unaccepted = self.holding + self.connecting - (self.fds_seen - self.fds_base)
        return unaccepted > self.UNACCEPTED_MAX and now - self.fds_progress < 1.0

    def fill(self) -> None:
        if self.pending and self._backlog_full():
            return
        while self.pending and self.connecting < self.max_connecting:
            kind = self.pending.popleft()
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            err = sock.connect_ex((HOST, self.port))
            if err not in (0, errno.EINPROGRESS):
                sock.close()
                self.failed_connects += 1
                if self.reopen:
                    self.pending.append(kind)
                return  # e.g. out of local ports: try again on the next step
            conn = Conn(sock, kind)
            self.live.add(conn)
            self.connecting += 1
            self.sel.register(sock, selectors.EVENT_WRITE, conn)

    def _established(self, conn: Conn, now: float) -> None:
        self.connecting -= 1
        err = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            self._forget(conn)
            self.failed_connects += 1
            if self.reopen:
                self.pending.append(conn.kind)
            return
        conn.state, conn.opened = "open", now
        self.last_established = now
        self.open[conn.kind] += 1
        self.established[conn.kind] += 1
        self.sel.modify(conn.sock, selectors.EVENT_READ, conn)
        try:
            if conn.kind == KEPT:
                conn.sock.send(self.REQUEST)
            elif conn.kind == SLOW:
                conn.sock.send(self.PARTIAL_HEAD)
                self.slow_due.append((now + 1.0, conn))
        except (BrokenPipeError, ConnectionResetError):
            self._cut(conn, now, reset=True)

    # -- what the server does
    def _readable(self, conn: Conn, now: float) -> None:
        try:
            data = conn.sock.recv(65536)
        except BlockingIOError:
            return
        except (ConnectionResetError, BrokenPipeError):
            self._cut(conn, now, reset=True)
            return
        if not data:
            self._cut(conn, now, reset=False)
            return
        if data.startswith(b"HTTP/"):
            self.answers[(conn.kind, data.split(b"\r\n", 1)[0].decode(errors="replace"))] += 1
        if conn.kind == KEPT:
            conn.answered = True

    def _cut(self, conn: Conn, now: float, reset: bool) -> None:
        self.open[conn.kind] -= 1
        self.cut[conn.kind] += 1
        self.last_cut = now
        if reset:
            self.resets[conn.kind] += 1
        self.lifetimes[conn.kind].append(now - conn.opened)
        self._forget(conn)
        if self.reopen:
            self.pending.append(conn.kind)

    def _forget(self, conn: Conn) -> None:
        conn.state = "closed"
        self.live.discard(conn)
        try:
            self.sel.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        conn.sock.close()

    def _slow_bytes(self, now: float) -> None:
        """One more header byte on every slowloris connection whose second has come."""
        while self.slow_due and self.slow_due[0][0] <= now:
            _, conn = self.slow_due.popleft()
            if conn.state != "open":
                continue
            try:
                conn.sock.send(b"a")
            except BlockingIOError:
                pass
            except (BrokenPipeError, ConnectionResetError):
                self._cut(conn, now, reset=True)
                continue
            self.slow_due.append((now + 1.0, conn))

    def step(self, timeout: float) -> None:
        self.fill()
        for key, mask in self.sel.select(timeout):
            conn = key.data
            now = time.monotonic()
            if conn.state == "connecting":
                if mask & selectors.EVENT_WRITE:
                    self._established(conn, now)
            elif conn.state == "open" and mask & selectors.EVENT_READ:
                self._readable(conn, now)
        self._slow_bytes(time.monotonic())

    # -- the end
    @property
    def holding(self) -> int:
        return sum(self.open.values())

    def close_all(self) -> int:
        """Closes whatever is still open or connecting, from the client's side; returns how many."""
        left = len(self.live)
        for conn in list(self.live):
            if conn.state == "open":
                self.open[conn.kind] -= 1
            self._forget(conn)
        self.pending.clear()
        self.connecting = 0
        return left


# ---------------------------------------------------------------------------------------------
# One variant


@dataclass
class Variant:
    name: str
    label: str
    serve_args: list[str]
    header_timeout: float
    keepalive_timeout: float
    result: dict = field(default_factory=dict)


class SoakWheelhouse(Wheelhouse):
    """The benchmark's Wheelhouse at log level notice (the start-up lines name the descriptor
    limit and the connection cap; a request log would cost every request a write), with a log
    of its own per variant."""

    def __init__(self, binary: Path, work: Path, name: str, serve_args=()) -> None:
        super().__init__(binary, work)
        self.log_path = work / f"wheelhouse-{name}.log"
        self.serve_args = list(serve_args)
        self.extra_env["WHEELHOUSE_LOG_LEVEL"] = "notice"


def startup_limits(log_path: Path) -> tuple[int | None, int | None, str]:
    """The connection cap and the descriptor limit the server logged at start-up (None when it
    logged none), and the line."""
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return None, None, ""
    for line in text.splitlines():
        if "max_connections" in line:
            cap = re.search(r"max_connections\W{0,3}(\d+)", line)
            limit = re.search(r"descriptor_limit\W{0,3}(\d+)", line)
            return (int(cap.group(1)) if cap else None), (int(limit.group(1)) if limit else None), line.strip()
    return None, None, ""


def log_errors(log_path: Path) -> int:
    """Lines the server logged at error or critical level."""
    try:
        return sum(1 for line in log_path.read_text(errors="replace").splitlines()
                   if re.match(r"^\S+ (error|critical) ", line))
    except OSError:
        return 0


class Sampler:
    """Once a second: the server's descriptors, RSS, CPU ticks, and the hostile side's counts."""

    def __init__(self, pid: int, hostile: Hostile) -> None:
        self.pid, self.hostile = pid, hostile
        self.samples: list[dict] = []
        self.next_at = 0.0

    def maybe(self, now: float) -> None:
        if now < self.next_at:
            return
        self.next_at = max(self.next_at + 1.0, now + 0.5)
        h = self.hostile
        try:
            fds = len(os.listdir(f"/proc/{self.pid}/fd"))
            rss, ticks = proc_rss_kib(self.pid), proc_stat_ticks(self.pid)
        except OSError:
            raise BenchError("the server exited during the soak") from None
        self.samples.append({
            "t": now, "fds": fds, "rss_kib": rss, "cpu_ticks": ticks, "client_cpu_s": own_cpu_seconds(),
            "open": dict(h.open), "cut": dict(h.cut), "connecting": h.connecting,
            "answers_408": sum(n for (_, line), n in h.answers.items() if " 408" in line)})


def run_variant(args, work: Path, binary: Path, variant: Variant, paths: list[str]) -> dict:
    """Starts a server with the variant's flags on the shared data and takes it through the
    phases (module docstring); returns the variant's figures."""
    began = time.monotonic()
    wh = SoakWheelhouse(binary, work, variant.name, variant.serve_args).start()
    pid = wh.proc.pid
    cap, limit, cap_line = startup_limits(wh.log_path)
    hostile = Hostile(wh.port, args.max_connecting, lambda: len(os.listdir(f"/proc/{pid}/fd")))
    sampler = Sampler(pid, hostile)
    phases: dict[str, list[float]] = {}
    ctx = multiprocessing.get_context("fork")
    stop = ctx.Event()
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=normal_load, args=(wh.port, paths, args.rate, args.clients, stop, send), daemon=True)
    child.start()
    send.close()

    def spin(seconds: float, done=lambda: False) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not done():
            if wh.proc.poll() is not None:
                raise BenchError(f"the server exited with {wh.proc.returncode} during the soak")
            hostile.step(0.02)
            sampler.maybe(time.monotonic())

    def phase(name: str, seconds: float, done=lambda: False) -> None:
        start = time.monotonic()
        spin(seconds, done)
        phases[name] = [start, time.monotonic()]

    try:
        target = {SILENT: args.idle // 2, KEPT: args.idle - args.idle // 2, SLOW: args.slowloris}
        total = sum(target.values())
        log(f"{variant.label}: baseline, {args.baseline_seconds:.0f} s of normal requests alone")
        phase("baseline", args.baseline_seconds)
        log(f"{variant.label}: opening {target[SILENT]} silent, {target[KEPT]} kept-alive and {target[SLOW]} "
            f"slowloris connections")
        hostile.reopen = True
        hostile.start_opening(target)
        # Opening ends when every connection is open, or after 20 s (with a cap, the rest wait in
        # the backlog or in SYN retries: the hostile phase then starts with what got in).
        phase("opening", 20.0, lambda: not hostile.pending and hostile.connecting == 0)
        log(f"{variant.label}: {hostile.holding} open (client's view) after "
            f"{phases['opening'][1] - phases['opening'][0]:.1f} s; holding them {args.hostile_seconds:.0f} s")
        phase("hostile", args.hostile_seconds)
        at_hostile_end = dict(hostile.open)
        cut_in_hostile = dict(hostile.cut)
        hostile.reopen = False
        hostile.pending.clear()
        # The drain ends when every connection is gone, or when the deadlines (+10 s) have passed
        # since the last one opened or the last cut: a cut frees a slot, and a connection that
        # waited in the backlog behind the cap is accepted then, its deadlines counted from there.
        longest = max(variant.header_timeout, variant.keepalive_timeout) + 10
        drain_start = time.monotonic()
        drain_end = lambda: min(max(hostile.last_established, hostile.last_cut) + longest,
                                drain_start + (args.drain_max if args.drain_max is not None else 600))
        log(f"{variant.label}: drain, waiting up to {drain_end() - drain_start:.0f} s (more while the server "
            f"cuts) for the server to cut the {hostile.holding} still open")
        phase("drain", 600, lambda: (hostile.holding == 0 and hostile.connecting == 0)
              or time.monotonic() >= drain_end())
        left_open = hostile.holding + hostile.connecting
        all_cut_at = (phases["drain"][1] - phases["opening"][0]) if left_open == 0 else None
        log(f"{variant.label}: {left_open} left open; settling, then the figures after")
        spin(3.0)
        phase("after", 3.0)
        closed_by_client = hostile.close_all()
        after_client: dict | None = None
        if closed_by_client:
            spin(3.0)
            start = time.monotonic()
            spin(2.0)
            after_client = {"fds": [s["fds"] for s in sampler.samples if s["t"] >= start],
                            "rss_kib": [s["rss_kib"] for s in sampler.samples if s["t"] >= start]}
    finally:
        stop.set()
        samples, probes = ([], [])
        if receive.poll(30):
            samples, probes = receive.recv()
        child.join(5)
        if child.is_alive():
            child.kill()
        hostile.close_all()
        code = wh.stop()
    return summarize(variant, args, wh, (cap, limit, cap_line), phases, sampler.samples, samples, probes, hostile,
                     target, at_hostile_end, cut_in_hostile, left_open, closed_by_client, all_cut_at,
                     after_client, code, time.monotonic() - began)


def summarize(variant, args, wh, logged, phases, samples, normal, probes, hostile, target, at_hostile_end,
              cut_in_hostile, left_open, closed_by_client, all_cut_at, after_client, exit_code, seconds) -> dict:
    """The variant's figures, per phase, as the report and the JSON give them."""
    def in_phase(t: float, name: str) -> bool:
        a, b = phases[name]
        return a <= t < b

    def latencies(rows, name, index=None) -> dict:
        chosen = [r for r in rows if in_phase(r[0], name) and (index is None or r[2] == index)]
        ok = [r[1] * 1000 for r in chosen if r[3 if len(r) > 3 else 2]]
        every = [r[1] * 1000 for r in chosen]
        return {"n": len(chosen), "errors": len(chosen) - len(ok), "p50_ms": percentile(every, 50),
                "p99_ms": percentile(every, 99), "max_ms": max(every) if every else float("nan"),
                "reconnects": sum(1 for r in chosen if len(r) > 4 and r[4])}

    def cpu(name: str) -> float:
        inside = [s for s in samples if in_phase(s["t"], name)]
        if len(inside) < 2:
            return float("nan")
        return (inside[-1]["cpu_ticks"] - inside[0]["cpu_ticks"]) / CLK_TCK / (inside[-1]["t"] - inside[0]["t"]) * 100

    def client_cpu(name: str) -> float:
        inside = [s for s in samples if in_phase(s["t"], name)]
        if len(inside) < 2:
            return float("nan")
        return (inside[-1]["client_cpu_s"] - inside[0]["client_cpu_s"]) / (inside[-1]["t"] - inside[0]["t"]) * 100

    def figure(key: str, name: str, how) -> float:
        values = [s[key] for s in samples if in_phase(s["t"], name)]
        return how(values) if values else float("nan")

    base_samples = [s for s in samples if in_phase(s["t"], "baseline")][1:]  # the first second: start-up
    result = {
        "label": variant.label, "serve_args": variant.serve_args, "port": wh.port, "log": str(wh.log_path),
        "max_connections_logged": logged[0], "descriptor_limit_logged": logged[1], "max_connections_line": logged[2],
        "seconds": seconds,
        "phases": {k: [v[0] - phases["baseline"][0], v[1] - phases["baseline"][0]] for k, v in phases.items()},
        "normal": {p: latencies(normal, p) for p in phases},
        "normal_page": {p: latencies(normal, p, 0) for p in phases},
        "normal_health": {p: latencies(normal, p, 1) for p in phases},
        "probes": {p: latencies(probes, p) for p in phases},
        "server_cpu_pct": {p: cpu(p) for p in phases},
        "client_cpu_pct": {p: client_cpu(p) for p in phases},
        "fds": {"baseline": statistics.median([s["fds"] for s in base_samples]) if base_samples else float("nan"),
                "max": max(s["fds"] for s in samples), "after": figure("fds", "after", statistics.median)},
        "rss_kib": {"baseline": statistics.median([s["rss_kib"] for s in base_samples]) if base_samples else 0,
                    "max": max(s["rss_kib"] for s in samples), "after": figure("rss_kib", "after", statistics.median)},
        "hostile": {
            "target": target, "established": dict(hostile.established), "open_at_hostile_end": at_hostile_end,
            "cut_during_hostile": cut_in_hostile, "cut_total": dict(hostile.cut), "resets": dict(hostile.resets),
            "failed_connects": hostile.failed_connects, "left_open_after_drain": left_open,
            "closed_by_client": closed_by_client, "all_cut_s_after_opening": all_cut_at,
            "answers": {f"{k}|{line}": n for (k, line), n in hostile.answers.items()},
            "lifetime_p50_s": {k: percentile(v, 50) for k, v in hostile.lifetimes.items()},
            "lifetime_min_s": {k: (min(v) if v else float("nan")) for k, v in hostile.lifetimes.items()},
        },
        "after_client_close": None if after_client is None else {
            "fds": statistics.median(after_client["fds"]), "rss_kib": statistics.median(after_client["rss_kib"])},
        "log_errors": log_errors(wh.log_path), "exit_code": exit_code,
        "timeline": timeline(samples, normal, probes, phases),
        "samples": [{k: (v - phases["baseline"][0] if k == "t" else v) for k, v in s.items()} for s in samples],
    }
    return result


def timeline(samples: list[dict], normal: list[tuple], probes: list[tuple], phases: dict) -> list[dict]:
    """One row per 5 s from the start of the opening (and one for the baseline): what the client
    holds, what the server has cut so far, the server's descriptors, RSS and CPU, and the normal
    requests' p99 and the slowest new-connection probe in those 5 s."""
    zero = phases["opening"][0]
    end = phases["after"][1]
    edges = [phases["baseline"][0]] + [zero + 5 * i for i in range(int((end - zero) // 5) + 2) if zero + 5 * i <= end]
    rows = []
    for a, b in zip(edges, edges[1:]):
        inside = [s for s in samples if a <= s["t"] < b]
        if not inside:
            continue
        last = inside[-1]
        lat = [r[1] * 1000 for r in normal if a <= r[0] < b]
        bad = sum(1 for r in normal if a <= r[0] < b and not r[3])
        probe = [r[1] * 1000 for r in probes if a <= r[0] < b]
        cpu = ((inside[-1]["cpu_ticks"] - inside[0]["cpu_ticks"]) / CLK_TCK / (inside[-1]["t"] - inside[0]["t"]) * 100
               if len(inside) > 1 else float("nan"))
        name = next((p for p, (x, y) in phases.items() if x <= a < y), "")
        rows.append({"t0": a - zero, "t1": b - zero, "phase": name, "open": last["open"], "cut": last["cut"],
                     "connecting": last["connecting"], "answers_408": last["answers_408"], "fds": last["fds"],
                     "rss_kib": last["rss_kib"], "cpu_pct": cpu, "normal_p99_ms": percentile(lat, 99),
                     "normal_n": len(lat), "normal_errors": bad,
                     "probe_max_ms": max(probe) if probe else float("nan")})
    return rows


# ---------------------------------------------------------------------------------------------
# The run


def setup(binary: Path, work: Path) -> list[str]:
    """One registry for every variant: a public project with a 2-file package (wheel and sdist)
    and a 10-file one; returns the normal requests' paths (the 2-file page, /-/health)."""
    shutil.rmtree(work / "data", ignore_errors=True)
    wh = SoakWheelhouse(binary, work, "setup").start()
    try:
        wh.user("bench", admin=True)
        token = wh.token("bench", "api", name="bench")["token"]
        corp = wh.group("corp", "public")["id"]
        main = wh.project("corp/main", "public")["id"]
        cat = Catalogue(token=token, main=main, secret=main, uploads=main, corp=corp, fleet=corp, fleet_projects=[])
        jobs = [(main, loaders.bench_wheel("soak-two", "1.0.1"), "soak-two", "1.0.1"),
                (main, loaders.bench_sdist("soak-two", "1.0.1"), "soak-two", "1.0.1")]
        jobs += [(main, loaders.bench_wheel("soak-ten", f"1.{i}.1"), "soak-ten", f"1.{i}.1") for i in range(10)]
        loaders.upload_all(wh, cat, jobs)
        page = f"/api/v4/projects/{main}/packages/pypi/simple/soak-two/"
        status, _, body = request(wh.port, "GET", page)
        if status != 200 or len(links(body)) != 2:
            raise BenchError(f"GET {page} answered {status} with {len(links(body))} links, not 200 with 2")
    finally:
        wh.stop()
    return [page, "/-/health"]


def variants(args, help_text: str, notes: list[str]) -> list[Variant]:
    has_deadlines = all(flag in help_text for flag in DEADLINE_FLAGS)
    has_cap = "--max-connections" in help_text
    short = ["--request-header-timeout", f"{args.short_timeout:g}", "--keepalive-timeout", f"{args.short_timeout:g}"]
    chosen = []
    for name in args.variants:
        if name == "default":
            chosen.append(Variant(name, "default deadlines", [], DEFAULT_HEADER_TIMEOUT, DEFAULT_KEEPALIVE_TIMEOUT))
        elif not has_deadlines:
            notes.append(f"variant '{name}' not run: the binary has no {' / '.join(DEADLINE_FLAGS)} "
                         f"(`serve --help`): it predates issue 16")
        elif name == "short":
            chosen.append(Variant(name, f"short deadlines ({args.short_timeout:g} s)", short,
                                  args.short_timeout, args.short_timeout))
        elif not has_cap:
            notes.append("variant 'cap' not run: the binary has no --max-connections")
        else:
            chosen.append(Variant(name, f"short + --max-connections {args.cap}",
                                  short + ["--max-connections", str(args.cap)], args.short_timeout, args.short_timeout))
    return chosen


# ---------------------------------------------------------------------------------------------
# The report


def ms_cell(d: dict) -> str:
    if not d or not d.get("n"):
        return "n/a"
    text = f"{fmt_ms(d['p50_ms'])}/{fmt_ms(d['p99_ms'])}ms (max {fmt_ms(d['max_ms'])}, n={d['n']}"
    if d["errors"]:
        text += f", {d['errors']} failed"
    if d.get("reconnects"):
        text += f", {d['reconnects']} reconnected"
    return text + ")"


def kinds_cell(counts: dict, target: dict | None = None) -> str:
    parts = [f"{counts.get(k, 0):,}" + (f"/{target[k]:,}" if target else "") for k in KINDS]
    return " / ".join(parts)


def pct(x: float) -> str:
    return "?" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.0f}%"


def mib(kib: float | None) -> str:
    return "?" if kib is None or (isinstance(kib, float) and math.isnan(kib)) else f"{kib / 1024:.1f}"


def summary_rows(results: dict[str, dict]) -> list[list[str]]:
    names = list(results)
    get = lambda f: [f(results[n]) for n in names]

    def returned(r: dict) -> str:
        fds, rss = r["fds"], r["rss_kib"]
        if r["hostile"]["left_open_after_drain"]:
            return f"no: {r['hostile']['left_open_after_drain']:,} never cut"
        # Near: at most 16 descriptors more than the baseline, RSS within a quarter plus 8 MiB.
        near_fds = fds["after"] <= fds["baseline"] + 16
        near_rss = rss["after"] <= rss["baseline"] * 1.25 + 8 * 1024
        return ("descriptors yes" if near_fds else "descriptors no") + (", RSS yes" if near_rss else ", RSS no")

    rows = [
        ["serve flags", *get(lambda r: " ".join(r["serve_args"]) or "(none)")],
        ["max_connections logged at start-up", *get(lambda r: (
            f"{r['max_connections_logged']:,}" + (f" (descriptor_limit {r['descriptor_limit_logged']:,})"
                                                   if r["descriptor_limit_logged"] else ""))
            if r["max_connections_logged"] else "not logged")],
        ["normal p50/p99, baseline", *get(lambda r: ms_cell(r["normal"]["baseline"]))],
        ["normal p50/p99, while opening", *get(lambda r: ms_cell(r["normal"]["opening"]))],
        ["normal p50/p99, hostile", *get(lambda r: ms_cell(r["normal"]["hostile"]))],
        ["   page / health p99, hostile", *get(lambda r: f"{fmt_ms(r['normal_page']['hostile']['p99_ms'])} / "
                                              f"{fmt_ms(r['normal_health']['hostile']['p99_ms'])} ms")],
        ["normal p50/p99, drain", *get(lambda r: ms_cell(r["normal"]["drain"]))],
        ["new-connection /-/health, baseline", *get(lambda r: ms_cell(r["probes"]["baseline"]))],
        ["new-connection /-/health, hostile", *get(lambda r: ms_cell(r["probes"]["hostile"]))],
        ["new-connection /-/health, drain", *get(lambda r: ms_cell(r["probes"]["drain"]))],
        ["opening took", *get(lambda r: f"{r['phases']['opening'][1] - r['phases']['opening'][0]:.1f} s")],
        ["open at hostile end (silent/kept/slow)", *get(lambda r: kinds_cell(r["hostile"]["open_at_hostile_end"],
                                                                            r["hostile"]["target"]))],
        ["cut by server during hostile", *get(lambda r: kinds_cell(r["hostile"]["cut_during_hostile"]))],
        ["cut by server in all", *get(lambda r: kinds_cell(r["hostile"]["cut_total"]) + f" ({sum(r['hostile']['resets'].values()):,} RST)")],
        ["   lifetime of a cut one, p50", *get(lambda r: " / ".join(
            "-" if math.isnan(v) else f"{v:.1f}s" for v in r["hostile"]["lifetime_p50_s"].values()))],
        ["   408 answers seen (slowloris)", *get(lambda r: f"{sum(n for k, n in r['hostile']['answers'].items() if ' 408' in k):,}")],
        ["   connections opened in all", *get(lambda r: f"{sum(r['hostile']['established'].values()):,}"
                                             + (f" ({r['hostile']['failed_connects']:,} connects failed)"
                                                if r['hostile']['failed_connects'] else ""))],
        ["all cut by the server", *get(lambda r: f"{r['hostile']['all_cut_s_after_opening']:.0f} s after opening began"
                                       if r["hostile"]["all_cut_s_after_opening"] is not None
                                       else f"no: {r['hostile']['left_open_after_drain']:,} still open at drain end")],
        ["server descriptors: baseline / max / after", *get(lambda r: f"{r['fds']['baseline']:.0f} / {r['fds']['max']:,} / "
                                                            f"{r['fds']['after']:,.0f}")],
        ["server RSS MiB: baseline / max / after", *get(lambda r: f"{mib(r['rss_kib']['baseline'])} / "
                                                        f"{mib(r['rss_kib']['max'])} / {mib(r['rss_kib']['after'])}")],
        ["back near baseline after the cut", *get(returned)],
        ["   after the client closed the rest", *get(lambda r: "-" if r["after_client_close"] is None else
                                                    f"{r['after_client_close']['fds']:.0f} fds, "
                                                    f"{mib(r['after_client_close']['rss_kib'])} MiB")],
        ["server CPU: baseline / hostile / drain", *get(lambda r: " / ".join(
            pct(r["server_cpu_pct"].get(p)) for p in ("baseline", "hostile", "drain")) + " of a core")],
        ["soak client CPU, hostile", *get(lambda r: pct(r["client_cpu_pct"].get("hostile")) + " of a core")],
        ["server log lines at error", *get(lambda r: str(r["log_errors"]))],
        ["variant took", *get(lambda r: f"{r['seconds']:.0f} s")],
    ]
    return rows


TIMELINE_HEADER = ["t (s)", "phase", "open sil/kept/slow", "cut sil/kept/slow", "408s", "fds", "RSS MiB",
                   "CPU", "normal p99", "probe max"]


def timeline_rows(r: dict) -> list[list[str]]:
    rows = []
    for row in r["timeline"]:
        t = "baseline" if row["phase"] == "baseline" else f"{row['t0']:.0f}-{row['t1']:.0f}"
        normal = fmt_ms(row["normal_p99_ms"]) + "ms" + (f" ({row['normal_errors']} failed)" if row["normal_errors"] else "")
        rows.append([t, row["phase"], kinds_cell(row["open"]) + (f" +{row['connecting']} conn." if row["connecting"] else ""),
                     kinds_cell(row["cut"]), f"{row['answers_408']:,}", f"{row['fds']:,}", mib(row["rss_kib"]),
                     pct(row["cpu_pct"]), normal, "-" if math.isnan(row["probe_max_ms"]) else fmt_ms(row["probe_max_ms"]) + "ms"])
    return rows


def report(args, binary: Path, limits: tuple[int, int, int], results: dict[str, dict], notes: list[str],
           seconds: float) -> str:
    found, soft, hard = limits
    affinity = len(os.sched_getaffinity(0))
    lines = [
        "Wheelhouse soak: hostile idle and slowloris connections (issue 16)" + (" (--quick)" if args.quick else ""),
        f"machine: {os.cpu_count()} cores ({affinity} usable), {time.strftime('%Y-%m-%d %H:%M %Z')}; everything on "
        f"127.0.0.1, the soak client shares the cores; load average {args.loadavg_start:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end",
        f"Wheelhouse: {binary} (built {time.strftime('%Y-%m-%d %H:%M', time.localtime(binary.stat().st_mtime))}, "
        f"repo at {git_revision()}), WHEELHOUSE_LOG_LEVEL=notice, SQLite",
        f"descriptors: hard limit {found:,} found, raised to soft {soft:,} / hard {hard:,} for the soak and the server",
        f"hostile: {args.idle // 2:,} silent + {args.idle - args.idle // 2:,} kept-alive (one answered request) idle, "
        f"{args.slowloris:,} slowloris (a partial head, then 1 byte/s); held {args.hostile_seconds:g} s, any cut one "
        f"reopened meanwhile; then not reopened until the server has cut them all",
        f"normal: {args.rate:g} req/s on {args.clients} keep-alive connections from another process (2-file package "
        f"page and /-/health in turn, 10 s timeout), and a /-/health on a new connection every second; cells are "
        f"p50/p99 (max, count); baseline {args.baseline_seconds:g} s",
        f"run took {seconds:.0f} s",
        "",
        render(summary_rows(results), ["figure", *(r["label"] for r in results.values())]),
    ]
    for r in results.values():
        lines += ["", f"timeline, {r['label']} (t from the start of the opening; counts at the end of each 5 s):",
                  render(timeline_rows(r), TIMELINE_HEADER)]
    if notes:
        lines += ["", "notes:"] + [f"  - {n}" for n in notes]
    return "\n".join(lines)


def write_json(path: Path, results: dict, notes: list[str], limits) -> None:
    clean = lambda v: None if isinstance(v, float) and math.isnan(v) else v
    def scrub(obj):
        if isinstance(obj, dict):
            return {k: scrub(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [scrub(v) for v in obj]
        return clean(obj)
    path.write_text(json.dumps(scrub({"variants": results, "notes": notes, "nofile": list(limits)}), indent=1))


# ---------------------------------------------------------------------------------------------
# The entry point (benchmarks/run soak)


def _raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


def main(argv=None) -> int:
    args = options(argv)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_exit)
    began = time.monotonic()
    args.loadavg_start = os.getloadavg()[0]
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="wheelhouse-bench-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        limits = raise_descriptor_limit(args.nofile, args.idle + args.slowloris + 256)
        if args.bin is None:
            if DEFAULT_RELEASE_BINARY.exists():
                args.bin = DEFAULT_RELEASE_BINARY
            else:
                from compare import build_binary  # the full benchmark's build, when no binary is given
                args.bin = build_binary()
        binary = args.bin.resolve()
        if not os.access(binary, os.X_OK):
            raise BenchError(f"{binary} is not an executable")
        log(f"{os.cpu_count()} cores; binary {binary}; descriptors {limits[1]}/{limits[2]} "
            f"(hard {limits[0]} found); work directory {work}")
        notes: list[str] = []
        chosen = variants(args, serve_flags(binary), notes)
        paths = setup(binary, work)
        results = {}
        for variant in chosen:
            results[variant.name] = run_variant(args, work, binary, variant, paths)
        for name, r in results.items():
            if r["max_connections_logged"] is None:
                notes.append(f"{r['label']}: the server logged no max_connections at start-up")
            elif name == "default" and r["max_connections_logged"] < args.idle + args.slowloris + args.clients:
                notes.append(f"{r['label']}: the default cap ({r['max_connections_logged']:,}) is below the "
                             f"{args.idle + args.slowloris:,} hostile connections: some waited in the backlog")
        seconds = time.monotonic() - began
        if args.json:
            write_json(args.json, results, notes, limits)
        print(report(args, binary, limits, results, notes, seconds))
        log(f"done in {seconds:.0f} s")
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
