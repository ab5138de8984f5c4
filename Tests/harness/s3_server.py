#!/usr/bin/env python3
"""A throwaway S3-compatible server for Wheelhouse's tests: moto in server mode on a loopback port,
with a bucket, one IAM key allowed `s3:*`, and a TCP forwarder in front of it so a test can make
"the store" go away and come back without losing what moto holds in memory.

    s3 = S3Server().start()            # moto_server in its own session, signatures checked
    s3.endpoint                        # http://127.0.0.1:PORT (the forwarder: give it to Wheelhouse)
    s3.bucket, s3.region, s3.access_key, s3.secret_key
    s3.env()                           # AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY for a process
    s3.store("e2e/one")                # a server.ObjectStore: --blob-store s3://BUCKET/e2e/one ...
    s3.client                          # a boto3 S3 client on moto itself (works while down())
    s3.objects("e2e/one/")             # {key: size} of everything under a prefix
    s3.down(); s3.up()                 # the forwarder refuses connections / accepts them again
    s3.pause(); s3.resume()            # SIGSTOP / SIGCONT moto: connections accepted, no answers
    s3.stop()                          # everything gone (moto keeps its data in memory only)

Why moto, and why this way (see also /work/notes in the issue): it is the S3 server that installs
here with pip (`moto[server]`, next to this interpreter in its venv's bin). By default moto accepts
any request; started with INITIAL_NO_AUTH_ACTION_COUNT=3 it lets exactly three unauthenticated
actions through and then checks every request's SigV4 signature against the IAM keys it knows, so
the first three actions here create an IAM user, its access key and an inline policy allowing
`s3:*` on `*`; from then on a wrong secret gets 403 SignatureDoesNotMatch, as from AWS.
moto with checking on cannot serve presigned URLs (it answers 500), so tests of presigned
redirects start one with `check_signatures=False`.

moto keeps everything in memory: restarting it would lose the bucket. So "the store is down" is
the forwarder closing its listening socket and every connection through it (clients then get
connection refused, as from a stopped server), and "the store hangs" is SIGSTOP of moto (the
kernel still completes TCP handshakes into its backlog, nothing is ever answered).

Command line:

    .venv/bin/python Tests/harness/s3_server.py run [--no-signature-check] [--bucket B] [--region R] -- CMD...

(with the interpreter of the venv that holds moto[server] and boto3: moto_server is looked up
next to it, never on PATH)

starts one server, runs CMD with WHEELHOUSE_TEST_S3_ENDPOINT, WHEELHOUSE_TEST_S3_BUCKET,
WHEELHOUSE_TEST_S3_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in its environment (the
endpoint is moto's own port, no forwarder), then stops the server and exits with CMD's code.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HOST = "127.0.0.1"
DEFAULT_BUCKET = "wheelhouse-test"
DEFAULT_REGION = "us-east-1"


class S3NotFound(RuntimeError):
    """moto_server or boto3 is not installed in this interpreter's environment."""


class S3ServerError(RuntimeError):
    """moto did not start, or its set-up (IAM key, bucket) failed; the message has its log tail."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def moto_server_path() -> Path:
    """moto_server from this interpreter's venv (never one from PATH: the version is pinned in
    Tests/e2e/requirements.txt); raises S3NotFound."""
    exe = Path(sys.executable).parent / "moto_server"
    if not os.access(exe, os.X_OK):
        raise S3NotFound(f"{exe} not found: install moto[server] into this environment "
                         f"({sys.executable} -m pip install -r Tests/e2e/requirements.txt)")
    return exe


def _wait_port(port: int, proc: subprocess.Popen | None, timeout: float) -> bool:
    """Whether something accepts TCP connections on HOST:port within `timeout`. A plain connect,
    never an HTTP request: with signature checks on, moto counts unauthenticated actions."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


# ---------------------------------------------------------------- the forwarder

class Forwarder:
    """A TCP forwarder from HOST:`port` to HOST:`target_port`, one thread pair per connection.

    down() closes the listening socket (new connections are refused) and every open connection
    through it (requests in flight fail as when a server dies); up() listens on the same port
    again. `accepted` counts connections made through it, so a test can tell a client used it."""

    def __init__(self, target_port: int, port: int | None = None):
        self.target_port = target_port
        self.port = port or free_port()
        self.accepted = 0
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def is_up(self) -> bool:
        return self._listener is not None

    def up(self) -> "Forwarder":
        if self._listener is not None:
            return self
        deadline = time.monotonic() + 5
        while True:  # the port may linger a moment after down(); SO_REUSEADDR covers TIME_WAIT
            try:
                self._listener = socket.create_server((HOST, self.port), backlog=128)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self._listener.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, args=(self._listener, self._stop),
                                        name=f"s3-forwarder-{self.port}", daemon=True)
        self._thread.start()
        return self

    def down(self) -> None:
        """Refuse from now on: the listener is closed before this returns, and so is every
        connection through it."""
        if self._listener is None:
            return
        self._stop.set()
        self._thread.join(5)
        self._listener.close()
        self._listener = None
        with self._lock:
            conns, self._conns = list(self._conns), set()
        for s in conns:
            _close(s)

    def _accept_loop(self, listener: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            if stop.is_set():  # accepted in the instant down() began: refuse it after all
                _close(client)
                return
            client.settimeout(None)
            try:
                upstream = socket.create_connection((HOST, self.target_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self.accepted += 1
                self._conns |= {client, upstream}
            done = [0]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst, done), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, done: list) -> None:
        """Copies src to dst; an EOF is passed on as a half-close, an error closes both."""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    dst.shutdown(socket.SHUT_WR)
                    break
                dst.sendall(data)
        except OSError:
            _close(src)
            _close(dst)
        with self._lock:
            done[0] += 1
            finished = done[0] == 2
            if finished:
                self._conns -= {src, dst}
        if finished:
            _close(src)
            _close(dst)


def _close(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass


# ---------------------------------------------------------------- the server

class S3Server:
    """One moto_server process with one bucket, and (unless `forwarder=False`) a Forwarder in
    front of it. `endpoint` is what Wheelhouse is given (the forwarder's address), `moto_endpoint`
    moto's own; `client` talks to moto directly, so the tests can look into the bucket while the
    forwarder is down. With `check_signatures` (the default) every request must be signed with
    `access_key`/`secret_key`; without, moto takes anything (needed for presigned URLs)."""

    def __init__(self, root: Path | None = None, *, bucket: str = DEFAULT_BUCKET,
                 region: str = DEFAULT_REGION, check_signatures: bool = True,
                 forwarder: bool = True):
        self._own_root = root is None
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="wheelhouse-s3-"))
        self.bucket = bucket
        self.region = region
        self.check_signatures = check_signatures
        self.use_forwarder = forwarder
        self.log_path = self.root / "moto.log"
        self.moto_port: int | None = None
        self.proc: subprocess.Popen | None = None
        self.forwarder: Forwarder | None = None
        self.access_key = ""
        self.secret_key = ""
        self.paused = False
        self._client = None

    # -- where it is
    @property
    def moto_endpoint(self) -> str:
        return f"http://{HOST}:{self.moto_port}"

    @property
    def endpoint(self) -> str:
        if self.forwarder is not None:
            return f"http://{HOST}:{self.forwarder.port}"
        return self.moto_endpoint

    def env(self) -> dict[str, str]:
        """The AWS_* variables a process needs to use the bucket (the credentials)."""
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}

    def store_url(self, prefix: str = "") -> str:
        prefix = prefix.strip("/")
        return f"s3://{self.bucket}/{prefix}" if prefix else f"s3://{self.bucket}"

    def store(self, prefix: str = "", *, env: dict | None = None):
        """A server.ObjectStore for Server(blob_store=...): `--blob-store s3://BUCKET/PREFIX
        --s3-endpoint ENDPOINT --s3-region REGION` on every command, the same settings as
        WHEELHOUSE_* variables (for a server configured from its environment), the credentials,
        and `env` on top (a test's wrong secret, say)."""
        from server import ObjectStore  # Tests/harness, next to this file

        url = self.store_url(prefix)
        variables = {**self.env(), "WHEELHOUSE_BLOB_STORE": url,
                     "WHEELHOUSE_S3_ENDPOINT": self.endpoint, "WHEELHOUSE_S3_REGION": self.region,
                     **(env or {})}
        return ObjectStore(url, ["--s3-endpoint", self.endpoint, "--s3-region", self.region],
                           variables)

    # -- lifecycle
    def start(self, timeout: float = 30.0) -> "S3Server":
        exe = moto_server_path()
        try:
            import boto3  # noqa: F401
        except ImportError as e:
            raise S3NotFound(f"boto3 is not installed here ({e}): pip install -r "
                             f"Tests/e2e/requirements.txt") from None
        self.root.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
        if self.check_signatures:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
        for attempt in range(3):  # the free port may be taken between free_port() and bind
            self.moto_port = free_port()
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen([str(exe), "-H", HOST, "-p", str(self.moto_port)],
                                             stdout=log, stderr=subprocess.STDOUT, env=env,
                                             stdin=subprocess.DEVNULL, start_new_session=True)
            if _wait_port(self.moto_port, self.proc, timeout):
                break
            self._kill()
            if attempt == 2:
                raise S3ServerError(f"moto_server did not listen on {self.moto_port}:\n"
                                    f"{self.log_tail()}")
        try:
            self._set_up()
        except Exception as e:
            self.stop()
            raise S3ServerError(f"setting up moto failed: {e!r}\n{self.log_tail()}") from e
        if self.use_forwarder:
            self.forwarder = Forwarder(self.moto_port).up()
        return self

    def _set_up(self) -> None:
        """The IAM key (the three unauthenticated actions when signatures are checked) and the
        bucket, created with that key."""
        if self.check_signatures:
            iam = self._boto("iam", "AKIAWHEELHOUSEDUMMY0", "dummy-secret-for-the-first-actions")
            user = "wheelhouse-test"
            iam.create_user(UserName=user)
            key = iam.create_access_key(UserName=user)["AccessKey"]
            iam.put_user_policy(UserName=user, PolicyName="s3-everything", PolicyDocument=json.dumps(
                {"Version": "2012-10-17",
                 "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
            self.access_key, self.secret_key = key["AccessKeyId"], key["SecretAccessKey"]
        else:
            self.access_key = "AKIA" + secrets.token_hex(8).upper()
            self.secret_key = secrets.token_urlsafe(30)
        kwargs = {}
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        self.client.create_bucket(Bucket=self.bucket, **kwargs)

    def _boto(self, service: str, key: str, secret: str, endpoint: str | None = None):
        import boto3
        from botocore.config import Config

        return boto3.client(service, endpoint_url=endpoint or self.moto_endpoint,
                            region_name=self.region, aws_access_key_id=key,
                            aws_secret_access_key=secret,
                            config=Config(s3={"addressing_style": "path"}, connect_timeout=5,
                                          read_timeout=60, retries={"max_attempts": 1}))

    @property
    def client(self):
        """A boto3 S3 client with the bucket's key, on moto itself (not through the forwarder)."""
        if self._client is None:
            self._client = self._boto("s3", self.access_key, self.secret_key)
        return self._client

    def client_with(self, key: str, secret: str, endpoint: str | None = None):
        """A boto3 S3 client with other credentials (a wrong secret, say)."""
        return self._boto("s3", key, secret, endpoint)

    def down(self) -> None:
        """The store is gone: connections to `endpoint` are refused, open ones are cut."""
        self.forwarder.down()

    def up(self) -> None:
        """The store is back on the same address, with everything it held."""
        self.forwarder.up()

    def pause(self) -> None:
        """The store hangs: moto is stopped (SIGSTOP); connections still complete, nothing answers."""
        os.killpg(self.proc.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        os.killpg(self.proc.pid, signal.SIGCONT)
        self.paused = False

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        """Stops the forwarder and moto (everything in the bucket is gone); removes the log
        directory when this object made it."""
        if self.forwarder is not None:
            self.forwarder.down()
            self.forwarder = None
        if self.proc is not None and self.proc.poll() is None:
            if self.paused:
                self.resume()
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        self._kill()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no moto log)"

    # -- looking into the bucket (boto3, on moto itself)
    def objects(self, prefix: str = "") -> dict[str, int]:
        """{key: size} of every object whose key starts with `prefix`."""
        found = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                          Prefix=prefix):
            for o in page.get("Contents", []):
                found[o["Key"]] = o["Size"]
        return found

    def get_bytes(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def pending_multipart_uploads(self, prefix: str = "") -> list[dict]:
        """Multipart uploads begun and neither completed nor aborted, under `prefix`."""
        r = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=prefix)
        return r.get("Uploads", [])


# ---------------------------------------------------------------- command line

def _run_command(args) -> int:
    cmd = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
    if not cmd:
        print("s3_server.py run: no command given (usage: run -- CMD ARGS...)", file=sys.stderr)
        return 2
    s3 = S3Server(bucket=args.bucket, region=args.region,
                  check_signatures=not args.no_signature_check, forwarder=False)
    child = None

    def forward(signum, _frame):
        if child is not None and child.poll() is None:
            child.send_signal(signum)
        else:
            raise KeyboardInterrupt

    old = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        try:
            s3.start()
        except (S3NotFound, S3ServerError) as e:
            print(f"s3_server.py: {e}", file=sys.stderr)
            return 3
        checked = "signatures checked" if s3.check_signatures else "no signature checks"
        print(f"s3_server.py: moto at {s3.endpoint}, bucket {s3.bucket} ({s3.region}, {checked})",
              file=sys.stderr, flush=True)
        env = dict(os.environ, WHEELHOUSE_TEST_S3_ENDPOINT=s3.endpoint,
                   WHEELHOUSE_TEST_S3_BUCKET=s3.bucket, WHEELHOUSE_TEST_S3_REGION=s3.region,
                   **s3.env())
        env.pop("AWS_SESSION_TOKEN", None)  # a developer's token would be signed and refused
        try:
            child = subprocess.Popen(cmd, env=env)
        except OSError as e:
            print(f"s3_server.py: cannot run {cmd[0]}: {e}", file=sys.stderr)
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
        s3.stop()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="A throwaway S3 server (moto) for tests.")
    sub = ap.add_subparsers(dest="action", required=True)
    run = sub.add_parser("run", help="start moto with a bucket, run CMD with "
                                     "WHEELHOUSE_TEST_S3_* and AWS_* set; exits with CMD's code")
    run.add_argument("--bucket", default=DEFAULT_BUCKET)
    run.add_argument("--region", default=DEFAULT_REGION)
    run.add_argument("--no-signature-check", action="store_true",
                     help="moto accepts any request (needed for presigned URLs)")
    run.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    return _run_command(ap.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
