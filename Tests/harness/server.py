"""One `wheelhouse serve` process and the admin CLI on the same storage (standard library only).

The one harness for Tests/e2e (whlib.Wheelhouse builds on it: PostgreSQL per data dir, a requests
session, upload helpers) and benchmarks/ (imported with `sys.path.insert(0, <repo>/Tests/harness)`).

    wh = Server(binary, data_dir, log_path, database_url=None, blob_dir=None, blob_store=None)
    wh.start()                      # launch() + wait_healthy(): GET /-/health answers 200
    wh.startup_seconds              # process start to the first healthy answer
    wh.user("alice"); tok = wh.token("alice", "api")["token"]   # the admin CLI, parsed from --json
    wh.cli("group", "create", "acme")                            # any command, a CompletedProcess
    wh.memory_kib()                 # {"VmRSS": ..., "VmHWM": ...} from /proc/PID/status
    wh.stop()                       # SIGTERM (or any signal), then the exit code
    wh.log_tail()                   # the last lines the server wrote to log_path

Every command, `serve` and the CLI alike, gets the same storage arguments (--data-dir, and
--database-url / --blob-dir / --blob-store when set), so both see one registry. The server listens
on 127.0.0.1, and its environment is this process's without any WHEELHOUSE_* variable (a
developer's settings must not reach the server under test), plus `env`.

Blobs in a bucket: `blob_store` is an ObjectStore (Tests/harness/s3_server.py's S3Server.store()
makes one: --blob-store s3://BUCKET/PREFIX, --s3-endpoint, --s3-region, the credentials). A server
on one inherits no AWS_* variable from this process, only the store's. `Server.default_blob_store`,
when set, is asked for the store of every server made with neither blob_dir nor blob_store: how
Tests/e2e puts its whole run on one bucket (WHEELHOUSE_E2E_BLOB_STORE=s3).
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def describe(proc: subprocess.CompletedProcess) -> str:
    """A finished command as a failure message: the command line, exit code, stdout and stderr."""
    cmd = " ".join(str(c) for c in proc.args)
    return (f"$ {cmd}\n-> exit {proc.returncode}\n--- stdout ---\n{proc.stdout[-4000:]}"
            f"\n--- stderr ---\n{proc.stderr[-4000:]}")


def proc_status_kib(pid: int, keys=("VmRSS", "VmHWM")) -> dict[str, int]:
    """Fields of /proc/PID/status in KiB: VmRSS is the resident set now, VmHWM its peak."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in keys:
            values[key] = int(rest.split()[0])
    return values


@dataclass
class ObjectStore:
    """Blobs somewhere other than a directory: `url` is --blob-store's value (s3://BUCKET/PREFIX),
    `args` the options that go with it on every command (--s3-endpoint URL --s3-region R), `env`
    the variables every command needs (credentials; the same settings as WHEELHOUSE_* variables,
    for a server configured from its environment)."""
    url: str
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


class ServerError(RuntimeError):
    """The server exited before it was healthy, or was not healthy in time (the log tail says why)."""


class CLIError(RuntimeError):
    """An admin command failed or printed something other than one JSON object."""

    def __init__(self, message: str, proc: subprocess.CompletedProcess):
        super().__init__(message)
        self.proc = proc


class Server:
    """One `wheelhouse serve` process on 127.0.0.1:`port` (a free one unless given), writing to
    `log_path` (appended to, across restarts), and the admin CLI on the same storage.

    `serve_args` are appended to `serve`'s command line; `env` is added to the environment of the
    server and the CLI. With `new_session` the server runs in a session of its own, so a terminal's
    Ctrl-C reaches only the driver, which then stops the server itself. `proc` is the running
    subprocess.Popen (None before launch and after stop or kill).

    `blob_store` (an ObjectStore) puts the blobs in a bucket instead of `blob_dir`."""

    # callable(server) -> ObjectStore | None: the store of a server made with neither blob_dir
    # nor blob_store (None: the server's own default, <data-dir>/blobs).
    default_blob_store = None

    def __init__(self, binary: Path, data_dir: Path, log_path: Path, *, port: int | None = None,
                 database_url: str | None = None, blob_dir: Path | None = None, serve_args=(),
                 env: dict | None = None, new_session: bool = False,
                 blob_store: ObjectStore | None = None):
        self.binary = Path(binary)
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_path)
        self.port = port or free_port()
        self.database_url = database_url
        self.blob_dir = Path(blob_dir) if blob_dir else None
        self.serve_args = list(serve_args)
        self.extra_env = dict(env or {})
        self.new_session = new_session
        self.blob_store = blob_store
        if self.blob_store is None and self.blob_dir is None and Server.default_blob_store:
            self.blob_store = Server.default_blob_store(self)
        self.proc: subprocess.Popen | None = None
        self.startup_seconds: float | None = None
        self._launched_at = 0.0

    # -- where it is
    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def api(self) -> str:
        return f"{self.base}/api/v4"

    def project_url(self, pid) -> str:
        """The PyPI API of a project (id or URL-encoded path): upload here, `/simple` below it."""
        return f"{self.api}/projects/{pid}/packages/pypi"

    def group_url(self, gid) -> str:
        return f"{self.api}/groups/{gid}/-/packages/pypi"

    def storage_args(self) -> list[str]:
        """--data-dir, plus --database-url / --blob-dir / --blob-store (and its options) when set:
        what `serve` and every admin command are given."""
        args = ["--data-dir", str(self.data_dir)]
        if self.database_url:
            args += ["--database-url", self.database_url]
        if self.blob_dir:
            args += ["--blob-dir", str(self.blob_dir)]
        if self.blob_store:
            args += ["--blob-store", self.blob_store.url, *self.blob_store.args]
        return args

    @property
    def sqlite_url(self) -> str:
        """The URL of the default SQLite database in the data dir (for migrate-data --from)."""
        return f"sqlite:{self.data_dir / 'wheelhouse.sqlite3'}"

    def environment(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WHEELHOUSE_")}
        if self.blob_store:  # the store's credentials only, never a developer's AWS_* settings
            env = {k: v for k, v in env.items() if not k.startswith("AWS_")}
            env.update(self.blob_store.env)
        env.update(self.extra_env)
        return env

    def serve_command(self) -> tuple[list[str], dict]:
        """The command line and environment `launch` starts the server with."""
        argv = [str(self.binary), "serve", "--host", HOST, "--port", str(self.port),
                *self.storage_args(), *self.serve_args]
        return argv, self.environment()

    # -- lifecycle
    def start(self, timeout: float = 30.0) -> "Server":
        """launch() and wait_healthy(timeout)."""
        self.launch()
        self.wait_healthy(timeout)
        return self

    def launch(self) -> "Server":
        """Starts the process without waiting for it (see wait_healthy); a restart keeps the port."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv, env = self.serve_command()
        with open(self.log_path, "ab") as log:
            log.write(f"\n==== start port {self.port} {time.strftime('%X')} ====\n".encode())
            log.flush()
            self._launched_at = time.monotonic()
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                         stdin=subprocess.DEVNULL, start_new_session=self.new_session)
        return self

    def healthy(self) -> bool:
        """Whether GET /-/health answers 200 right now."""
        conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
        try:
            conn.request("GET", "/-/health")
            return conn.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def wait_healthy(self, timeout: float = 30.0, poll: float = 0.01) -> float:
        """Waits until /-/health answers 200 and returns the seconds since launch (also kept in
        `startup_seconds`). Raises ServerError if the process exits first (it is then forgotten:
        `proc` is None) or is not healthy within `timeout` (it is then killed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code, self.proc = self.proc.returncode, None
                raise ServerError(f"wheelhouse exited with {code} before it was healthy: "
                                  f"{' '.join(self.serve_command()[0])}\n{self.log_tail()}")
            if self.healthy():
                self.startup_seconds = time.monotonic() - self._launched_at
                return self.startup_seconds
            time.sleep(poll)
        self.kill()
        raise ServerError(f"wheelhouse not healthy after {timeout}s\n{self.log_tail()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Sends `sig`, waits for the exit and returns the exit code (negative: killed by that
        signal); after `timeout` it kills the process and returns -9. 0 when not running."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.proc = None
                return -9
        code, self.proc = self.proc.returncode, None
        return code

    def kill(self) -> None:
        """SIGKILL, no questions asked."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- memory
    def memory_kib(self) -> dict[str, int]:
        """The running server's VmRSS (resident now) and VmHWM (its peak), in KiB."""
        return proc_status_kib(self.proc.pid)

    def reset_peak_memory(self) -> None:
        """Resets VmHWM to the current RSS (/proc/PID/clear_refs); raises OSError where the
        kernel does not allow it."""
        Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")

    # -- admin CLI
    def cli(self, *args, timeout: float = 60, input: str | None = None) -> subprocess.CompletedProcess:
        """`wheelhouse ARGS... <storage args>`, finished, its output captured as text; `input`, if
        given, is its standard input (otherwise it has none)."""
        cmd = [str(self.binary), *map(str, args), *self.storage_args()]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=self.environment(),
                              input=input, stdin=None if input is not None else subprocess.DEVNULL)

    def cli_json(self, *args, timeout: float = 60) -> dict:
        """`cli(*args, "--json")`, which must succeed and print one JSON object; raises CLIError."""
        proc = self.cli(*args, "--json", timeout=timeout)
        if proc.returncode != 0:
            raise CLIError(describe(proc), proc)
        try:
            obj = json.loads(proc.stdout)
        except ValueError as e:
            raise CLIError(f"stdout is not one JSON object ({e})\n{describe(proc)}", proc) from None
        if not isinstance(obj, dict):
            raise CLIError(f"stdout is JSON but not an object\n{describe(proc)}", proc)
        return obj

    def user(self, name, admin=False) -> dict:
        return self.cli_json("user", "create", name, *(["--admin"] if admin else []))

    def token(self, user, *scopes, name=None, expires_at=None) -> dict:
        """A personal access token (scopes default to api); its secret is ["token"]."""
        args = ["token", "create", "--user", user, "--name", name or f"tok-{uuid.uuid4().hex[:8]}"]
        for s in scopes or ("api",):
            args += ["--scope", s]
        if expires_at:
            args += ["--expires-at", expires_at]
        return self.cli_json(*args)

    def group(self, path, visibility="private") -> dict:
        return self.cli_json("group", "create", path, "--visibility", visibility)

    def project(self, path, visibility="private") -> dict:
        return self.cli_json("project", "create", path, "--visibility", visibility)

    def member(self, user, role, *, group=None, project=None) -> dict:
        where = ["--group", group] if group else ["--project", project]
        return self.cli_json("member", "add", "--user", user, *where, "--role", role)

    def deploy_token(self, *scopes, group=None, project=None, name=None, expires_at=None) -> dict:
        where = ["--group", group] if group else ["--project", project]
        args = ["deploy-token", "create", *where, "--name", name or f"dt-{uuid.uuid4().hex[:8]}"]
        for s in scopes:
            args += ["--scope", s]
        if expires_at:
            args += ["--expires-at", expires_at]
        return self.cli_json(*args)
