"""Issue 12's forwarding rules, in both modes: what is forwarded (only `simple/:name`, only after
the usual authorisation, never a name a project has or had) and what redirect mode answers.
The upstream is Tests/harness/static_index.py; its request log proves what was fetched.

acme (private), alice owner
  acme/app    (private)  wh-local 1.0; mia maintainer, dave developer, rita reporter
  acme/hidden (private)  wh-hidden 1.0
  acme/sub/lib (private) wh-sub 1.0; sam reporter (sees the group, not acme/app or acme/hidden)
pub (public), alice owner
  pub/open   (public)    wh-pubpkg 1.0
  pub/secret (private)   wh-psecret 1.0
The upstream has every one of those names at 9.9 (the confusion attempts), and wh-free 1.0."""
from __future__ import annotations

import datetime
import json
import re
import time
import uuid
from types import SimpleNamespace

import pytest

from distributions import wheel
from static_index import JSON_T, StaticIndex
from whlib import Clients, Wheelhouse, describe, describe_response, enc, index_url, parse_links, upload_ok

F, URL, MODE = ("pypi_package_requests_forwarding", "pypi_upstream_url",
                "pypi_package_requests_forwarding_mode")
LOCAL = {"acme/app": "wh-local", "acme/hidden": "wh-hidden", "acme/sub/lib": "wh-sub",
         "pub/open": "wh-pubpkg", "pub/secret": "wh-psecret"}


@pytest.fixture(scope="module")
def up(tmp_path_factory):
    d = tmp_path_factory.mktemp("fwd-upstream")
    index = StaticIndex().start()
    for name in [*LOCAL.values(), "wh-gone-pkg", "wh-lastfile", "wh-unseen"]:
        index.add_dist(name, wheel(name, "9.9", dest=d))
    index.add_dist("wh-free", wheel("wh-free", "1.0", dest=d))
    yield index
    index.stop()


@pytest.fixture(scope="module")
def fw(wheelhouse_bin, tmp_path_factory, up):
    d = tmp_path_factory.mktemp("fwd")
    wh = Wheelhouse(wheelhouse_bin, d / "data", d / "server.log").start()
    w = SimpleNamespace(wh=wh, tok={}, pid={}, gid={})
    wh.user("root", admin=True)
    for name in ("alice", "mia", "dave", "rita", "sam", "otto"):
        wh.user(name)
    for name in ("root", "alice", "mia", "dave", "rita", "sam", "otto"):
        w.tok[name] = wh.token(name, "api")["token"]
    for path, vis in (("acme", "private"), ("acme/sub", "private"), ("pub", "public")):
        w.gid[path] = wh.group(path, vis)["id"]
    for path in LOCAL:
        w.pid[path] = wh.project(path, "public" if path == "pub/open" else "private")["id"]
    wh.member("alice", "owner", group="acme")
    wh.member("alice", "owner", group="pub")
    wh.member("mia", "maintainer", project="acme/app")
    wh.member("dave", "developer", project="acme/app")
    wh.member("rita", "reporter", project="acme/app")
    wh.member("sam", "reporter", project="acme/sub/lib")
    w.auth = lambda who: ("__token__", w.tok[who])  # noqa: E731
    dists = tmp_path_factory.mktemp("fwd-dists")
    for path, name in LOCAL.items():
        upload_ok(wh, w.pid[path], wheel(name, "1.0", dest=dists), name, "1.0", w.auth("alice"))
    yield w
    wh.stop()


def rest(fw, method, path, who="root", **kw):
    headers = {"PRIVATE-TOKEN": fw.tok[who]} if who else {}
    return fw.wh.http.request(method, f"{fw.wh.api}/{path}", headers=headers, timeout=30,
                              allow_redirects=False, **kw)


def configure(fw, **fields):
    r = rest(fw, "PUT", "application/settings", json=fields)
    assert r.status_code == 200, describe_response(r)


@pytest.fixture(params=["redirect", "cache"])
def mode(request, fw, up):
    """Forwarding on for the instance, in each mode; the upstream well-behaved, its log empty."""
    configure(fw, **{URL: up.url, F: True, MODE: request.param})
    up.normal()
    up.clear_log()
    return request.param


@pytest.fixture
def redirect(fw, up):
    configure(fw, **{URL: up.url, F: True, MODE: "redirect"})
    up.clear_log()


@pytest.fixture
def cache(fw, up):
    configure(fw, **{URL: up.url, F: True, MODE: "cache"})
    up.normal()
    up.clear_log()


def scope_url(fw, scope: str) -> str:
    """The PyPI API root of a project or group path, e.g. "project:acme/app", "group:acme"."""
    kind, path = scope.split(":")
    return fw.wh.project_url(fw.pid[path]) if kind == "project" else fw.wh.group_url(fw.gid[path])


def get(fw, url, who=None, accept=None):
    headers = {"Accept": accept} if accept else {}
    return fw.wh.get(url, auth=fw.auth(who) if who else None, headers=headers)


def fetched(up, name) -> list[str]:
    """What the upstream was asked about `name`: its page or its files."""
    return [p for p in up.paths() if f"/{name}/" in p or f"/{name.replace('-', '_')}-" in p]


def has_upstream_version(text: str) -> bool:
    """Whether a page lists the upstream's 9.9: its file names (`name-9.9-py3-...`) or the JSON
    versions list. Not a bare "9.9", which an upload time such as 13:47:09.984 also holds."""
    return "-9.9-" in text or '"9.9"' in text


def assert_not_forwarded(r, up, name, statuses=(404,)):
    assert r.status_code in statuses, describe_response(r)
    assert not has_upstream_version(r.text), describe_response(r)
    assert not fetched(up, name), f"{name} was fetched upstream: {up.paths()}"


# ---------------------------------------------------------------- redirect mode

@pytest.mark.parametrize("scope", ["project:acme/app", "group:acme", "group:pub"])
@pytest.mark.parametrize("upstream_slash", [True, False])
def test_redirect_mode_answers_302_to_the_normalised_name_and_fetches_nothing(
        fw, up, redirect, scope, upstream_slash):
    configure(fw, **{URL: up.url if upstream_slash else up.url.rstrip("/")})
    r = get(fw, f"{scope_url(fw, scope)}/simple/WH_Free", "alice")
    assert r.status_code == 302, describe_response(r)
    assert r.headers["Location"] == f"{up.url}wh-free/", describe_response(r)
    assert up.paths() == [], up.paths()


def test_pip_follows_the_redirect_to_the_upstream(fw, up, redirect, tmp_path):
    clients = Clients(tmp_path / "clients")
    t = clients.target()
    idx = index_url(fw.wh.group_url(fw.gid["acme"]), fw.tok["alice"])
    proc = clients.pip_install(idx, "wh-free", target=t)
    assert proc.returncode == 0, describe(proc)
    assert clients.imported(t, "wh_free") == "1.0"
    assert "/simple/wh-free/" in up.paths(), up.paths()


# ---------------------------------------------------------------- only simple/:name

def names(r) -> set[str]:
    assert r.status_code == 200, describe_response(r)
    if r.headers.get("Content-Type", "").startswith(JSON_T):
        return {p["name"] for p in r.json()["projects"]}
    return {link.text for link in parse_links(r.text)}


@pytest.mark.parametrize("scope", ["project:acme/app", "group:acme"])
def test_the_root_index_lists_local_packages_only(fw, up, cache, scope):
    base = scope_url(fw, scope)
    r = get(fw, f"{base}/simple/wh-free", "alice", JSON_T)
    assert r.status_code == 200 and r.headers.get("Wheelhouse-Upstream"), describe_response(r)
    for accept in (JSON_T, "text/html"):
        listed = names(get(fw, f"{base}/simple", "alice", accept))
        assert "wh-free" not in listed and "wh-local" in listed, listed


@pytest.mark.parametrize("scope", ["project:acme/app", "group:acme"])
def test_files_of_an_unknown_sha256_are_404_and_fetch_nothing(fw, up, mode, scope):
    unseen = up.projects["wh-unseen"].files
    (f,) = unseen.values()  # upstream has it, but no page of it went through Wheelhouse
    base = scope_url(fw, scope)
    for path in (f"files/{f.sha256}/{f.filename}", f"files/{f.sha256}/{f.filename}.metadata",
                 f"files/{'ab' * 32}/wh_free-1.0-py3-none-any.whl"):
        r = get(fw, f"{base}/{path}", "alice")
        assert r.status_code == 404, describe_response(r)
    assert up.paths() == [], up.paths()


# ---------------------------------------------------------------- authorisation first

@pytest.mark.parametrize("scope", ["project:acme/app", "group:acme", "group:acme/sub"])
@pytest.mark.parametrize("who,status", [(None, 401), ("otto", 404)])
def test_callers_who_may_not_read_the_scope_get_what_they_get_today(fw, up, mode, scope, who,
                                                                    status):
    r = get(fw, f"{scope_url(fw, scope)}/simple/wh-free", who)
    assert r.status_code == status, describe_response(r)
    if status == 401:
        assert r.headers.get("WWW-Authenticate", "").lower().startswith("basic"), describe_response(r)
    assert up.paths() == [], up.paths()


def test_anonymous_callers_of_a_public_group_are_forwarded(fw, up, mode):
    r = get(fw, f"{scope_url(fw, 'group:pub')}/simple/wh-free")
    assert r.status_code == (302 if mode == "redirect" else 200), describe_response(r)


# ---------------------------------------------------------------- dependency confusion

@pytest.mark.parametrize("scope", ["project:acme/app", "group:acme"])
@pytest.mark.parametrize("spelling", ["wh-local", "WH.Local", "wh__local"])
def test_a_local_name_is_never_forwarded_nor_merged(fw, up, mode, scope, spelling):
    for accept in (JSON_T, "text/html"):
        r = get(fw, f"{scope_url(fw, scope)}/simple/{spelling}", "alice", accept)
        assert r.status_code == 200, describe_response(r)
        assert "wh_local-1.0-py3-none-any.whl" in r.text and not has_upstream_version(r.text), r.text
        assert "Wheelhouse-Upstream" not in r.headers, describe_response(r)
    assert not fetched(up, "wh-local"), up.paths()


def test_a_name_in_a_project_the_caller_cannot_see_is_not_forwarded(fw, up, mode):
    acme = scope_url(fw, "group:acme")
    # sam reads the group (through acme/sub/lib) but not acme/hidden, which has wh-hidden
    assert "wh-sub" in names(get(fw, f"{acme}/simple", "sam"))
    r = get(fw, f"{acme}/simple/wh-hidden", "sam")
    assert_not_forwarded(r, up, "wh-hidden", (404,))
    assert "wh_hidden" not in r.text, describe_response(r)
    # anonymous callers of the public group do not see pub/secret's wh-psecret either
    r = get(fw, f"{scope_url(fw, 'group:pub')}/simple/wh-psecret")
    assert_not_forwarded(r, up, "wh-psecret", (401, 404))
    # and those who may see them get the local package
    r = get(fw, f"{acme}/simple/wh-hidden", "alice")
    assert r.status_code == 200 and "wh_hidden-1.0" in r.text and not has_upstream_version(r.text), \
        describe_response(r)


def upload(fw, path, name, tmp_path):
    d = wheel(name, "1.0", dest=tmp_path / uuid.uuid4().hex[:6])
    upload_ok(fw.wh, fw.pid[path], d, name, "1.0", fw.auth("alice"))
    return d


def package_id(fw, path, name) -> int:
    """The REST id of the one package in `path` whose normalised name is `name`."""
    r = rest(fw, "GET", f"projects/{fw.pid[path]}/packages", params={"per_page": 100})
    assert r.status_code == 200, describe_response(r)
    (pkg,) = [p for p in r.json() if re.sub(r"[-_.]+", "-", p["name"]).lower() == name]
    return pkg["id"]


def reserved(fw, path, who="alice") -> list[dict]:
    r = rest(fw, "GET", f"projects/{fw.pid[path]}/packages/pypi/reserved_names", who)
    assert r.status_code == 200, describe_response(r)
    return r.json()


def forwarded(fw, up, mode, scope, name, who="alice") -> bool:
    r = get(fw, f"{scope_url(fw, scope)}/simple/{name}", who)
    if r.status_code == 404:
        return False
    want = 302 if mode == "redirect" else 200
    assert r.status_code == want and (mode == "redirect" or has_upstream_version(r.text)), describe_response(r)
    return True


def test_deleting_a_package_reserves_its_name_until_a_maintainer_clears_it(fw, up, mode,
                                                                          tmp_path):
    name = f"wh-gone-{mode}"  # one per mode: the reservation outlives the test
    up.add_dist(name, wheel(name, "9.9", dest=tmp_path))
    upload(fw, "acme/app", name.replace("-", "_").title(), tmp_path)  # Wh_Gone_Redirect
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
    r = rest(fw, "DELETE", f"projects/{fw.pid['acme/app']}/packages/{package_id(fw, 'acme/app', name)}")
    assert r.status_code == 204, describe_response(r)
    for scope, who in (("project:acme/app", "alice"), ("group:acme", "alice"),
                       ("group:acme", "sam")):  # sam cannot see acme/app: still reserved
        assert not forwarded(fw, up, mode, scope, name, who), scope
    assert not fetched(up, name), up.paths()

    entries = [e for e in reserved(fw, "acme/app") if e["name"] == name]
    assert len(entries) == 1, reserved(fw, "acme/app")
    created = datetime.datetime.fromisoformat(entries[0]["created_at"].replace("Z", "+00:00"))
    assert created >= before, entries
    proc = fw.wh.cli("project", "reserved-names", "acme/app", "--json")
    assert proc.returncode == 0, describe(proc)
    assert name in [e["name"] for e in json.loads(proc.stdout)], describe(proc)
    proc = fw.wh.cli("project", "reserved-names", "acme/app")
    assert proc.returncode == 0 and name in proc.stdout, describe(proc)

    gone = f"projects/{fw.pid['acme/app']}/packages/pypi/reserved_names/{name}"
    for who, status in ((None, 401), ("otto", 404), ("rita", 403), ("dave", 403)):
        assert rest(fw, "DELETE", gone, who).status_code == status, who
    assert rest(fw, "DELETE", gone, "mia").status_code == 204  # a maintainer may
    assert rest(fw, "DELETE", gone, "mia").status_code == 404  # once
    assert name not in [e["name"] for e in reserved(fw, "acme/app", "mia")]
    assert forwarded(fw, up, mode, "project:acme/app", name)
    assert forwarded(fw, up, mode, "group:acme", name)


def test_deleting_the_last_file_reserves_the_name_and_the_cli_clears_it(fw, up, mode, tmp_path):
    name = f"wh-lastfile-{mode}"
    up.add_dist(name, wheel(name, "9.9", dest=tmp_path))
    upload(fw, "acme/app", name, tmp_path)
    pkg = package_id(fw, "acme/app", name)
    files = rest(fw, "GET", f"projects/{fw.pid['acme/app']}/packages/{pkg}/package_files").json()
    r = rest(fw, "DELETE", f"projects/{fw.pid['acme/app']}/packages/{pkg}/package_files/{files[0]['id']}")
    assert r.status_code == 204, describe_response(r)
    assert not forwarded(fw, up, mode, "group:acme", name)
    assert name in [e["name"] for e in reserved(fw, "acme/app")]
    proc = fw.wh.cli("project", "unreserve", "acme/app", name)
    assert proc.returncode == 0, describe(proc)
    proc = fw.wh.cli("project", "unreserve", "acme/app", name)
    assert proc.returncode != 0 and proc.stderr.strip(), describe(proc)
    deadline = time.monotonic() + 3  # a CLI change reaches the running server within a second
    while not forwarded(fw, up, mode, "group:acme", name):
        assert time.monotonic() < deadline, f"{name} still not forwarded 3 s after unreserve"
        time.sleep(0.1)


def test_reserved_names_need_a_maintainer(fw):
    url = f"projects/{fw.pid['acme/app']}/packages/pypi/reserved_names"
    for who, status in ((None, 401), ("otto", 404), ("sam", 404), ("rita", 403), ("dave", 403),
                        ("mia", 200), ("alice", 200), ("root", 200)):
        r = rest(fw, "GET", url, who)
        assert r.status_code == status, (who, describe_response(r))
        if status == 200:
            assert isinstance(r.json(), list), describe_response(r)
    r = rest(fw, "GET", f"projects/{enc('acme/app')}/packages/pypi/reserved_names", "mia")
    assert r.status_code == 200, describe_response(r)


# ---------------------------------------------------------------- REST

def test_the_rest_package_lists_leave_out_upstream_projects(fw, up, cache):
    for scope in ("project:acme/app", "group:acme"):
        r = get(fw, f"{scope_url(fw, scope)}/simple/wh-free", "alice", JSON_T)
        assert r.status_code == 200, describe_response(r)
        (f,) = r.json()["files"]
        r = fw.wh.get(f["url"], auth=fw.auth("alice"))
        assert r.status_code == 200 and len(r.content) == f["size"], describe_response(r)
    for path in (f"projects/{fw.pid['acme/app']}/packages", f"groups/{fw.gid['acme']}/packages"):
        r = rest(fw, "GET", path, "alice", params={"per_page": 100})
        assert r.status_code == 200, describe_response(r)
        listed = {p["name"] for p in r.json()}
        assert "wh-free" not in listed and "wh_free" not in listed and "wh-local" in listed, listed
        r = rest(fw, "GET", path, "alice", params={"package_name": "wh-free"})
        assert r.status_code == 200 and r.json() == [], describe_response(r)


def test_forwarding_off_answers_404_and_fetches_nothing(fw, up, cache):
    configure(fw, **{F: False})
    try:
        for scope in ("project:acme/app", "group:acme", "group:pub"):
            r = get(fw, f"{scope_url(fw, scope)}/simple/wh-free", "alice")
            assert r.status_code == 404, describe_response(r)
        assert up.paths() == [], up.paths()
    finally:
        configure(fw, **{F: True})

