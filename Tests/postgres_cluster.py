#!/usr/bin/env python3
"""A throwaway PostgreSQL cluster for Wheelhouse's tests (standard library only).

    cluster = PostgresCluster().start()      # initdb in a temp dir, listen on 127.0.0.1:<free>
    cluster.create_database("wh_one")
    url = cluster.url("wh_one")              # postgres://postgres@127.0.0.1:<port>/wh_one
    cluster.stop(); cluster.start()          # same port, same data: a restart
    cluster.cleanup()                        # stop and remove everything

Trust authentication (local socket and loopback only), superuser `postgres`, the unix socket in
the cluster's own temp dir, fsync off. When run as root the server binaries are run as the
`postgres` OS user (initdb and postgres refuse to run as root) and the cluster directory is
handed to that user.

Command line:

    python3 Tests/postgres_cluster.py run -- CMD ARGS...

starts a cluster, runs CMD with WHEELHOUSE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:PORT/
postgres in its environment, then stops and removes the cluster and exits with CMD's code.

Binaries: $WHEELHOUSE_PG_BINDIR, else `pg_config --bindir` (when it holds initdb and postgres),
else the newest /usr/lib/postgresql/*/bin, else initdb on PATH. Without them this fails loudly;
it never skips.
"""
from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

SERVER_TOOLS = ("initdb", "pg_ctl", "postgres")
OS_USER = "postgres"
SUPERUSER = "postgres"


class PostgresNotFound(RuntimeError):
    pass


def _has_server_tools(d: Path) -> bool:
    return all(os.access(d / t, os.X_OK) for t in SERVER_TOOLS)


def find_bin_dir() -> Path:
    """The directory holding initdb, pg_ctl, postgres and psql; raises PostgresNotFound."""
    tried = []
    env = os.environ.get("WHEELHOUSE_PG_BINDIR")
    if env:
        if _has_server_tools(Path(env)):
            return Path(env)
        raise PostgresNotFound(f"WHEELHOUSE_PG_BINDIR={env} does not hold {', '.join(SERVER_TOOLS)}")
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                 timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out:
            tried.append(out)
            if _has_server_tools(Path(out)):
                return Path(out)

    def version_key(p: str):
        m = re.search(r"/postgresql/([0-9.]+)/bin$", p)
        return tuple(int(x) for x in m.group(1).split(".") if x) if m else (0,)

    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version_key, reverse=True):
        tried.append(d)
        if _has_server_tools(Path(d)):
            return Path(d)
    initdb = shutil.which("initdb")
    if initdb:
        tried.append(str(Path(initdb).parent))
        if _has_server_tools(Path(initdb).parent):
            return Path(initdb).parent
    raise PostgresNotFound(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; looked in "
        f"{tried or ['(nothing: no pg_config, no /usr/lib/postgresql/*/bin, no initdb on PATH)']}. "
        "Install them (Debian/Ubuntu: apt-get install postgresql) or set WHEELHOUSE_PG_BINDIR.")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clean_env() -> dict:
    """The environment without PG* variables (a stray PGHOST or PGPASSWORD must not leak in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(LC_ALL="C", LANG="C")
    return env


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def psql(url: str, sql: str, *, bin_dir: Path | None = None, timeout=60) -> str:
    """Run `sql` with psql against a postgres:// URL (as the current OS user, over TCP);
    returns stdout (unaligned, tuples only); raises RuntimeError with psql's output on error."""
    exe = (bin_dir or find_bin_dir()) / "psql"
    url = re.sub(r"^postgresql\+?\w*://", "postgres://", url)
    proc = subprocess.run([str(exe), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                           "-d", url, "-c", sql],
                          capture_output=True, text=True, timeout=timeout, env=_clean_env(),
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"psql failed ({proc.returncode}) on {sql!r} at {url}:\n"
                           f"{proc.stdout}{proc.stderr}")
    return proc.stdout


def with_database(url: str, dbname: str) -> str:
    """The same server URL naming another database."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + urllib.parse.quote(dbname),
                                    parts.query, ""))


def create_database(admin_url: str, name: str, *, bin_dir: Path | None = None) -> str:
    """CREATE DATABASE `name` on the server of `admin_url`; returns the new database's URL."""
    psql(admin_url, f"CREATE DATABASE {_quote_ident(name)}", bin_dir=bin_dir)
    return with_database(admin_url, name)


def drop_database(admin_url: str, name: str, *, bin_dir: Path | None = None):
    psql(admin_url, f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)", bin_dir=bin_dir)


class PostgresCluster:
    """One throwaway cluster. start() initialises it on first use; stop() keeps the data so a
    later start() is a restart on the same port; cleanup() stops it and removes the directory."""

    def __init__(self, port: int | None = None, bin_dir: Path | None = None, parent_dir=None):
        self.bin_dir = Path(bin_dir) if bin_dir else find_bin_dir()
        self.port = port or free_port()
        self.as_root = os.geteuid() == 0
        # The postgres OS user must be able to reach the directory, so it is made in a
        # world-traversable place (the default temp dir), never under a 0700 pytest dir.
        self.root = Path(tempfile.mkdtemp(prefix="wh-pg-", dir=parent_dir))
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "sock"
        self.log_path = self.root / "postgres.log"
        self._initialised = False
        self._running = False
        self._paused: list[int] = []
        if self.as_root:
            try:
                import pwd
                pw = pwd.getpwnam(OS_USER)
            except KeyError:
                shutil.rmtree(self.root, ignore_errors=True)
                raise PostgresNotFound(f"running as root but there is no `{OS_USER}` OS user to "
                                       "run initdb/postgres as (initdb refuses to run as root)")
            self._uid, self._gid = pw.pw_uid, pw.pw_gid
            os.chmod(self.root, 0o755)
            for p in Path(self.root).parents:
                if not os.stat(p).st_mode & 0o001:
                    shutil.rmtree(self.root, ignore_errors=True)
                    raise RuntimeError(f"{p} is not traversable by the {OS_USER} user; "
                                       "pass parent_dir= a world-traversable directory")

    # -- plumbing
    def _cmd(self, tool: str, *args) -> list[str]:
        cmd = [str(self.bin_dir / tool), *map(str, args)]
        if self.as_root:
            runuser = shutil.which("runuser") or "/sbin/runuser"
            cmd = [runuser, "-u", OS_USER, "--", *cmd]
        return cmd

    def _run(self, tool: str, *args, timeout=120, check=True) -> subprocess.CompletedProcess:
        proc = subprocess.run(self._cmd(tool, *args), capture_output=True, text=True,
                              timeout=timeout, env=_clean_env(), cwd=self.root,
                              stdin=subprocess.DEVNULL)
        if check and proc.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(map(str, args))} exited {proc.returncode}:\n"
                               f"{proc.stdout}{proc.stderr}\n--- postgres log ---\n"
                               f"{self.log_tail()}")
        return proc

    def log_tail(self, lines=40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _init(self):
        self.socket_dir.mkdir(exist_ok=True)
        self.log_path.touch()
        if self.as_root:
            for p in (self.root, self.socket_dir, self.log_path):
                os.chown(p, self._uid, self._gid)
        self._run("initdb", "-D", self.data_dir, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                  "--locale=C", "--no-sync", "--no-instructions")
        conf = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.socket_dir}'",
            # fsync off is safe for a throwaway cluster as long as the OS does not crash: a
            # commit still reaches the kernel before it is acknowledged. synchronous_commit
            # stays on, or an immediate stop (a simulated crash) would lose the last commits.
            "fsync = off",
            "full_page_writes = off",
            "max_connections = 300",
            "shared_buffers = 32MB",
            "log_min_messages = warning",
            "log_line_prefix = '%m [%p] %d '",
        ]
        with open(self.data_dir / "postgresql.conf", "a") as f:
            f.write("\n# wheelhouse test cluster\n" + "\n".join(conf) + "\n")
        # initdb --auth=trust already trusts local and loopback; spell it out anyway.
        (self.data_dir / "pg_hba.conf").write_text(
            "local all all trust\n"
            "host  all all 127.0.0.1/32 trust\n"
            "host  all all ::1/128 trust\n")
        if self.as_root:
            os.chown(self.data_dir / "pg_hba.conf", self._uid, self._gid)
        self._initialised = True

    # -- lifecycle
    def start(self, timeout=60.0) -> "PostgresCluster":
        if self._running:
            return self
        if not self._initialised:
            self._init()
        self._run("pg_ctl", "-D", self.data_dir, "-l", self.log_path, "-w", "-t", int(timeout),
                  "start", timeout=timeout + 10)
        self._running = True
        deadline = time.monotonic() + timeout
        while True:  # pg_ctl -w waits for the socket; make sure TCP answers queries too
            try:
                psql(self.url(), "SELECT 1", bin_dir=self.bin_dir, timeout=10)
                return self
            except (RuntimeError, subprocess.SubprocessError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self, mode="fast", timeout=60.0):
        """pg_ctl stop; mode "fast" (disconnects clients, clean) or "immediate" (a crash)."""
        if not self._running:
            return
        self.resume()
        self._run("pg_ctl", "-D", self.data_dir, "-m", mode, "-w", "-t", int(timeout), "stop",
                  timeout=timeout + 10)
        self._running = False

    @property
    def running(self) -> bool:
        return self._running

    # -- a hung server (network partition): connections open, nothing answers
    def _postmaster_pid(self) -> int:
        return int((self.data_dir / "postmaster.pid").read_text().split()[0])

    def _processes(self) -> list[int]:
        """The postmaster and every process it forked (backends, walwriter, ...)."""
        pm = self._postmaster_pid()
        pids = [pm]
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                text = Path(stat).read_text()
            except OSError:
                continue
            fields = text[text.rfind(")") + 2:].split()  # after "pid (comm) "
            if len(fields) > 1 and fields[1] == str(pm):
                pids.append(int(stat.split("/")[2]))
        return pids

    def pause(self) -> list[int]:
        """SIGSTOP the whole cluster: TCP connects still complete (the kernel accepts them) and
        open connections stay up, but no query is answered — what a client sees of a hung
        server or a network partition. Returns the stopped pids; resume() undoes it."""
        if not self._running:
            raise RuntimeError("pause(): the cluster is not running")
        self._paused = self._processes()
        for pid in self._paused:
            os.kill(pid, signal.SIGSTOP)
        return self._paused

    def resume(self):
        for pid in self._paused:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self._paused = []

    def cleanup(self):
        try:
            if self._running:
                try:
                    self.stop("fast", timeout=30)
                except Exception:
                    self.stop("immediate", timeout=30)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    # -- databases
    def url(self, dbname="postgres") -> str:
        return f"postgres://{SUPERUSER}@127.0.0.1:{self.port}/{urllib.parse.quote(dbname)}"

    def psql(self, sql: str, dbname="postgres") -> str:
        """Run SQL as the superuser over the unix socket, as the postgres OS user."""
        proc = self._run("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                         "-h", self.socket_dir, "-p", self.port, "-U", SUPERUSER, "-d", dbname,
                         "-c", sql, timeout=60)
        return proc.stdout

    def create_database(self, name: str) -> str:
        """CREATE DATABASE (as the postgres OS user); returns the database's URL."""
        self.psql(f"CREATE DATABASE {_quote_ident(name)}")
        return self.url(name)

    def drop_database(self, name: str):
        self.psql(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)")


# ---------------------------------------------------------------- command line

def _run_command(cmd: list[str]) -> int:
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        print("postgres_cluster.py run: no command given (usage: run -- CMD ARGS...)",
              file=sys.stderr)
        return 2
    try:
        cluster = PostgresCluster()
    except PostgresNotFound as e:
        print(f"postgres_cluster.py: {e}", file=sys.stderr)
        return 3
    child = None

    def forward(signum, _frame):
        if child is not None and child.poll() is None:
            child.send_signal(signum)
        else:
            raise KeyboardInterrupt

    old = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        cluster.start()
        url = cluster.url("postgres")
        print(f"postgres_cluster.py: PostgreSQL ({cluster.bin_dir}) at {url} "
              f"(dir {cluster.root})", file=sys.stderr, flush=True)
        env = dict(os.environ, WHEELHOUSE_TEST_POSTGRES_URL=url)
        try:
            child = subprocess.Popen(cmd, env=env)
        except OSError as e:
            print(f"postgres_cluster.py: cannot run {cmd[0]}: {e}", file=sys.stderr)
            return 127
        while True:
            try:
                code = child.wait()
                break
            except KeyboardInterrupt:
                continue
        return code if code >= 0 else 128 - code
    except KeyboardInterrupt:
        return 130
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        cluster.cleanup()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="A throwaway PostgreSQL cluster for tests.")
    sub = ap.add_subparsers(dest="action", required=True)
    run = sub.add_parser("run", help="start a cluster, run CMD with WHEELHOUSE_TEST_POSTGRES_URL "
                                     "set, then remove the cluster; exits with CMD's code")
    run.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    sub.add_parser("bindir", help="print the PostgreSQL bin directory that would be used")
    args = ap.parse_args(argv)
    if args.action == "bindir":
        try:
            print(find_bin_dir())
        except PostgresNotFound as e:
            print(f"postgres_cluster.py: {e}", file=sys.stderr)
            return 3
        return 0
    return _run_command(args.cmd)


if __name__ == "__main__":
    sys.exit(main())
