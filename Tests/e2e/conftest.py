"""Fixtures for the Wheelhouse end-to-end suite.

Session scope: the built fixture distributions, one server, one "world" of users,
groups, projects, tokens and uploaded packages that the permission matrix reads, and `ix`, the
groups and packages the index-standards tests (test_pep*.py, test_http_caching_and_ranges.py)
read. Distributions come from Tests/harness/distributions.py, servers from whlib.Wheelhouse.
Function scope: scratch client environments and extra servers for tests that restart or
reconfigure one.

Database mode: WHEELHOUSE_E2E_DATABASE=postgres puts every server the suite starts (and the
admin CLI run against it) on its own fresh PostgreSQL database, on the server named by
WHEELHOUSE_TEST_POSTGRES_URL or on a cluster the session starts itself
(Tests/postgres_cluster.py). Tests marked `sqlite_only` are skipped in that mode.

Blob store mode: WHEELHOUSE_E2E_BLOB_STORE=s3 puts every server the suite starts without a blob
dir of its own on one session-wide S3 server (Tests/harness/s3_server.py: moto, signatures
checked), each under a prefix of its own (one per data dir). Tests marked `file_store_only` are
skipped in that mode. The `s3` fixture is that session's S3 server whatever the mode (started on
first use): test_object_storage.py runs on it in every pass."""
from __future__ import annotations

import datetime
import hashlib
import itertools
import os
import signal
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

import whlib
import s3_server
from distributions import Dist, sdist, start_build, wheel, write_project
from server import ObjectStore, Server
from simple_api import utcnow, wheel_metadata
from whlib import Clients, Wheelhouse, upload_ok


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "sqlite_only(reason): meaningful only when the server under test uses "
                   "SQLite in its data dir; skipped when WHEELHOUSE_E2E_DATABASE=postgres")
    config.addinivalue_line(
        "markers", "file_store_only(reason): meaningful only when the server under test keeps "
                   "its blobs in a directory; skipped when WHEELHOUSE_E2E_BLOB_STORE=s3")
    whlib.database_mode()  # an unknown WHEELHOUSE_E2E_DATABASE fails the run here
    if blob_store_mode() == "s3":  # (an unknown WHEELHOUSE_E2E_BLOB_STORE fails it here)
        Server.default_blob_store = SESSION_S3.store_for


def pytest_report_header(config):
    mode = whlib.database_mode()
    if mode == "postgres":
        where = os.environ.get("WHEELHOUSE_TEST_POSTGRES_URL") or "a cluster started by the session"
        lines = [f"wheelhouse database: postgres ({where})"]
    else:
        lines = ["wheelhouse database: sqlite"]
    if blob_store_mode() == "s3":
        lines.append("wheelhouse blobs: s3 (one moto server for the session, a prefix per server)")
    else:
        lines.append("wheelhouse blobs: file (each server's directory)")
    return lines


def _marker_reason(marker) -> str:
    return marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")


def pytest_collection_modifyitems(config, items):
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker and whlib.postgres_mode():
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {_marker_reason(marker)}"))
        marker = item.get_closest_marker("file_store_only")
        if marker and blob_store_mode() == "s3":
            item.add_marker(pytest.mark.skip(reason=f"file store only: {_marker_reason(marker)}"))


def pytest_sessionfinish(session, exitstatus):
    whlib.SESSION_POSTGRES.shutdown()
    SESSION_S3.shutdown()


# ---------------------------------------------------------------- blob store mode

def blob_store_mode() -> str:
    """WHEELHOUSE_E2E_BLOB_STORE: "file" (the default) or "s3"; anything else is an error."""
    mode = (os.environ.get("WHEELHOUSE_E2E_BLOB_STORE") or "file").strip().lower()
    if mode not in ("file", "s3"):
        raise RuntimeError(f"WHEELHOUSE_E2E_BLOB_STORE={mode!r}: expected 'file' or 's3'")
    return mode


class _SessionS3:
    """The S3 server (moto, signatures checked) of the session, started on first use: the
    bucket every server lives in under WHEELHOUSE_E2E_BLOB_STORE=s3, and the `s3` fixture."""

    def __init__(self):
        self.s3: s3_server.S3Server | None = None

    def server(self) -> s3_server.S3Server:
        if self.s3 is None:
            try:
                self.s3 = s3_server.S3Server().start()
            except s3_server.S3NotFound as e:
                pytest.fail(f"the S3 tests need moto and boto3: {e}", pytrace=False)
        return self.s3

    @staticmethod
    def prefix_for(data_dir: Path) -> str:
        """One prefix per data dir (two Server objects on one data dir are one registry, so they
        share it), readable in a listing: e2e/<the test's directory>-<hash of the path>."""
        path = str(Path(data_dir).resolve())
        return f"e2e/{Path(data_dir).parent.name[:40]}-{hashlib.sha1(path.encode()).hexdigest()[:10]}"

    def store_for(self, server: Server) -> ObjectStore:
        return self.server().store(self.prefix_for(server.data_dir))

    def shutdown(self):
        if self.s3 is not None:
            self.s3.stop()
            self.s3 = None


SESSION_S3 = _SessionS3()


@pytest.fixture(scope="session")
def s3() -> s3_server.S3Server:
    """The session's S3 server (moto with signature checks, bucket `wheelhouse-test`); tests that
    take it down or pause it start one of their own instead."""
    return SESSION_S3.server()


_SESSION_T0 = time.time()


def pytest_terminal_summary(terminalreporter):
    """The multi-instance figures (test_multi_instance.py), shown whether or not -s is given."""
    figures = Path(__file__).resolve().parent / ".work" / "multi_instance_figures.json"
    try:
        fresh = figures.stat().st_mtime >= _SESSION_T0
        text = figures.read_text() if fresh else ""
    except OSError:
        return
    if text.strip() not in ("", "{}"):
        terminalreporter.section("multi-instance figures")
        terminalreporter.write_line(f"({figures})")
        terminalreporter.write(text)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for wh in whlib.running_servers():
            report.sections.append((f"wheelhouse log (port {wh.port}, last lines)", wh.log_tail()))


@pytest.fixture(scope="session")
def wheelhouse_bin() -> Path:
    path = Path(os.environ.get("WHEELHOUSE_BIN") or whlib.DEFAULT_BIN)
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(f"wheelhouse binary not found at {path} (build it, or set WHEELHOUSE_BIN)",
                    pytrace=False)
    proc = subprocess.run([str(path), "--help"], capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        pytest.fail(f"`{path} --help` failed:\n{whlib.describe(proc)}", pytrace=False)
    return path


# ---------------------------------------------------------------- distributions

PROJECTS = {
    # key: (name, version, module, VALUE, deps)
    "demo100": ("wh-demo", "1.0.0", "wh_demo", "1.0.0", ()),
    "demo100b": ("wh-demo", "1.0.0", "wh_demo", "1.0.0-rebuilt", ()),
    "demo110": ("wh-demo", "1.1.0", "wh_demo", "1.1.0", ()),
    "app100": ("wh-app", "1.0.0", "wh_app", "app-1.0.0", ("wh-demo>=1.0",)),
    "foobar": ("Foo.Bar_baz", "0.1.0", "foo_bar_baz", "0.1.0", ()),
    "sub100": ("wh-sub", "1.0.0", "wh_sub", "sub-1.0.0", ()),
}


@pytest.fixture(scope="session")
def dists(tmp_path_factory):
    """Every fixture package built for real with `python -m build --no-isolation`
    (offline: setuptools and wheel come from this environment)."""
    root = tmp_path_factory.mktemp("dists")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1")
    procs = {}
    for key, (name, version, module, value, deps) in PROJECTS.items():
        src = write_project(root / "src" / key, name, version, module, value, deps)
        procs[key] = (start_build(src, root / key, env), root / key)
    built = {}
    for key, (proc, out) in procs.items():
        log, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"build of {key} failed:\n{log[-3000:]}"
        sdists, wheels = sorted(out.glob("*.tar.gz")), sorted(out.glob("*.whl"))
        assert len(sdists) == 1 and len(wheels) == 1, f"{key}: {list(out.iterdir())}"
        name, version, module, value, _ = PROJECTS[key]
        built[key] = SimpleNamespace(name=name, version=version, module=module, value=value,
                                     sdist=Dist.at(sdists[0]), wheel=Dist.at(wheels[0]))
    # Same file names, different bytes: the duplicate tests rely on it.
    assert built["demo100"].sdist.filename == built["demo100b"].sdist.filename
    assert built["demo100"].sdist.sha256 != built["demo100b"].sdist.sha256
    return SimpleNamespace(**built)


# ---------------------------------------------------------------- servers

@pytest.fixture(scope="session")
def server(wheelhouse_bin, tmp_path_factory):
    d = tmp_path_factory.mktemp("server")
    wh = Wheelhouse(wheelhouse_bin, d / "data", d / "server.log").start()
    yield wh
    code = wh.stop()
    assert code == 0, f"session server exited with {code} on SIGTERM\n{wh.log_tail()}"


@pytest.fixture
def make_server(wheelhouse_bin, tmp_path):
    """Factory for a private server (own data dir); every one is stopped at teardown."""
    made = []

    def make(*extra_args, name="own", via_env=False) -> Wheelhouse:
        d = tmp_path / f"server-{name}"
        wh = Wheelhouse(wheelhouse_bin, d / "data", d / "server.log", extra_args, via_env=via_env)
        made.append(wh)
        return wh.start()

    yield make
    for wh in made:
        wh.stop(signal.SIGTERM)


@pytest.fixture
def clients(tmp_path):
    return Clients(tmp_path / "clients")


# ---------------------------------------------------------------- the shared world

@pytest.fixture(scope="session")
def world(server, dists, tmp_path_factory):
    """Users, groups, projects, memberships, tokens and packages used across the suite.

    acme (private)            owner alice
      acme/lib   (private)    gus guest, rita reporter, dave developer;
                              wh-demo 1.0.0 (sdist + wheel)
      acme/other (private)    wh-other 1.0.0 (wheel)
      acme/sub   (private)
        acme/sub/lib (private) sam reporter; wh-sub 1.0.0 (sdist + wheel)
        acme/sub/drop (private) where tests upload to a subgroup project
    pub (public)              owner alice
      pub/open   (public)     wh-demo 1.0.0 (sdist + wheel)
      pub/secret (private)    wh-secret 1.0.0 (wheel)
    flow (private)            owner alice; fresh projects for client-flow tests
    corp (internal)           owner alice
      corp/tools (internal)   wh-corp 1.0.0 (wheel)
    otto: a valid user with no memberships at all; root: an administrator, no memberships.
    """
    wh = server
    w = SimpleNamespace(users={}, tok={}, groups={}, projects={}, dt={}, files={})
    for name in ("alice", "rita", "dave", "otto", "sam", "gus"):
        w.users[name] = wh.user(name)
    w.users["root"] = wh.user("root", admin=True)
    for name in ("alice", "rita", "dave", "otto", "gus", "root"):
        w.tok[name] = wh.token(name, "api")["token"]
    w.tok["sam"] = wh.token("sam", "read_api")["token"]
    w.tok["dave_ro"] = wh.token("dave", "read_api")["token"]
    w.tok["dave_expired"] = wh.token("dave", "api", expires_at="2001-01-01")["token"]
    tomorrow = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).date()
    w.tok["dave_tomorrow"] = wh.token("dave", "api", expires_at=tomorrow.isoformat())["token"]

    for path, vis in (("acme", "private"), ("acme/sub", "private"), ("pub", "public"),
                      ("flow", "private"), ("corp", "internal")):
        w.groups[path] = wh.group(path, vis)
    for path, vis in (("acme/lib", "private"), ("acme/other", "private"),
                      ("acme/sub/lib", "private"), ("acme/sub/drop", "private"),
                      ("pub/open", "public"),
                      ("pub/secret", "private"), ("corp/tools", "internal")):
        w.projects[path] = wh.project(path, vis)
    for g in ("acme", "pub", "flow", "corp"):
        wh.member("alice", "owner", group=g)
    wh.member("gus", "guest", project="acme/lib")
    wh.member("rita", "reporter", project="acme/lib")
    wh.member("dave", "developer", project="acme/lib")
    wh.member("sam", "reporter", project="acme/sub/lib")

    rd, wr = "read_package_registry", "write_package_registry"
    w.dt["lib_read"] = wh.deploy_token(rd, project="acme/lib")["token"]
    w.dt["lib_write"] = wh.deploy_token(rd, wr, project="acme/lib")["token"]
    w.dt["lib_expired"] = wh.deploy_token(rd, wr, project="acme/lib",
                                          expires_at="2001-01-01")["token"]
    w.dt["other_read"] = wh.deploy_token(rd, project="acme/other")["token"]
    w.dt["acme_write"] = wh.deploy_token(rd, wr, group="acme")["token"]

    alice = ("__token__", w.tok["alice"])
    synth = tmp_path_factory.mktemp("world-dists")
    pid = lambda p: w.projects[p]["id"]  # noqa: E731
    demo = dists.demo100
    for project in ("acme/lib", "pub/open"):
        for d in (demo.sdist, demo.wheel):
            upload_ok(wh, pid(project), d, "wh-demo", "1.0.0", alice)
    for d in (dists.sub100.sdist, dists.sub100.wheel):
        upload_ok(wh, pid("acme/sub/lib"), d, "wh-sub", "1.0.0", alice)
    other = wheel("wh-other", "1.0.0", dest=synth)
    upload_ok(wh, pid("acme/other"), other, "wh-other", "1.0.0", alice)
    secret = wheel("wh-secret", "1.0.0", dest=synth)
    upload_ok(wh, pid("pub/secret"), secret, "wh-secret", "1.0.0", alice)
    corp = wheel("wh-corp", "1.0.0", dest=synth)
    upload_ok(wh, pid("corp/tools"), corp, "wh-corp", "1.0.0", alice)
    w.files.update(corp=corp, demo=demo.wheel, sub=dists.sub100.wheel, other=other, secret=secret)
    w.pid, w.alice = pid, alice
    w.gid = lambda g: w.groups[g]["id"]  # noqa: E731
    return w


_counter = itertools.count(1)


@pytest.fixture
def fresh_project(server, world, request):
    """A new private project under group `flow` (alice owns it through the group)."""
    def make(visibility="private"):
        slug = f"{request.node.name.split('[')[0][:40].replace('_', '-')}-{next(_counter)}"
        p = server.project(f"flow/{slug}", visibility)
        p["url"] = server.project_url(p["id"])
        return p
    return make


# ---------------------------------------------------------------- the index-standards world

@pytest.fixture(scope="session")
def ix(server, world, tmp_path_factory):
    """Group `ixstd` (private) with project ixstd/neg holding Wh_Neg:
    1.0 wheel (requires_python form field ">=3.8"), 1.0 sdist (PKG-INFO 2.2, no
    Requires-Python), 1.1 wheel (no form field; METADATA says Requires-Python >=3.7).
    Group `ixpub` (public) with public project ixpub/neg holding the 1.0 wheel.
    Read by the index-standards tests (test_pep*.py, test_http_caching_and_ranges.py)."""
    d = tmp_path_factory.mktemp("ix-dists")
    wh = server
    ns = type("IX", (), {})()
    ns.gid = wh.group("ixstd", "private")["id"]
    wh.member("alice", "owner", group="ixstd")
    wh.group("ixpub", "public")
    wh.member("alice", "owner", group="ixpub")
    ns.project = wh.project("ixstd/neg", "private")
    ns.public = wh.project("ixpub/neg", "public")
    w10 = wheel("Wh_Neg", "1.0", dest=d / "a")
    s10 = sdist("Wh_Neg", "1.0", dest=d / "a")
    w11 = wheel("Wh_Neg", "1.1", extra_meta="Requires-Python: >=3.7\n", dest=d / "b")
    ns.before = utcnow()
    upload_ok(wh, ns.project["id"], w10, "Wh_Neg", "1.0", world.alice,
              fields={"requires_python": ">=3.8"})
    upload_ok(wh, ns.project["id"], s10, "Wh_Neg", "1.0", world.alice)
    upload_ok(wh, ns.project["id"], w11, "Wh_Neg", "1.1", world.alice)
    ns.after = utcnow()
    upload_ok(wh, ns.public["id"], w10, "Wh_Neg", "1.0", world.alice,
              fields={"requires_python": ">=3.8"})
    ns.files = {
        w10.filename: dict(dist=w10, meta=wheel_metadata(w10), rp=">=3.8"),
        s10.filename: dict(dist=s10, meta=s10.metadata, rp=None),
        w11.filename: dict(dist=w11, meta=wheel_metadata(w11), rp=">=3.7"),
    }
    ns.urls = {"project": wh.project_url(ns.project["id"]), "group": wh.group_url(ns.gid)}
    return ns


# ---------------------------------------------------------------- the web interface (issue 14)

RICH_README = """# Wh Rich Docs

A **rich** fixture for the *package page*.

## Usage

```python
import wh_rich_docs
```

- item one
- item two

Read the [documentation](https://docs.example.org/rich).
"""
RICH_DEPS = ('requests>=2.0', 'rich[jupyter]>=13; extra == "pretty"',
             'tomli>=1.1; python_version < "3.11"')
RICH_URLS = (("Source", "https://example.org/rich/src"),
             ("Issue tracker", "https://example.org/rich/issues"))
RICH_CLASSIFIERS = ("Development Status :: 4 - Beta", "License :: OSI Approved :: MIT License",
                    "Programming Language :: Python :: 3")


def rich_metadata(version: str, readme: str = RICH_README) -> str:
    """The extra METADATA lines (and the README as its body) of Wh_Rich.Docs `version`."""
    lines = [f"Summary: Rich fixture {version} with a readme for the web pages",
             "License: MIT", "Requires-Python: >=3.9", "Provides-Extra: pretty",
             "Description-Content-Type: text/markdown; charset=UTF-8; variant=GFM"]
    lines += [f"Requires-Dist: {d}" for d in RICH_DEPS]
    lines += [f"Project-URL: {label}, {url}" for label, url in RICH_URLS]
    lines += [f"Classifier: {c}" for c in RICH_CLASSIFIERS]
    return "\n".join(lines) + "\n\n" + readme


@pytest.fixture(scope="module")
def web(wheelhouse_bin, tmp_path_factory, request):
    """A server of the module's own (web tests sign in, fail sign-ins and edit sessions in its
    database, so they share it with no other module), with users who have passwords:

    acme (private group)          owner alice
      acme/lib (private)          mia maintainer, dave developer, rita reporter
                                  Wh_Rich.Docs 1.2.0 (wheel + sdist) and 1.10.0 (wheel + sdist;
                                  Markdown README, deps with extras and markers, project URLs,
                                  classifiers, license, requires-python), uploaded with twine;
                                  wh-yanked 1.0 and 2.0 (2.0 yanked: "broken build")
      acme/sub (private group)
        acme/sub/deep (private)   wh-deep 1.0
    pub (public group)            owner alice
      pub/open (public)           wh-public 1.0
      pub/secret (private)        wh-hidden 1.0 ("Classified zebra payload")
    alice/mine (alice's own, private)  wh-mine 1.0
    otto: no memberships; nopw: a user without a password; root: an administrator.
    Every password is w.password[name]; w.tok[name] an api token."""
    import concurrent.futures

    from browser import give_password

    d = tmp_path_factory.mktemp(f"web-{request.module.__name__.rsplit('.', 1)[-1][:30]}")
    wh = Wheelhouse(wheelhouse_bin, d / "data", d / "server.log").start()
    w = SimpleNamespace(server=wh, files={})
    # Made in stages, each stage's admin commands at once (every one is a process of its own).
    pool = concurrent.futures.ThreadPoolExecutor(8)

    def each(fn, items):
        return dict(zip(items, pool.map(fn, items)))

    people = ("alice", "mia", "dave", "rita", "otto", "nopw", "root")
    w.users = each(lambda n: wh.user(n, admin=n == "root"), people)
    top = each(lambda g: wh.group(g, {"acme": "private", "pub": "public"}[g]), ("acme", "pub"))
    w.groups = {**top, "acme/sub": wh.group("acme/sub", "private")}
    signers = [n for n in people if n != "nopw"]
    w.password = {n: f"{n}-correct horse {n[::-1]}" for n in signers}
    visibility = {"acme/lib": "private", "acme/sub/deep": "private", "pub/open": "public",
                  "pub/secret": "private", "alice/mine": "private"}
    jobs = [pool.submit(give_password, wh, n, w.password[n]) for n in signers]
    jobs += [pool.submit(wh.member, "alice", "owner", group=g) for g in ("acme", "pub")]
    tokens = {n: pool.submit(wh.token, n, "api") for n in signers}
    projects = {p: pool.submit(wh.project, p, v) for p, v in visibility.items()}
    for job in jobs:
        job.result()
    w.tok = {n: f.result()["token"] for n, f in tokens.items()}
    w.projects = {p: f.result() for p, f in projects.items()}
    roles = (("mia", "maintainer"), ("dave", "developer"), ("rita", "reporter"))
    list(pool.map(lambda ur: wh.member(ur[0], ur[1], project="acme/lib"), roles))
    w.pid = lambda p: w.projects[p]["id"]  # noqa: E731
    w.gid = lambda g: w.groups[g]["id"]  # noqa: E731
    w.alice = ("__token__", w.tok["alice"])

    out = d / "dists"
    rich = {}
    for version in ("1.2.0", "1.10.0"):
        meta = rich_metadata(version)
        rich[version] = [wheel("Wh_Rich.Docs", version, extra_meta=meta, dest=out / version),
                         sdist("Wh_Rich.Docs", version, extra_meta=meta, dest=out / version)]
    c = Clients(d / "clients")
    url = wh.project_url(w.pid("acme/lib"))
    proc = c.twine_upload(url, w.tok["alice"], *(x.path for v in ("1.2.0", "1.10.0") for x in rich[v]))
    assert proc.returncode == 0, whlib.describe(proc)
    w.files["rich"] = rich
    w.rich = SimpleNamespace(deps=RICH_DEPS, urls=RICH_URLS, classifiers=RICH_CLASSIFIERS,
                             readme=RICH_README)
    simple = {"acme/lib": [("wh-yanked", "1.0", "Yanked fixture, good release"),
                           ("wh-yanked", "2.0", "Yanked fixture, bad release")],
              "acme/sub/deep": [("wh-deep", "1.0", "Deep fixture")],
              "pub/open": [("wh-public", "1.0", "Public fixture for the web pages")],
              "pub/secret": [("wh-hidden", "1.0", "Classified zebra payload")],
              "alice/mine": [("wh-mine", "1.0", "Alice's own fixture")]}

    def publish(release):
        project, name, version, summary = release
        dist = wheel(name, version, extra_meta=f"Summary: {summary}\n", dest=out / project)
        upload_ok(wh, w.pid(project), dist, name, version, w.alice, fields={"summary": summary})
        w.files[(name, version)] = dist

    list(pool.map(publish, [(p, *r) for p, releases in simple.items() for r in releases]))
    pool.shutdown()
    r = wh.http.put(f"{url}/yank", json={"name": "wh-yanked", "version": "2.0",
                                         "reason": "broken build"}, auth=w.alice, timeout=30)
    assert r.status_code == 200, whlib.describe_response(r)
    yield w
    code = wh.stop()
    assert code == 0, f"web server exited with {code} on SIGTERM\n{wh.log_tail()}"


@pytest.fixture(scope="module")
def web_as(web):
    """web_as(name): a browser-less visitor (browser.WebClient) signed in as `name` once for the
    module (signing in costs an scrypt hash), shared by the module's tests: a test that signs
    out or signs in again makes its own with browser.visitor(web, name)."""
    from browser import visitor

    signed = {}

    def get(name: str):
        if name not in signed:
            signed[name] = visitor(web, name)
        return signed[name]

    return get


# ---------------------------------------------------------------- operations (issue 15)

def _mount(*args) -> subprocess.CompletedProcess:
    return subprocess.run(["mount", *map(str, args)], capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)


def _umount(path: Path) -> None:
    proc = subprocess.run(["umount", str(path)], capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:  # something still holds a file there: detach it lazily
        subprocess.run(["umount", "-l", str(path)], capture_output=True, text=True, timeout=30)


@pytest.fixture
def small_fs(tmp_path):
    """small_fs(name, size="8m") -> Path: a tmpfs of that size mounted at tmp_path/name (so a
    test can fill it, or remount it read-only with small_fs.remount(path, "ro")), unmounted at
    teardown. Mounting needs root (CAP_SYS_ADMIN): where it is refused the test is skipped,
    unless WHEELHOUSE_REQUIRE_MOUNT is set (scripts/test sets it as root), when it fails."""
    mounted = []

    def make(name: str, size: str = "8m") -> Path:
        path = tmp_path / name
        path.mkdir(parents=True, exist_ok=True)
        proc = _mount("-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", path)
        if proc.returncode != 0:
            why = f"cannot mount a tmpfs at {path}: {(proc.stderr or proc.stdout).strip()}"
            if os.environ.get("WHEELHOUSE_REQUIRE_MOUNT"):
                pytest.fail(f"{why} (WHEELHOUSE_REQUIRE_MOUNT is set)", pytrace=False)
            pytest.skip(f"{why}; run as root, or set WHEELHOUSE_REQUIRE_MOUNT to make this a failure")
        mounted.append(path)
        return path

    def remount(path: Path, mode: str) -> None:
        """Remount `path` (one of ours) read-only ("ro") or read-write ("rw")."""
        proc = _mount("-o", f"remount,{mode}", path)
        assert proc.returncode == 0, f"mount -o remount,{mode} {path}: {proc.stderr or proc.stdout}"

    make.remount = remount
    yield make
    for path in reversed(mounted):
        _mount("-o", "remount,rw", path)
        _umount(path)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Tests/e2e/.artifacts (ignored by git): figures a test writes for the closing notes."""
    d = Path(__file__).resolve().parent / ".artifacts"
    d.mkdir(exist_ok=True)
    return d


@pytest.fixture
def ops_server(wheelhouse_bin, tmp_path):
    """ops_server(*serve_args, name=, data_dir=, blob_dir=, database_url=, start=True): a private
    server like make_server's, with the storage chosen by the test (a blob dir on a small
    filesystem, a restored data dir, a database of its own); every one is stopped at teardown."""
    made = []

    def make(*serve_args, name="ops", data_dir=None, blob_dir=None, database_url=whlib.AUTO,
             start=True) -> Wheelhouse:
        d = tmp_path / f"server-{name}"
        d.mkdir(parents=True, exist_ok=True)
        wh = Wheelhouse(wheelhouse_bin, Path(data_dir) if data_dir else d / "data",
                        d / "server.log", serve_args, database_url=database_url, blob_dir=blob_dir)
        made.append(wh)
        return wh.start() if start else wh

    yield make
    for wh in made:
        wh.stop(signal.SIGTERM)


def poll_until(check, timeout: float, interval: float = 0.05):
    """Calls check() until it returns something truthy or `timeout` seconds pass; returns
    (the last value, the seconds it took). Tests poll with a deadline, never sleep and assert."""
    t0 = time.monotonic()
    while True:
        value = check()
        elapsed = time.monotonic() - t0
        if value or elapsed >= timeout:
            return value, elapsed
        time.sleep(interval)


@pytest.fixture(scope="session")
def poll():
    """poll(check, timeout, interval=0.05) -> (value, seconds): see poll_until."""
    return poll_until
