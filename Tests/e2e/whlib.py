"""Helpers for the Wheelhouse end-to-end suite on top of Tests/harness (the server process and
the distributions builder): the database mode, HTTP calls (with a hand-made multipart encoder so
hostile bytes reach the server as written), what a server leaves behind (its log, the temporary
files of uploads), simple-page parsing and the real clients. Raw sockets are rawhttp.py's.

pytest.ini puts Tests/harness and Tests (for postgres_cluster.py) on sys.path."""
from __future__ import annotations

import hashlib
import html.parser
import io
import os
import re
import subprocess
import sys
import time
import urllib.parse
import uuid
import weakref
from dataclasses import dataclass
from pathlib import Path

import requests

import postgres_cluster
from distributions import Dist
from server import Server, describe  # noqa: F401  (describe: the suite imports it from here)

REPO = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO / ".build" / "debug" / "wheelhouse"


# ---------------------------------------------------------------- database mode

def database_mode() -> str:
    """WHEELHOUSE_E2E_DATABASE: "sqlite" (the default) or "postgres"; anything else is an error."""
    mode = (os.environ.get("WHEELHOUSE_E2E_DATABASE") or "sqlite").strip().lower()
    if mode in ("postgres", "postgresql", "pg"):
        return "postgres"
    if mode == "sqlite":
        return "sqlite"
    raise RuntimeError(f"WHEELHOUSE_E2E_DATABASE={mode!r}: expected 'sqlite' or 'postgres'")


def postgres_mode() -> bool:
    return database_mode() == "postgres"


class _SessionPostgres:
    """The PostgreSQL server that postgres mode puts every Wheelhouse on: the one named by
    WHEELHOUSE_TEST_POSTGRES_URL, or a cluster started on first use (conftest stops it)."""

    def __init__(self):
        self.cluster: postgres_cluster.PostgresCluster | None = None
        self._admin_url: str | None = None

    def admin_url(self) -> str:
        if self._admin_url is None:
            url = os.environ.get("WHEELHOUSE_TEST_POSTGRES_URL")
            if not url:
                self.cluster = postgres_cluster.PostgresCluster().start()
                url = self.cluster.url("postgres")
            self._admin_url = url
        return self._admin_url

    def new_database(self, hint="wh") -> str:
        """A fresh, empty database; returns its URL."""
        tag = "".join(c if c.isalnum() else "_" for c in hint.lower())[:20].strip("_") or "wh"
        name = f"whe2e_{tag}_{uuid.uuid4().hex[:10]}"
        return postgres_cluster.create_database(self.admin_url(), name)

    def shutdown(self):
        if self.cluster is not None:
            self.cluster.cleanup()
            self.cluster = None
            self._admin_url = None


SESSION_POSTGRES = _SessionPostgres()
AUTO = object()  # Wheelhouse(database_url=AUTO): SQLite, or a fresh database in postgres mode


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blake2_256(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=32).hexdigest()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def enc(path: str) -> str:
    """URL-encode a full path as one :id segment (acme/sub/lib -> acme%2Fsub%2Flib)."""
    return urllib.parse.quote(path, safe="")


def describe_response(r: requests.Response) -> str:
    req = r.request
    return (f"{req.method} {req.url}\n-> {r.status_code} {r.reason}\n"
            f"headers: {dict(r.headers)}\nbody: {r.text[:2000]}")


# ---------------------------------------------------------------- server + CLI

# Every Wheelhouse made; conftest appends the log tails of those still running (launched and
# not stopped) to failing tests' reports.
_MADE: "weakref.WeakSet[Wheelhouse]" = weakref.WeakSet()


def running_servers() -> list[Wheelhouse]:
    return [wh for wh in _MADE if wh.proc is not None]


class Wheelhouse(Server):
    """Tests/harness/server.py's Server as the suite uses it: a requests session on it, the
    multipart upload, and the database mode.

    database_url: AUTO (the default) means SQLite in the data dir, or in postgres mode
    (WHEELHOUSE_E2E_DATABASE=postgres) a fresh PostgreSQL database made for this data dir;
    None means SQLite whatever the mode; a string is passed as --database-url.
    blob_dir: passed as --blob-dir when given (the server's default is <data-dir>/blobs).
    via_env: host, port and storage reach `serve` as WHEELHOUSE_* variables instead of flags."""

    def __init__(self, binary: Path, data_dir: Path, log_path: Path, extra_args=(), port=None,
                 via_env=False, database_url=AUTO, blob_dir=None):
        if database_url is AUTO:
            database_url = (SESSION_POSTGRES.new_database(Path(data_dir).parent.name)
                            if postgres_mode() else None)
        super().__init__(binary, data_dir, log_path, port=port, database_url=database_url,
                         blob_dir=blob_dir, serve_args=extra_args)
        self.via_env = via_env
        self.http = requests.Session()
        self.http.trust_env = False  # no proxies, no ~/.netrc
        _MADE.add(self)

    def serve_command(self) -> tuple[list[str], dict]:
        if not self.via_env:
            return super().serve_command()
        env = self.environment()
        env.update(WHEELHOUSE_HOST="127.0.0.1", WHEELHOUSE_PORT=str(self.port),
                   WHEELHOUSE_DATA_DIR=str(self.data_dir))
        if self.database_url:
            env["WHEELHOUSE_DATABASE_URL"] = self.database_url
        if self.blob_dir:
            env["WHEELHOUSE_BLOB_DIR"] = str(self.blob_dir)
        return [str(self.binary), "serve", *self.serve_args], env

    # -- HTTP
    def get(self, url, auth=None, headers=None, **kw) -> requests.Response:
        if not url.startswith("http"):
            url = f"{self.api}/{url.lstrip('/')}"
        return self.http.get(url, auth=auth, headers=headers or {}, timeout=30,
                             allow_redirects=False, **kw)

    def upload(self, pid, content: bytes, filename, *, name, version, auth=None, headers=None,
               digests=True, fields=None, drop=(), boundary=None, url=None,
               chunked=False, timeout=60) -> requests.Response:
        """POST a twine-like multipart upload. `filename` may be str or raw bytes (sent as is);
        `chunked` sends the body with Transfer-Encoding: chunked (no Content-Length)."""
        fname = filename.decode("latin-1") if isinstance(filename, bytes) else filename
        is_wheel = fname.endswith(".whl")
        form = {":action": "file_upload", "protocol_version": "1", "name": name,
                "version": version, "filetype": "bdist_wheel" if is_wheel else "sdist",
                "pyversion": "py3" if is_wheel else "source", "metadata_version": "2.1"}
        if digests:
            form.update(sha256_digest=sha256(content), blake2_256_digest=blake2_256(content),
                        md5_digest=md5(content))
        form.update(fields or {})
        for k in drop:
            form.pop(k, None)
        items = []
        for k, v in form.items():  # a list value is sent as a repeated field
            items += [(k, x) for x in v] if isinstance(v, list) else [(k, v)]
        body, ctype = encode_multipart(items, [("content", filename, content)], boundary)
        hdrs = {"Content-Type": ctype, **(headers or {})}
        data = body
        if chunked:
            data = (body[i:i + 65536] for i in range(0, len(body), 65536))
        return self.http.post(url or self.project_url(pid), data=data, headers=hdrs, auth=auth,
                              timeout=timeout, allow_redirects=False)

    # -- what the server leaves behind: its log and the temporary files of uploads
    def log_mark(self) -> int:
        """Where the log ends now: log_since(mark) reads what comes after, so a test sees only
        the lines its own requests made."""
        return self.log_path.stat().st_size

    def log_since(self, mark: int) -> list[str]:
        with open(self.log_path, "rb") as f:
            f.seek(mark)
            return f.read().decode(errors="replace").splitlines()

    def spool_dir(self) -> Path:
        """Where uploads stream to before they are kept: <blob dir>/tmp on the file store, the
        data dir's spool/ with an object store."""
        if self.blob_store is not None:
            return self.data_dir / "spool"
        return (self.blob_dir or self.data_dir / "blobs") / "tmp"

    def temp_files(self) -> list[str]:
        """The names of the temporary files in the spool directory, sorted."""
        try:
            return sorted(p.name for p in self.spool_dir().iterdir())
        except FileNotFoundError:
            return []


ERROR_LINE = re.compile(r"^\S+ (error|critical) ")
STATUS_5XX = re.compile(r"\b(GET|HEAD|POST|PUT|DELETE)\s+\S+\s+5\d\d\b")


def assert_no_error_logged(wh: Wheelhouse, mark: int):
    """Nothing a client sent may look like the server breaking: no line at error or critical
    level, and no request answered 5xx, in the log since `mark`."""
    bad = [line for line in wh.log_since(mark) if ERROR_LINE.match(line) or STATUS_5XX.search(line)]
    assert not bad, "error or 5xx lines in the log:\n" + "\n".join(bad)


def assert_spool_empties(wh: Wheelhouse, within: float, poll: float = 0.1):
    """No temporary file left within `within` seconds: a refused or aborted upload removes its
    own at once, the running sweep anything else a while later."""
    until = time.monotonic() + within
    while wh.temp_files() and time.monotonic() < until:
        time.sleep(poll)
    assert not wh.temp_files(), f"temporary files left in {wh.spool_dir()}: {wh.temp_files()}"



def upload_ok(wh: Wheelhouse, pid, dist: Dist, name, version, auth, fields=None, drop=()):
    """Upload `dist` with Wheelhouse.upload and insist on 201 Created."""
    r = wh.upload(pid, dist.data, dist.filename, name=name, version=version, auth=auth,
                  fields=fields, drop=drop)
    assert r.status_code == 201, describe_response(r)
    return r


def encode_multipart(fields, files, boundary=None):
    boundary = boundary or "----wheelhouse-e2e-" + uuid.uuid4().hex
    out = io.BytesIO()
    for k, v in fields:
        out.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n".encode())
        out.write(v.encode() if isinstance(v, str) else v)
        out.write(b"\r\n")
    for k, fname, data in files:
        raw = fname if isinstance(fname, bytes) else fname.encode()
        out.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"".encode()
                  + raw + b"\"\r\nContent-Type: application/octet-stream\r\n\r\n")
        out.write(data)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


# ---------------------------------------------------------------- simple pages

@dataclass
class Link:
    href: str
    text: str
    requires_python: str | None

    @property
    def filename(self):
        return urllib.parse.unquote(urllib.parse.urlsplit(self.href).path.rsplit("/", 1)[-1])


class _Anchors(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links, self._cur = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            a = dict(attrs)
            self._cur = Link(a.get("href", ""), "", a.get("data-requires-python"))

    def handle_data(self, data):
        if self._cur is not None:
            self._cur.text += data

    def handle_endtag(self, tag):
        if tag == "a" and self._cur is not None:
            self.links.append(self._cur)
            self._cur = None


def parse_links(page: str) -> list[Link]:
    p = _Anchors()
    p.feed(page)
    p.close()
    return p.links


# ---------------------------------------------------------------- real clients

class Clients:
    """pip, uv and twine from this interpreter's environment, never from the system, with no
    config files, no caches, no keyring and HOME pointed at a scratch dir."""

    def __init__(self, scratch: Path):
        self.scratch = scratch
        home = scratch / "home"
        home.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PIP_", "UV_", "TWINE_", "PYTHON", "VIRTUAL_ENV", "WHEELHOUSE_"))
               and k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "netrc")}
        env.update(
            HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"),
            NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
            PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_CACHE_DIR="1",
            PIP_NO_INPUT="1", PIP_DEFAULT_TIMEOUT="30", PIP_KEYRING_PROVIDER="disabled",
            UV_NO_CACHE="1", UV_NO_CONFIG="1", UV_PYTHON_DOWNLOADS="never", UV_NO_PROGRESS="1",
            UV_KEYRING_PROVIDER="disabled", UV_HTTP_TIMEOUT="30",
            PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring", PYTHONDONTWRITEBYTECODE="1",
        )
        self.env = env
        uv = Path(sys.executable).parent / "uv"
        self.uv = [str(uv)] if uv.exists() else [sys.executable, "-m", "uv"]
        self._n = 0

    def run(self, cmd, timeout=180, **kw) -> subprocess.CompletedProcess:
        return subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                              timeout=timeout, env=self.env, stdin=subprocess.DEVNULL,
                              cwd=self.scratch, **kw)

    def target(self) -> Path:
        self._n += 1
        t = self.scratch / f"target{self._n}"
        t.mkdir()
        return t

    def pip_install(self, index_url, *reqs, target):
        return self.run([sys.executable, "-m", "pip", "install", "--index-url", index_url,
                         "--only-binary", ":all:", "--target", target, *reqs])

    def uv_install(self, index_url, *reqs, target):
        return self.run([*self.uv, "pip", "install", "--default-index", index_url,
                         "--python", sys.executable, "--target", target, *reqs])

    def twine_upload(self, repo_url, token, *files, extra=(), user="__token__"):
        return self.run([sys.executable, "-m", "twine", "upload", "--repository-url", repo_url,
                         "-u", user, "-p", token, "--non-interactive",
                         "--disable-progress-bar", *extra, *files])

    def uv_publish(self, publish_url, token, *files, extra=()):
        return self.run([*self.uv, "publish", "--publish-url", publish_url, "--username",
                         "__token__", "--password", token, "--trusted-publishing", "never",
                         *extra, *files])

    def imported(self, target: Path, module: str) -> str:
        """Import `module` from an install target in a fresh interpreter; return its VALUE."""
        proc = subprocess.run([sys.executable, "-I", "-c",
                               f"import sys; sys.path.insert(0, {str(target)!r}); "
                               f"import {module}; print({module}.VALUE)"],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, describe(proc)
        return proc.stdout.strip()


def index_url(base_url: str, token: str | None = None, user="__token__") -> str:
    """…/packages/pypi -> …/packages/pypi/simple, with Basic credentials in the URL if given."""
    url = base_url + "/simple"
    if token:
        scheme, rest = url.split("://", 1)
        url = f"{scheme}://{urllib.parse.quote(user, safe='')}:{urllib.parse.quote(token, safe='')}@{rest}"
    return url


def set_password(server: Wheelhouse, username: str, password: str) -> None:
    """Give `username` a password as an operator would: `wheelhouse user password NAME` with the
    password on standard input (so it is in no process list). Raises AssertionError if refused."""
    proc = server.cli("user", "password", username, input=password + "\n")
    assert proc.returncode == 0, f"user password {username} failed\n{describe(proc)}"
