"""Helpers for the Wheelhouse end-to-end suite: the server process, its admin CLI,
HTTP calls (with a hand-made multipart encoder so hostile bytes reach the server as
written), simple-page parsing, synthetic distributions and the real clients."""
from __future__ import annotations

import hashlib
import html.parser
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tarfile
import time
import urllib.parse
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO / ".build" / "debug" / "wheelhouse"
HEALTH_TIMEOUT = 30.0

# Servers currently running; conftest appends their log tails to failing tests' reports.
RUNNING: list["Wheelhouse"] = []

if str(REPO / "Tests") not in sys.path:
    sys.path.insert(0, str(REPO / "Tests"))
import postgres_cluster  # noqa: E402  (Tests/postgres_cluster.py)


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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blake2_256(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=32).hexdigest()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def enc(path: str) -> str:
    """URL-encode a full path as one :id segment (acme/sub/lib -> acme%2Fsub%2Flib)."""
    return urllib.parse.quote(path, safe="")


def describe(proc: subprocess.CompletedProcess) -> str:
    cmd = " ".join(str(c) for c in proc.args)
    return (f"$ {cmd}\n-> exit {proc.returncode}\n--- stdout ---\n{proc.stdout[-4000:]}"
            f"\n--- stderr ---\n{proc.stderr[-4000:]}")


def describe_response(r: requests.Response) -> str:
    req = r.request
    return (f"{req.method} {req.url}\n-> {r.status_code} {r.reason}\n"
            f"headers: {dict(r.headers)}\nbody: {r.text[:2000]}")


# ---------------------------------------------------------------- server + CLI

class Wheelhouse:
    """One `wheelhouse serve` process plus the admin CLI pointed at the same data dir (and the
    same database and blob dir).

    database_url: AUTO (the default) means SQLite in the data dir, or in postgres mode
    (WHEELHOUSE_E2E_DATABASE=postgres) a fresh PostgreSQL database made for this data dir;
    None means SQLite whatever the mode; a string is passed as --database-url.
    blob_dir: passed as --blob-dir when given (the server's default is <data-dir>/blobs)."""

    def __init__(self, binary: Path, data_dir: Path, log_path: Path, extra_args=(), port=None,
                 via_env=False, database_url=AUTO, blob_dir=None):
        self.binary = Path(binary)
        self.via_env = via_env  # pass host/port/data dir as WHEELHOUSE_* instead of flags
        self.data_dir = Path(data_dir)
        if database_url is AUTO:
            database_url = (SESSION_POSTGRES.new_database(Path(data_dir).parent.name)
                            if postgres_mode() else None)
        self.database_url: str | None = database_url
        self.blob_dir = Path(blob_dir) if blob_dir else None
        self.log_path = Path(log_path)
        self.extra_args = list(extra_args)
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.http = requests.Session()
        self.http.trust_env = False  # no proxies, no ~/.netrc

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return f"{self.base}/api/v4"

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WHEELHOUSE_")}
        return env

    def storage_args(self) -> list[str]:
        """--data-dir, plus --database-url / --blob-dir when set: what `serve` and every admin
        command are given."""
        args = ["--data-dir", str(self.data_dir)]
        if self.database_url:
            args += ["--database-url", self.database_url]
        if self.blob_dir:
            args += ["--blob-dir", str(self.blob_dir)]
        return args

    @property
    def sqlite_url(self) -> str:
        """The URL of the default SQLite database in the data dir (for migrate-data --from)."""
        return f"sqlite:{self.data_dir / 'wheelhouse.sqlite3'}"

    # -- lifecycle
    def start(self, port=None):
        self.launch(port)
        return self.wait_healthy()

    def launch(self, port=None):
        """Start the process without waiting for it (see wait_healthy)."""
        if port:
            self.port = port
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        log.write(f"\n==== start port {self.port} {time.strftime('%X')} ====\n".encode())
        log.flush()
        env = self.env()
        if self.via_env:
            cmd = [str(self.binary), "serve", *self.extra_args]
            env.update(WHEELHOUSE_HOST="127.0.0.1", WHEELHOUSE_PORT=str(self.port),
                       WHEELHOUSE_DATA_DIR=str(self.data_dir))
            if self.database_url:
                env["WHEELHOUSE_DATABASE_URL"] = self.database_url
            if self.blob_dir:
                env["WHEELHOUSE_BLOB_DIR"] = str(self.blob_dir)
        else:
            cmd = [str(self.binary), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                   *self.storage_args(), *self.extra_args]
        self._cmd = cmd
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                     stdin=subprocess.DEVNULL)
        log.close()
        RUNNING.append(self)
        return self

    def wait_healthy(self, timeout=HEALTH_TIMEOUT):
        cmd = self._cmd
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                RUNNING.remove(self)
                raise RuntimeError(f"wheelhouse exited with {self.proc.returncode} before it was "
                                   f"healthy: {' '.join(cmd)}\n{self.log_tail()}")
            try:
                if self.http.get(f"{self.base}/-/health", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"wheelhouse not healthy after {timeout}s\n{self.log_tail()}")

    def stop(self, sig=signal.SIGTERM, timeout=20.0) -> int:
        """Send `sig`, wait for the exit, return the exit code (a kill after `timeout` -> -9)."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                code = -9
            else:
                code = self.proc.returncode
        else:
            code = self.proc.returncode
        if self in RUNNING:
            RUNNING.remove(self)
        self.proc = None
        return code

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self in RUNNING:
            RUNNING.remove(self)
        self.proc = None

    def log_tail(self, lines=60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- admin CLI
    def cli(self, *args, timeout=60) -> subprocess.CompletedProcess:
        cmd = [str(self.binary), *map(str, args), *self.storage_args()]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=self.env(), stdin=subprocess.DEVNULL)

    def cli_json(self, *args) -> dict:
        proc = self.cli(*args, "--json")
        assert proc.returncode == 0, describe(proc)
        try:
            obj = json.loads(proc.stdout)
        except ValueError as e:
            raise AssertionError(f"stdout is not one JSON object ({e})\n{describe(proc)}")
        assert isinstance(obj, dict), describe(proc)
        return obj

    def user(self, name, admin=False):
        return self.cli_json("user", "create", name, *(["--admin"] if admin else []))

    def token(self, user, *scopes, name=None, expires_at=None):
        args = ["token", "create", "--user", user, "--name", name or f"tok-{uuid.uuid4().hex[:8]}"]
        for s in scopes or ("api",):
            args += ["--scope", s]
        if expires_at:
            args += ["--expires-at", expires_at]
        return self.cli_json(*args)

    def group(self, path, visibility="private"):
        return self.cli_json("group", "create", path, "--visibility", visibility)

    def project(self, path, visibility="private"):
        return self.cli_json("project", "create", path, "--visibility", visibility)

    def member(self, user, role, *, group=None, project=None):
        where = ["--group", group] if group else ["--project", project]
        return self.cli_json("member", "add", "--user", user, *where, "--role", role)

    def deploy_token(self, *scopes, group=None, project=None, name=None, expires_at=None):
        where = ["--group", group] if group else ["--project", project]
        args = ["deploy-token", "create", *where, "--name", name or f"dt-{uuid.uuid4().hex[:8]}"]
        for s in scopes:
            args += ["--scope", s]
        if expires_at:
            args += ["--expires-at", expires_at]
        return self.cli_json(*args)

    # -- HTTP
    def project_url(self, pid) -> str:
        return f"{self.api}/projects/{pid}/packages/pypi"

    def group_url(self, gid) -> str:
        return f"{self.api}/groups/{gid}/-/packages/pypi"

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


# ---------------------------------------------------------------- distributions

@dataclass
class Dist:
    path: Path

    @property
    def filename(self):
        return self.path.name

    @property
    def data(self) -> bytes:
        return self.path.read_bytes()

    @property
    def sha256(self):
        return sha256(self.data)


def synth_sdist(dest: Path, name: str, version: str, marker: str = "", filename=None) -> Dist:
    """A small but valid sdist (PKG-INFO + pyproject + module) built in memory."""
    stem = f"{name.replace('-', '_').replace('.', '_').lower()}-{version}"
    files = {
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        "pyproject.toml": f'[project]\nname = "{name}"\nversion = "{version}"\n',
        "mod.py": f"MARKER = {marker or uuid.uuid4().hex!r}\n",
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for rel, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{stem}/{rel}")
            info.size, info.mtime = len(data), 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    path = dest / (filename or f"{stem}.tar.gz")
    path.write_bytes(buf.getvalue())
    return Dist(path)


def synth_wheel(dest: Path, name: str, version: str, payload: bytes = b"", module=None) -> Dist:
    """A valid, installable pure-Python wheel; `payload` is stored uncompressed inside it."""
    dist = name.replace("-", "_").replace(".", "_").lower()
    module = module or dist
    di = f"{dist}-{version}.dist-info"
    members = {
        f"{module}/__init__.py": f"VALUE = {version!r}\nTOKEN = {uuid.uuid4().hex!r}\n".encode(),
        f"{di}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{di}/WHEEL": b"Wheel-Version: 1.0\nGenerator: e2e\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    if payload:
        members[f"{module}/payload.bin"] = payload
    record = "".join(f"{p},,\n" for p in members) + f"{di}/RECORD,,\n"
    members[f"{di}/RECORD"] = record.encode()
    path = dest / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for rel, data in members.items():
            zf.writestr(zipfile.ZipInfo(rel, (2023, 11, 14, 0, 0, 0)), data)
    return Dist(path)


def write_project(root: Path, name: str, version: str, module: str, value: str,
                  deps=(), requires_python=">=3.8") -> Path:
    root.mkdir(parents=True)
    deps_toml = ", ".join(json.dumps(d) for d in deps)
    (root / "pyproject.toml").write_text(
        "[build-system]\nrequires = [\"setuptools\", \"wheel\"]\n"
        "build-backend = \"setuptools.build_meta\"\n\n"
        f"[project]\nname = \"{name}\"\nversion = \"{version}\"\n"
        f"description = \"Wheelhouse e2e fixture\"\nrequires-python = \"{requires_python}\"\n"
        f"dependencies = [{deps_toml}]\n\n[tool.setuptools]\npy-modules = [\"{module}\"]\n")
    imports = "".join(f"import {d.split('>')[0].split('=')[0].replace('-', '_')}\n" for d in deps)
    (root / f"{module}.py").write_text(f"{imports}VALUE = {value!r}\n")
    return root


def start_build(src: Path, outdir: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel",
         "--outdir", str(outdir), str(src)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=src)


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
