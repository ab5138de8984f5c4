"""Issue 12's cache mode: Wheelhouse fetches an upstream project's page and files, verifies and
stores them, and serves them as its own, behind the same index URL as the private packages.

Two real upstreams: Tests/harness/static_index.py (PEP 691 JSON or HTML only, and every hostile
answer), and another `wheelhouse serve` with a public group (PEP 691 and 658 as Wheelhouse
speaks them). Their request logs prove what was fetched, and how often. Each test makes its own
project names (a random tag), so what one test cached never answers another."""
from __future__ import annotations

import base64
import concurrent.futures
import subprocess
import sys
import time
import tomllib
import urllib.parse
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

import whlib
from distributions import wheel
from simple_api import JSON_T, Tags, requests_since
from static_index import BAD_NAMES, StaticIndex
from whlib import Clients, Wheelhouse, describe, describe_response, index_url, sha256, upload_ok

F, URL, MODE, TTL = ("pypi_package_requests_forwarding", "pypi_upstream_url",
                     "pypi_package_requests_forwarding_mode", "pypi_upstream_ttl_seconds")
MAX_UPLOAD = 4 << 20  # the proxy's --max-upload-size: upstream files above it are refused
OUTBOUND_ACCEPT = "application/vnd.pypi.simple.v1+json"


# ---------------------------------------------------------------- upstreams

class StaticUpstream:
    """static_index.StaticIndex as the tests read an upstream: add files, read what it served."""
    kind = "static"

    def __init__(self, index: StaticIndex):
        self.index = index

    @property
    def url(self) -> str:
        return self.index.url

    def add(self, name, version, dist, **attrs):
        self.index.add_dist(name, dist, **attrs)

    def begin(self):
        self.index.clear_log()

    def paths(self) -> list[str]:
        return self.index.paths()


class WheelhouseUpstream:
    """Another `wheelhouse serve`: files go into its public project, and its request log (the
    lines the server writes) says what it served."""
    kind = "wheelhouse"

    def __init__(self, wh: Wheelhouse, pid, gid, auth):
        self.wh, self.pid, self.gid, self.auth = wh, pid, gid, auth
        self.mark = 0

    @property
    def url(self) -> str:
        return f"{self.wh.group_url(self.gid)}/simple/"

    def add(self, name, version, dist, **attrs):
        fields = {"requires_python": attrs["requires_python"]} if attrs.get("requires_python") else None
        upload_ok(self.wh, self.pid, dist, name, version, self.auth, fields=fields)

    def begin(self):
        self.mark = self.wh.log_mark()

    def paths(self) -> list[str]:
        return [path for _, path, _ in requests_since(self.wh, self.mark)]


def file_fetches(upstream, filename) -> list[str]:
    return [p for p in upstream.paths() if p.endswith("/" + filename)]


def metadata_fetches(upstream, filename) -> list[str]:
    return [p for p in upstream.paths() if p.endswith("/" + filename + ".metadata")]


@pytest.fixture(scope="module")
def static_index():
    index = StaticIndex().start()
    yield index
    index.stop()


@pytest.fixture(scope="module")
def origin(wheelhouse_bin, tmp_path_factory):
    """The Wheelhouse upstream: public group opub, public project opub/lib, owner olga."""
    d = tmp_path_factory.mktemp("origin")
    wh = Wheelhouse(wheelhouse_bin, d / "data", d / "server.log").start()
    wh.user("olga")
    auth = ("__token__", wh.token("olga", "api")["token"])
    gid = wh.group("opub", "public")["id"]
    wh.member("olga", "owner", group="opub")
    pid = wh.project("opub/lib", "public")["id"]
    yield WheelhouseUpstream(wh, pid, gid, auth)
    wh.stop()


class Proxy:
    """The Wheelhouse under test: group acme (private) with project acme/app, owner alice."""

    def __init__(self, wh: Wheelhouse):
        self.wh = wh
        wh.user("root", admin=True)
        self.root = wh.token("root", "api")["token"]
        wh.user("alice")
        self.tok = wh.token("alice", "api")["token"]
        self.alice = ("__token__", self.tok)
        self.gid = wh.group("acme", "private")["id"]
        wh.member("alice", "owner", group="acme")
        self.pid = wh.project("acme/app", "private")["id"]
        local = wheel("wh-proxy-local", "1.0")
        upload_ok(wh, self.pid, local, "wh-proxy-local", "1.0", self.alice)
        self._local = local

    def files_root(self, route="group") -> str:
        """Where this scope's own files are (a local file's URL up to /<sha256>/<name>):
        upstream files must be served from there too."""
        r = self.page("wh-proxy-local", route)
        assert r.status_code == 200, describe_response(r)
        (x,) = r.json()["files"]
        root, _, rest = x["url"].split("#")[0].rpartition(f"/{self._local.sha256}/")
        assert rest == self._local.filename and root.endswith("/files"), x
        return root

    def configure(self, **fields) -> dict:
        r = self.wh.http.put(f"{self.wh.api}/application/settings", json=fields,
                             headers={"PRIVATE-TOKEN": self.root}, timeout=30)
        assert r.status_code == 200, describe_response(r)
        return r.json()

    def base(self, route="group") -> str:
        return self.wh.group_url(self.gid) if route == "group" else self.wh.project_url(self.pid)

    def index(self, route="group", token=True) -> str:
        return index_url(self.base(route), self.tok if token else None)

    def page(self, name, route="group", accept=JSON_T, **kw) -> requests.Response:
        return self.fetch(f"{self.base(route)}/simple/{name}", headers={"Accept": accept}, **kw)

    def fetch(self, url, timeout=30, **kw) -> requests.Response:
        return self.wh.http.get(url, auth=self.alice, timeout=timeout, allow_redirects=False, **kw)


def proxy_server(wheelhouse_bin, root: Path, name: str, **kw) -> Wheelhouse:
    d = root / name
    return Wheelhouse(wheelhouse_bin, d / "data", d / "server.log",
                      ("--max-upload-size", str(MAX_UPLOAD)), **kw)


@pytest.fixture(scope="module")
def px(wheelhouse_bin, tmp_path_factory, static_index):
    wh = proxy_server(wheelhouse_bin, tmp_path_factory.mktemp("proxy"), "proxy").start()
    p = Proxy(wh)
    p.configure(**{URL: static_index.url, F: True, MODE: "cache"})
    yield p
    wh.stop()


@pytest.fixture(autouse=True)
def _upstream_restored(request, static_index):
    """Every test starts and ends with the static upstream up, well-behaved and logging anew,
    and (when it uses the proxy) the proxy pointed at it with the default TTL."""
    static_index.start()
    static_index.normal()
    static_index.clear_log()
    yield
    static_index.start()
    static_index.normal()
    if "px" in request.fixturenames:
        request.getfixturevalue("px").configure(**{URL: static_index.url, TTL: 600,
                                                   "pypi_upstream_username": "",
                                                   "pypi_upstream_password": ""})


@pytest.fixture
def up(static_index):
    return StaticUpstream(static_index)


@pytest.fixture(params=["static", "wheelhouse"])
def any_up(request, px, static_index):
    """Each upstream in turn, the proxy pointed at it, its log from now on."""
    upstream = (StaticUpstream(static_index) if request.param == "static"
                else request.getfixturevalue("origin"))
    px.configure(**{URL: upstream.url})
    upstream.begin()
    return upstream


def tag() -> str:
    return "c" + uuid.uuid4().hex[:6]


def closure(px: Proxy, upstream, tmp_path: Path):
    """wh-T-app 1.0 (private, in acme/app) -> wh-T-mid 1.0 (upstream) -> wh-T-base>=2 (upstream
    has 1.0 and 2.0). Returns the dists, names and import names."""
    n = f"wh-{tag()}"
    d = tmp_path / n
    c = SimpleNamespace(
        n=n,
        base1=wheel(f"{n}-base", "1.0", dest=d / "b1"),
        base=wheel(f"{n}-base", "2.0", extra_meta="Requires-Python: >=3.8\n", dest=d / "b2"),
        mid=wheel(f"{n}-mid", "1.0", extra_meta=f"Requires-Dist: {n}-base>=2\n", dest=d / "m"),
        app=wheel(f"{n}-app", "1.0", extra_meta=f"Requires-Dist: {n}-mid\n", dest=d / "a"),
    )
    upstream.add(f"{n}-base", "1.0", c.base1)
    upstream.add(f"{n}-base", "2.0", c.base, requires_python=">=3.8")
    upstream.add(f"{n}-mid", "1.0", c.mid)
    upload_ok(px.wh, px.pid, c.app, f"{n}-app", "1.0", px.alice)
    c.modules = {n.replace("-", "_") + s: v for s, v in (("_app", "1.0"), ("_mid", "1.0"),
                                                        ("_base", "2.0"))}
    return c


def assert_installed(clients, target, c):
    for module, version in c.modules.items():
        assert clients.imported(target, module) == version, module


def assert_fetched_once_each(upstream, *dists):
    for d in dists:
        got = file_fetches(upstream, d.filename)
        assert len(got) == 1, f"{d.filename} fetched {len(got)} times: {upstream.paths()}"


# ---------------------------------------------------------------- real clients

@pytest.mark.parametrize("route", ["group", "project"])
def test_pip_installs_a_private_package_and_its_upstream_closure(px, any_up, tmp_path, route):
    c = closure(px, any_up, tmp_path)
    clients = Clients(tmp_path / "clients")
    t = clients.target()
    proc = clients.pip_install(px.index(route), f"{c.n}-app", target=t)
    assert proc.returncode == 0, describe(proc)
    assert_installed(clients, t, c)
    assert_fetched_once_each(any_up, c.mid, c.base)
    assert not file_fetches(any_up, c.base1.filename), any_up.paths()
    # a second install is served from the cache
    any_up.begin()
    t2 = clients.target()
    proc = clients.pip_install(px.index(route), f"{c.n}-app", target=t2)
    assert proc.returncode == 0, describe(proc)
    assert_installed(clients, t2, c)
    assert not file_fetches(any_up, c.mid.filename), any_up.paths()


def test_uv_pip_installs_the_closure(px, any_up, tmp_path):
    c = closure(px, any_up, tmp_path)
    clients = Clients(tmp_path / "clients")
    t = clients.target()
    proc = clients.uv_install(px.index(), f"{c.n}-app", target=t)
    assert proc.returncode == 0, describe(proc)
    assert_installed(clients, t, c)
    assert_fetched_once_each(any_up, c.mid, c.base)


def run(cmd, env, cwd, timeout=240) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=timeout, stdin=subprocess.DEVNULL)


def test_uv_lock_reads_metadata_and_downloads_no_wheel_upstream(px, any_up, tmp_path):
    c = closure(px, any_up, tmp_path)
    clients = Clients(tmp_path / "clients")
    proj = tmp_path / "consumer"
    proj.mkdir()
    (proj / "pyproject.toml").write_text(
        '[project]\nname = "consumer"\nversion = "0.1.0"\nrequires-python = ">=3.8"\n'
        f'dependencies = ["{c.n}-app"]\n\n'
        f'[[tool.uv.index]]\nname = "wheelhouse"\nurl = "{px.index(token=False)}"\ndefault = true\n')
    env = dict(clients.env)
    env.pop("UV_NO_CONFIG")  # it would also hide [tool.uv.index] in the project's pyproject
    env.update(UV_INDEX_WHEELHOUSE_USERNAME="__token__", UV_INDEX_WHEELHOUSE_PASSWORD=px.tok)
    proc = run([*clients.uv, "lock", "--python", sys.executable], env, proj)
    assert proc.returncode == 0, describe(proc)
    lock = {p["name"]: p for p in tomllib.loads((proj / "uv.lock").read_text())["package"]}
    assert lock[f"{c.n}-base"]["version"] == "2.0", lock
    assert [w["hash"] for w in lock[f"{c.n}-mid"]["wheels"]] == [f"sha256:{c.mid.sha256}"], lock
    seen = any_up.paths()
    for d in (c.mid, c.base):
        assert metadata_fetches(any_up, d.filename), f"{d.filename}.metadata not fetched: {seen}"
    wheels = [p for p in seen if p.endswith(".whl")]
    assert not wheels, f"wheels fetched upstream during `uv lock`: {wheels}"


def test_poetry_installs_a_project_through_the_group_index(px, up, tmp_path):
    c = closure(px, up, tmp_path)
    clients = Clients(tmp_path / "clients")
    poetry = Path(sys.executable).parent / "poetry"
    if not poetry.exists():
        pytest.fail(f"poetry is not in this environment ({poetry}): "
                    "pip install -r Tests/e2e/requirements.txt", pytrace=False)
    proj = tmp_path / "poetry-consumer"
    proj.mkdir()
    (proj / "pyproject.toml").write_text(
        '[project]\nname = "consumer"\nversion = "0.1.0"\nrequires-python = ">=3.8"\n'
        f'dependencies = ["{c.n}-app"]\n\n[tool.poetry]\npackage-mode = false\n\n'
        f'[[tool.poetry.source]]\nname = "wheelhouse"\nurl = "{px.index(token=False)}"\n'
        'priority = "primary"\n')
    home = clients.scratch / "home"
    env = dict(clients.env)
    env.update(POETRY_HTTP_BASIC_WHEELHOUSE_USERNAME="__token__",
               POETRY_HTTP_BASIC_WHEELHOUSE_PASSWORD=px.tok, POETRY_NO_INTERACTION="1",
               POETRY_VIRTUALENVS_IN_PROJECT="true", POETRY_CACHE_DIR=str(home / "poetry-cache"),
               POETRY_CONFIG_DIR=str(home / "poetry-config"), POETRY_DATA_DIR=str(home / "poetry-data"),
               POETRY_KEYRING_ENABLED="false")
    for cmd in (["env", "use", sys.executable], ["lock"], ["install", "--no-root"]):
        proc = run([poetry, *cmd], env, proj)
        assert proc.returncode == 0, describe(proc)
    py = proj / ".venv" / "bin" / "python"
    for module, version in c.modules.items():
        proc = run([py, "-c", f"import {module}; print({module}.VALUE)"], env, proj)
        assert proc.returncode == 0 and proc.stdout.strip() == version, describe(proc)
    assert_fetched_once_each(up, c.mid, c.base)


# ---------------------------------------------------------------- pages

def upstream_files(up, tmp_path):
    """One upstream project with every page field: requires-python, a yank with a reason,
    core metadata, upload-time, and one file without a sha256 (which must be left out)."""
    n = f"wh-{tag()}"
    d = tmp_path / n
    f = SimpleNamespace(n=n,
                        w1=wheel(n, "1.0", dest=d / "1"),
                        w2=wheel(n, "2.0", extra_meta="Requires-Python: >=3.8,<4\n", dest=d / "2"),
                        nohash=wheel(n, "3.0", dest=d / "3"))
    up.index.add_dist(n, f.w1, yanked="broken <badly>", upload_time="2024-01-02T03:04:05.000000Z")
    up.index.add_dist(n, f.w2, requires_python=">=3.8,<4", upload_time="2024-02-03T04:05:06.000000Z")
    up.index.add_dist(n, f.nohash, announce_sha256=False)
    return f


@pytest.mark.parametrize("html_only", [False, True], ids=["json-upstream", "html-upstream"])
@pytest.mark.parametrize("route", ["group", "project"])
def test_pages_are_served_as_our_own_in_json_and_html(px, tmp_path, route, html_only):
    index = StaticIndex(html_only=html_only).start()
    try:
        up = StaticUpstream(index)
        px.configure(**{URL: index.url})
        f = upstream_files(up, tmp_path)
        root = px.files_root(route)
        r = px.page(f.n, route)
        assert r.status_code == 200, describe_response(r)
        assert r.headers["Content-Type"].startswith(JSON_T), describe_response(r)
        assert r.headers.get("Wheelhouse-Upstream") == "miss", describe_response(r)
        page = r.json()
        files = {x["filename"]: x for x in page["files"]}
        assert sorted(files) == sorted([f.w1.filename, f.w2.filename]), page  # no sha256, no entry
        assert page["name"] == f.n and page["meta"]["api-version"].startswith("1."), page
        if not html_only:
            assert page.get("versions") and {"1.0", "2.0"} <= set(page["versions"]), page
        for w in (f.w1, f.w2):
            x = files[w.filename]
            assert x["url"].split("#")[0] == f"{root}/{w.sha256}/{w.filename}", x
            assert x["hashes"]["sha256"] == w.sha256, x
            meta = x.get("core-metadata") or x.get("dist-info-metadata")
            assert meta == {"sha256": sha256(w.metadata)}, x
            if not html_only:
                assert x["size"] == w.size, x
        assert files[f.w1.filename]["yanked"] == "broken <badly>", files
        assert files[f.w2.filename]["yanked"] is False, files
        assert files[f.w2.filename]["requires-python"] == ">=3.8,<4", files
        if not html_only:
            assert files[f.w1.filename]["upload-time"].startswith("2024-01-02T03:04:05"), files

        r = px.page(f.n, route, accept="text/html")
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html"), \
            describe_response(r)
        assert r.headers.get("Wheelhouse-Upstream") == "hit", describe_response(r)
        links = Tags(r.text).by_text()
        assert sorted(links) == sorted([f.w1.filename, f.w2.filename]), r.text
        for w in (f.w1, f.w2):
            a = links[w.filename]
            assert a["href"] == f"{root}/{w.sha256}/{w.filename}#sha256={w.sha256}", a
            assert a.get("data-core-metadata") == f"sha256={sha256(w.metadata)}", a
        assert links[f.w1.filename].get("data-yanked") == "broken <badly>", r.text
        assert links[f.w2.filename].get("data-requires-python") == ">=3.8,<4", r.text
        assert "&lt;4" in r.text and "<4" not in r.text, "unescaped requires-python"

        for w in (f.w1, f.w2):  # files and .metadata through our own routes, verified
            got = px.fetch(f"{root}/{w.sha256}/{w.filename}")
            assert got.status_code == 200 and got.content == w.data, describe_response(got)
            got = px.fetch(f"{root}/{w.sha256}/{w.filename}.metadata")
            assert got.status_code == 200 and got.content == w.metadata, describe_response(got)
        nohash = f.nohash
        r = px.fetch(f"{root}/{nohash.sha256}/{nohash.filename}")
        assert r.status_code == 404, describe_response(r)
        assert not [p for p in index.paths() if p.endswith(nohash.filename)], index.paths()
    finally:
        index.stop()


def test_the_page_is_asked_for_in_json_with_wheelhouses_user_agent(px, up, tmp_path):
    f = upstream_files(up, tmp_path)
    assert px.page(f.n).status_code == 200
    (req,) = up.index.requests_to(f"/simple/{f.n}/")
    assert OUTBOUND_ACCEPT in req.headers.get("accept", ""), req
    assert req.headers.get("user-agent", "").startswith("Wheelhouse/"), req


def test_a_private_upstream_gets_basic_credentials(px, up, tmp_path):
    px.configure(pypi_upstream_username="mirror-bot", pypi_upstream_password="pw:with:colons")
    f = upstream_files(up, tmp_path)
    assert px.page(f.n).status_code == 200
    (req,) = up.index.requests_to(f"/simple/{f.n}/")
    want = "Basic " + base64.b64encode(b"mirror-bot:pw:with:colons").decode()
    assert req.headers.get("authorization") == want, req


def upstream_etag(up, name) -> str:
    """The ETag the static upstream gives `name`'s JSON page now (asked directly)."""
    s = requests.Session()
    s.trust_env = False
    return s.get(f"{up.url}{name}/", headers={"Accept": JSON_T}, timeout=10).headers["ETag"]


def test_a_page_is_reused_for_the_ttl_then_revalidated_with_its_etag(px, up, tmp_path):
    px.configure(**{TTL: 1})
    f = upstream_files(up, tmp_path)
    etag = upstream_etag(up, f.n)
    up.index.clear_log()
    page_path = f"/simple/{f.n}/"
    r = px.page(f.n)
    assert r.headers.get("Wheelhouse-Upstream") == "miss", describe_response(r)
    (first,) = up.index.requests_to(page_path)
    r = px.page(f.n)
    assert r.headers.get("Wheelhouse-Upstream") == "hit", describe_response(r)
    assert len(up.index.requests_to(page_path)) == 1, up.paths()

    time.sleep(1.3)
    r = px.page(f.n)
    assert r.status_code == 200, describe_response(r)
    assert r.headers.get("Wheelhouse-Upstream") == "revalidated", describe_response(r)
    asked = up.index.requests_to(page_path)
    assert len(asked) == 2, up.paths()
    assert asked[1].headers.get("if-none-match") == etag, (asked[1], etag)
    assert px.page(f.n).headers.get("Wheelhouse-Upstream") == "hit"

    w4 = wheel(f.n, "4.0", dest=tmp_path / "4")
    up.index.add_dist(f.n, w4)
    time.sleep(1.3)
    r = px.page(f.n)
    assert r.status_code == 200 and w4.filename in r.text, describe_response(r)
    assert r.headers.get("Wheelhouse-Upstream") in ("miss", "revalidated"), describe_response(r)
    assert first.headers.get("if-none-match") is None, first


@pytest.mark.parametrize("failure", ["down", "error500", "garbage"])
def test_a_failing_upstream_is_answered_from_the_last_good_page(px, up, tmp_path, failure):
    px.configure(**{TTL: 1})
    c = closure(px, up, tmp_path)
    clients = Clients(tmp_path / "clients")
    proc = clients.pip_install(px.index(), f"{c.n}-app", target=clients.target())
    assert proc.returncode == 0, describe(proc)
    time.sleep(1.3)
    if failure == "down":
        up.index.stop()
    else:
        for name in (f"{c.n}-mid", f"{c.n}-base"):
            up.index.hostile(name, failure)
    r = px.page(f"{c.n}-mid")
    assert r.status_code == 200 and c.mid.filename in r.text, describe_response(r)
    assert r.headers.get("Wheelhouse-Upstream") == "stale", describe_response(r)
    assert "110" in r.headers.get("Warning", ""), describe_response(r)
    t = clients.target()
    proc = clients.pip_install(px.index(), f"{c.n}-app", target=t)
    assert proc.returncode == 0, describe(proc)
    assert_installed(clients, t, c)


def assert_502(r, status=502):
    assert r.status_code == status, describe_response(r)
    message = r.json().get("message")
    assert isinstance(message, str) and message.strip(), describe_response(r)


@pytest.mark.parametrize("failure", ["down", "error500", "garbage", "redirect_scheme",
                                     "redirect_chain"])
def test_nothing_cached_and_a_failing_upstream_is_502(px, up, tmp_path, failure):
    f = upstream_files(up, tmp_path)
    if failure == "down":
        up.index.stop()
    elif failure == "redirect_chain":
        up.index.hostile(f.n, failure, hops=6)  # one more than the proxy follows
    else:
        up.index.hostile(f.n, failure)
    assert_502(px.page(f.n))
    assert_502(px.page(f.n, accept="text/html"))


def test_five_upstream_redirects_are_followed(px, up, tmp_path):
    f = upstream_files(up, tmp_path)
    up.index.hostile(f.n, "redirect_chain", hops=5)
    r = px.page(f.n)
    assert r.status_code == 200 and f.w2.filename in r.text, describe_response(r)


@pytest.mark.timeout(90)
def test_a_hanging_upstream_is_504_after_15_seconds_and_blocks_nobody_else(px, up, tmp_path):
    """Slow: waits out the proxy's 15 s limit."""
    f = upstream_files(up, tmp_path)
    other = upstream_files(up, tmp_path)
    up.index.hostile(f.n, "hang", seconds=40)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        t0 = time.monotonic()
        hung = pool.submit(lambda: px.page(f.n, timeout=60))
        time.sleep(1)
        t1 = time.monotonic()
        r = px.page(other.n)
        assert r.status_code == 200 and time.monotonic() - t1 < 5, describe_response(r)
        r = hung.result()
    took = time.monotonic() - t0
    assert_502(r, 504)
    assert 13 <= took <= 21, f"504 after {took:.1f} s"


def test_an_upstream_404_is_a_404(px, up):
    name = f"wh-{tag()}-nowhere"
    for route in ("group", "project"):
        r = px.page(name, route)
        assert r.status_code == 404, describe_response(r)
    assert f"/simple/{name}/" in up.paths(), up.paths()


# ---------------------------------------------------------------- files

def cached_file_url(px, up, tmp_path, *, payload=0, route="group"):
    """An upstream wheel whose page went through the proxy: (dist, its URL on the proxy)."""
    n = f"wh-{tag()}"
    w = wheel(n, "1.0", payload=payload, dest=tmp_path / n)
    up.index.add_dist(n, w)
    r = px.page(n, route)
    assert r.status_code == 200, describe_response(r)
    (x,) = r.json()["files"]
    return w, x["url"].split("#")[0]


def read_whole(px, url) -> tuple[int, bytes, bool]:
    """(status, body, complete): complete is False when the connection was cut short."""
    try:
        with px.fetch(url, stream=True, timeout=60) as r:
            body = b"".join(r.iter_content(1 << 16))
            length = r.headers.get("Content-Length")
            return r.status_code, body, length is None or int(length) == len(body)
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError):
        return -1, b"", False


def test_concurrent_first_requests_fetch_the_file_once(px, up, tmp_path):
    w, url = cached_file_url(px, up, tmp_path, payload=1 << 20)
    up.index.hostile(w.filename.split("-")[0], "slow_file", seconds=1.5)

    def one(_):
        s = requests.Session()
        s.trust_env = False
        r = s.get(url, auth=px.alice, timeout=60)
        return r.status_code, r.content

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(8)))
    assert [s for s, _ in results] == [200] * 8, [s for s, _ in results]
    assert all(body == w.data for _, body in results), "a client got other bytes"
    assert len(up.index.requests_to("/files/", "GET")) == 1, up.paths()


def test_a_first_download_streams_as_the_upstream_sends(px, up, tmp_path):
    w, url = cached_file_url(px, up, tmp_path, payload=2 << 20)
    up.index.hostile(w.filename.split("-")[0], "slow_file", seconds=3)
    t0 = time.monotonic()
    with px.fetch(url, stream=True, timeout=60) as r:
        assert r.status_code == 200, describe_response(r)
        it = r.iter_content(1 << 16)
        first = next(it)
        first_at = time.monotonic() - t0
        body = first + b"".join(it)
    assert body == w.data
    assert first_at < 2.0, f"the first bytes came after {first_at:.1f} s: the proxy waited " \
                           "for the whole file"


@pytest.mark.parametrize("what", ["file", "metadata"])
def test_a_wrong_sha256_is_never_served_whole_nor_stored(px, up, tmp_path, what):
    w, url = cached_file_url(px, up, tmp_path, payload=256 << 10)
    if what == "metadata":
        url += ".metadata"
    good = w.data if what == "file" else w.metadata
    project = w.filename.split("-")[0]
    up.index.hostile(project, "wrong_sha256")
    for _ in range(2):  # nothing was stored: the second try is refused as well
        status, body, complete = read_whole(px, url)
        assert not (status == 200 and complete and len(body) == len(good)), \
            f"a complete-looking wrong body was served ({status}, {len(body)} bytes)"
        assert status in (502, 200, -1), status

    def fetches():
        return [p for p in up.paths() if p.endswith(w.filename + (".metadata" if what == "metadata" else ""))]
    tried = len(fetches())
    assert tried >= 1, up.paths()
    up.index.normal(project)
    status, body, complete = read_whole(px, url)
    assert (status, complete) == (200, True) and body == good, (status, len(body))
    assert len(fetches()) == tried + 1, f"not fetched again once the upstream was right: {up.paths()}"


def test_a_file_larger_than_the_upload_limit_is_refused(px, up, tmp_path):
    n = f"wh-{tag()}"
    w = wheel(n, "1.0", payload=MAX_UPLOAD + (1 << 20), dest=tmp_path / n)
    up.index.add_dist(n, w)
    r = px.page(n)
    assert r.status_code == 200, describe_response(r)
    if not r.json()["files"]:
        return  # refused at the page already (its size is announced): nothing to fetch
    url = f"{px.files_root()}/{w.sha256}/{w.filename}"
    for _ in range(2):
        status, body, complete = read_whole(px, url)
        assert status in (502, -1) or not complete, (status, len(body))
        assert body != w.data
    assert px.wh.healthy()


def test_hostile_file_names_are_left_out_one_by_one(px, up, tmp_path):
    f = upstream_files(up, tmp_path)
    up.index.hostile(f.n, "bad_names")
    for accept in (JSON_T, "text/html"):
        r = px.page(f.n, accept=accept)
        assert r.status_code == 200, describe_response(r)
        if accept == JSON_T:
            names = [x["filename"] for x in r.json()["files"]]
        else:
            names = [a["text"].strip() for a in Tags(r.text).anchors]
        assert sorted(names) == sorted([f.w1.filename, f.w2.filename]), names
        for bad in (b for b in BAD_NAMES if b != ".."):  # ".." alone could be any text
            assert bad not in r.text and urllib.parse.quote(bad) not in r.text, bad
        assert "X-Injected" not in r.headers, describe_response(r)


def test_a_huge_page_is_refused_without_the_memory_following(px, up, tmp_path):
    f = upstream_files(up, tmp_path)
    up.index.hostile(f.n, "huge", size=100 << 20)
    before = px.wh.memory_kib()["VmRSS"]
    try:
        px.wh.reset_peak_memory()
        peak_key = "VmHWM"
    except OSError:
        peak_key = "VmRSS"  # no clear_refs here: the RSS after the request is the best we have
    t0 = time.monotonic()
    r = px.page(f.n, timeout=90)
    took = time.monotonic() - t0
    assert r.status_code == 502, describe_response(r)
    grown = px.wh.memory_kib()[peak_key] - before
    assert grown < 48 * 1024, f"{peak_key} grew by {grown // 1024} MiB for a 100 MiB page"
    assert took < 30, f"took {took:.1f} s to refuse the page"
    assert px.wh.healthy() and px.page(upstream_files(up, tmp_path).n).status_code == 200


def test_a_cached_file_answers_head_range_and_etag_like_a_local_one(px, up, tmp_path):
    w, url = cached_file_url(px, up, tmp_path, payload=64 << 10)
    first = px.fetch(url)
    assert first.status_code == 200 and first.content == w.data, describe_response(first)
    up.index.clear_log()
    size, data, etag = w.size, w.data, f'"{w.sha256}"'

    full = px.fetch(url)
    assert full.status_code == 200 and full.content == data, describe_response(full)
    assert full.headers.get("ETag") == etag, describe_response(full)
    h = px.wh.http.head(url, auth=px.alice, timeout=30)
    assert h.status_code == 200 and h.content == b"", describe_response(h)
    assert int(h.headers["Content-Length"]) == size and h.headers.get("ETag") == etag, \
        describe_response(h)
    r = px.fetch(url, headers={"Range": "bytes=0-99"})
    assert r.status_code == 206 and r.content == data[:100], describe_response(r)
    assert r.headers.get("Content-Range") == f"bytes 0-99/{size}", describe_response(r)
    r = px.fetch(url, headers={"Range": "bytes=-100"})
    assert r.status_code == 206 and r.content == data[-100:], describe_response(r)
    r = px.fetch(url, headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b"", describe_response(r)
    meta = px.fetch(url + ".metadata")
    assert meta.status_code == 200 and meta.content == w.metadata, describe_response(meta)
    again = px.fetch(url + ".metadata")
    assert again.content == w.metadata
    assert len([p for p in up.paths() if p.endswith(".metadata")]) <= 1, up.paths()
    assert not [p for p in up.paths() if p.endswith(".whl")], up.paths()


# ---------------------------------------------------------------- several instances

@pytest.fixture
def pair(wheelhouse_bin, tmp_path, static_index):
    """Proxies A and B on one PostgreSQL database and one blob directory (the multi-instance
    set-up of test_multi_instance.py, on the session's PostgreSQL)."""
    url = whlib.SESSION_POSTGRES.new_database("upstream_pair")
    blobs = tmp_path / "blobs"
    a = proxy_server(wheelhouse_bin, tmp_path, "a", database_url=url, blob_dir=blobs).start()
    b = proxy_server(wheelhouse_bin, tmp_path, "b", database_url=url, blob_dir=blobs).start()
    pa = Proxy(a)
    pa.configure(**{URL: static_index.url, F: True, MODE: "cache"})
    pb = SimpleNamespace(wh=b, alice=pa.alice, base=lambda: b.group_url(pa.gid))
    yield pa, pb
    a.stop()
    b.stop()


def test_a_file_cached_by_one_instance_is_served_by_another_without_fetching(pair, up, tmp_path):
    pa, pb = pair
    w, url_a = cached_file_url(pa, up, tmp_path, payload=128 << 10)
    r = pa.fetch(url_a)
    assert r.status_code == 200 and r.content == w.data, describe_response(r)
    assert len(file_fetches(up, w.filename)) == 1, up.paths()

    page_b = f"{pb.base()}/simple/{w.filename.split('-')[0]}"
    deadline = time.monotonic() + 5  # B reads the settings A wrote within a second or so
    while True:
        r = pb.wh.get(page_b, auth=pb.alice, headers={"Accept": JSON_T})
        if r.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert r.status_code == 200, describe_response(r)
    (x,) = r.json()["files"]
    r = pb.wh.get(x["url"].split("#")[0], auth=pb.alice)
    assert r.status_code == 200 and r.content == w.data, describe_response(r)
    assert len(file_fetches(up, w.filename)) == 1, f"B fetched the file again: {up.paths()}"

