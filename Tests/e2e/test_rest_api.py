"""The GitLab REST API v4 subset (users, tokens, groups, projects, members, deploy tokens,
packages, pagination), driven with the real python-gitlab client and raw HTTP, and checked
against what twine and pip then see on the PyPI routes.

Every test gets its own server with an administrator `root` made through the CLI. Tests set up
what they are not about through the CLI, so a broken endpoint fails the tests about it and not
every test that happens to need a user or a group."""
from __future__ import annotations

import datetime
import urllib.parse
import warnings

import gitlab
import pytest
import requests
from gitlab.const import AccessLevel

from distributions import wheel
from whlib import describe, describe_response, enc, index_url, md5, parse_links

GUEST, REPORTER, DEVELOPER, MAINTAINER, OWNER = (
    AccessLevel.GUEST, AccessLevel.REPORTER, AccessLevel.DEVELOPER, AccessLevel.MAINTAINER,
    AccessLevel.OWNER)
RD, WR = "read_package_registry", "write_package_registry"
_ROOT = object()  # "authenticate as root", the default of Rest.call


class Rest:
    """One private server, its root token, a python-gitlab client and raw HTTP helpers."""

    def __init__(self, wh):
        self.wh = wh
        self.root = wh.user("root", admin=True)
        self.token = wh.token("root", "api", name="t")["token"]
        self.gl = self.gitlab(self.token)

    def gitlab(self, token) -> gitlab.Gitlab:
        s = requests.Session()
        s.trust_env = False
        return gitlab.Gitlab(self.wh.base, private_token=token, session=s, timeout=30)

    def call(self, method, path, token=_ROOT, headers=None, **kw) -> requests.Response:
        url = path if path.startswith("http") else f"{self.wh.api}/{path.lstrip('/')}"
        hdrs = dict(headers or {})
        if token is _ROOT:
            token = self.token
        if token is not None:
            hdrs["PRIVATE-TOKEN"] = token
        return self.wh.http.request(method, url, headers=hdrs, timeout=30,
                                    allow_redirects=False, **kw)

    def ok(self, method, path, status=200, **kw):
        r = self.call(method, path, **kw)
        assert r.status_code == status, describe_response(r)
        return r.json() if r.content else None

    def status(self, method, path, **kw) -> int:
        return self.call(method, path, **kw).status_code

    def user(self, name, *scopes, admin=False):
        """A user made with the CLI, and a token for it (scope api unless told)."""
        u = self.wh.user(name, admin=admin)
        return u, self.wh.token(name, *(scopes or ("api",)))["token"]

    def simple(self, pid, path="simple", auth=None):
        return self.wh.get(f"{self.wh.project_url(pid)}/{path}", auth=auth)

    def upload_wheel(self, tmp_path, pid, name, version, token=None):
        d = wheel(name, version, dest=tmp_path)
        r = self.wh.upload(pid, d.data, d.filename, name=name, version=version,
                           auth=("__token__", token or self.token))
        assert r.status_code == 201, describe_response(r)
        return d


@pytest.fixture
def rest(make_server):
    return Rest(make_server(name="rest"))


def expect_error(exc_type, code, fn, *args, **kw):
    with pytest.raises(exc_type) as info:
        fn(*args, **kw)
    assert info.value.response_code == code, (info.value.response_code, info.value.error_message,
                                              info.value.response_body)
    return info.value


def message_text(body) -> str:
    """Flatten GitLab's {"message": str | {field: [..]}} or {"error": str} to one string."""
    if isinstance(body, dict):
        return " ".join(message_text(v) for v in body.values())
    if isinstance(body, list):
        return " ".join(message_text(v) for v in body)
    return str(body)


def assert_400(r, *needles):
    assert r.status_code == 400, describe_response(r)
    body = r.json()
    assert isinstance(body, dict) and ("message" in body or "error" in body), describe_response(r)
    for needle in needles:
        assert needle in message_text(body), describe_response(r)


def assert_ok(proc):
    assert proc.returncode == 0, describe(proc)


def page_files(rest, pid, project, auth):
    r = rest.simple(pid, f"simple/{project}", auth=auth)
    assert r.status_code == 200, describe_response(r)
    return sorted(link.text for link in parse_links(r.text))


# ---------------------------------------------------------------- the issue's scenario

def test_issue_scenario_admin_sets_up_publishes_lists_and_deletes(rest, dists, clients):
    gl = rest.gl
    version, revision = gl.version()
    assert version not in ("unknown", "") and revision != "", (version, revision)
    gl.auth()
    assert gl.user.username == "root" and gl.user.id == rest.root["id"], gl.user.attributes
    assert gl.user.is_admin is True, gl.user.attributes

    user = gl.users.create({"username": "dev", "name": "Dev Eloper", "email": "dev@example.com",
                            "password": "correct-horse-battery-staple"})
    assert (user.username, user.state) == ("dev", "active"), user.attributes  # name: ignored
    assert gl.users.get(user.id).username == "dev"

    group = gl.groups.create({"name": "Acme", "path": "acme", "visibility": "private"})
    assert (group.path, group.full_path, group.parent_id, group.visibility) == (
        "acme", "acme", None, "private"), group.attributes
    sub = gl.groups.create({"name": "Tools", "path": "tools", "parent_id": group.id,
                            "visibility": "private"})
    assert (sub.full_path, sub.parent_id, sub.name) == ("acme/tools", group.id, "Tools"), sub.attributes
    project = gl.projects.create({"name": "Lib", "path": "lib", "namespace_id": sub.id,
                                  "visibility": "private"})
    assert project.path_with_namespace == "acme/tools/lib", project.attributes
    ns = project.namespace
    assert (ns["id"], ns["full_path"], ns["kind"]) == (sub.id, "acme/tools", "group"), ns

    member = group.members.create({"user_id": user.id, "access_level": DEVELOPER})
    assert (member.id, member.username, member.access_level) == (user.id, "dev", 30), member.attributes

    # A token for the user, made by the admin, then rotated: the old value stops working.
    pat = gl.users.get(user.id, lazy=True).personal_access_tokens.create(
        {"name": "laptop", "scopes": ["api"]})
    assert (pat.user_id, pat.name, pat.scopes, pat.active, pat.revoked) == (
        user.id, "laptop", ["api"], True, False), pat.attributes
    old = pat.token
    assert rest.ok("GET", "user", token=old)["username"] == "dev"
    rotated = gl.personal_access_tokens.rotate(pat.id)
    new = rotated["token"]
    assert new and new != old, rotated
    assert (rotated["user_id"], rotated["name"], rotated["active"]) == (user.id, "laptop", True), rotated
    r = rest.call("GET", "user", token=old)
    assert r.status_code == 401, describe_response(r)
    assert rest.ok("GET", "user", token=new)["username"] == "dev"
    assert gl.personal_access_tokens.get(pat.id).revoked is True

    # The developer of the top group sees the subgroup's project.
    dev = rest.gitlab(new)
    assert dev.projects.get(project.id).path_with_namespace == "acme/tools/lib"

    dt = project.deploytokens.create({"name": "ci", "scopes": [WR]})
    assert dt.token and dt.username and dt.scopes == [WR], dt.attributes
    assert (dt.name, dt.revoked, dt.expired) == ("ci", False, False), dt.attributes

    url = rest.wh.project_url(project.id)
    d100, d110 = dists.demo100, dists.demo110
    assert_ok(clients.twine_upload(url, dt.token, d100.sdist.path, d100.wheel.path,
                                   d110.wheel.path, user=dt.username))

    def summary(pkgs):
        return sorted((p.name, p.version, p.package_type, p.status, p.project_id) for p in pkgs)

    expected = [("wh-demo", "1.0.0", "pypi", "default", project.id),
                ("wh-demo", "1.1.0", "pypi", "default", project.id)]
    pkgs = project.packages.list(get_all=True)
    assert summary(pkgs) == expected
    for g in (sub, group):  # GitLab's group listing includes subgroups' projects
        gpkgs = gl.groups.get(g.id, lazy=True).packages.list(get_all=True)
        assert summary(gpkgs) == expected, g.full_path
        assert sorted(p.id for p in gpkgs) == sorted(p.id for p in pkgs)

    pkg = project.packages.get(next(p.id for p in pkgs if p.version == "1.0.0"))
    assert (pkg.name, pkg.version, pkg.project_id) == ("wh-demo", "1.0.0", project.id)
    files = {f.file_name: f for f in pkg.package_files.list(get_all=True)}
    assert sorted(files) == sorted([d100.sdist.filename, d100.wheel.filename])
    for d in (d100.sdist, d100.wheel):
        f = files[d.filename]
        assert (f.package_id, f.size, f.file_sha256, f.file_md5) == (
            pkg.id, len(d.data), d.sha256, md5(d.data)), f.attributes

    # Installable before anything is deleted (the user reads through inherited membership).
    assert_ok(clients.pip_install(index_url(url, new), "wh-demo==1.0.0", target=clients.target()))

    pkg.package_files.delete(files[d100.wheel.filename].id)
    assert [f.file_name for f in pkg.package_files.list(get_all=True)] == [d100.sdist.filename]
    assert page_files(rest, project.id, "wh-demo", ("__token__", new)) == sorted(
        [d100.sdist.filename, d110.wheel.filename])

    pkg.delete()
    expect_error(gitlab.GitlabGetError, 404, project.packages.get, pkg.id)
    assert [p.version for p in project.packages.list(get_all=True)] == ["1.1.0"]
    assert page_files(rest, project.id, "wh-demo", ("__token__", new)) == [d110.wheel.filename]

    proc = clients.pip_install(index_url(url, new), "wh-demo==1.0.0", target=clients.target())
    assert proc.returncode != 0 and "No matching distribution" in proc.stderr, describe(proc)
    target = clients.target()
    assert_ok(clients.pip_install(index_url(url, new), "wh-demo", target=target))
    assert clients.imported(target, "wh_demo") == "1.1.0"


# ---------------------------------------------------------------- version, metadata

def test_version_and_metadata(rest):
    v = rest.ok("GET", "version")
    assert isinstance(v["version"], str) and v["version"] and isinstance(v["revision"], str), v
    m = rest.ok("GET", "metadata")
    assert (m["version"], m["revision"]) == (v["version"], v["revision"]), m
    assert isinstance(m["kas"], dict) and m["enterprise"] is False, m
    assert rest.gl.version() == (v["version"], v["revision"])
    for path in ("version", "metadata"):
        r = rest.call("GET", path, token=None)
        assert r.status_code == 401, describe_response(r)


# ---------------------------------------------------------------- pagination

def check_page(rest, path, params, *, total, per_page, page, count):
    r = rest.call("GET", path, params=params)
    assert r.status_code == 200, describe_response(r)
    pages = max(1, -(-total // per_page))
    h = r.headers
    nxt = str(page + 1) if page < pages else ""
    prv = str(page - 1) if 1 < page <= pages + 1 else ""
    got = (h.get("X-Total"), h.get("X-Total-Pages"), h.get("X-Page"), h.get("X-Per-Page"),
           h.get("X-Next-Page", ""), h.get("X-Prev-Page", ""))
    assert got == (str(total), str(pages), str(page), str(per_page), nxt, prv), describe_response(r)
    body = r.json()
    assert isinstance(body, list) and len(body) == count, describe_response(r)

    links = r.links
    want = {"first", "last"} | ({"next"} if nxt else set()) | ({"prev"} if prv else set())
    assert set(links) == want, (h.get("Link"), describe_response(r))
    base = f"{rest.wh.api}/{path}"
    for rel, target in (("first", 1), ("last", pages), ("next", nxt), ("prev", prv)):
        if rel not in links:
            continue
        link = urllib.parse.urlsplit(links[rel]["url"])
        assert f"{link.scheme}://{link.netloc}{link.path}" == base, (rel, links[rel])
        q = dict(urllib.parse.parse_qsl(link.query))
        assert q.get("page") == str(target) and q.get("per_page") == str(per_page), (rel, links[rel])
        for k, v in params.items():
            if k not in ("page", "per_page"):
                assert q.get(k) == str(v), (rel, k, links[rel])
    return r, body


def test_pagination_headers_links_and_python_gitlab(rest):
    gl = rest.gl
    group = gl.groups.create({"name": "Many", "path": "many"})
    ids = [gl.projects.create({"name": f"P {i:02d}", "path": f"p{i:02d}",
                               "namespace_id": group.id}).id for i in range(25)]
    path = f"groups/{group.id}/projects"

    seen = []
    for page, count in ((1, 10), (2, 10), (3, 5)):
        r, body = check_page(rest, path, {"per_page": 10, "page": page}, total=25, per_page=10,
                             page=page, count=count)
        seen += [p["id"] for p in body]
        if "next" in r.links:  # the next link leads to exactly the next page
            following = rest.call("GET", r.links["next"]["url"]).json()
            again = rest.call("GET", path, params={"per_page": 10, "page": page + 1}).json()
            assert [p["id"] for p in following] == [p["id"] for p in again]
    assert len(seen) == 25 and sorted(seen) == sorted(ids)

    check_page(rest, path, {}, total=25, per_page=20, page=1, count=20)  # the default
    check_page(rest, path, {"per_page": 101}, total=25, per_page=100, page=1, count=25)  # clamped
    r = rest.call("GET", path, params={"per_page": 10, "page": 9})  # past the end: empty
    assert r.status_code == 200 and r.json() == [], describe_response(r)
    check_page(rest, "projects", {"per_page": 7, "page": 4, "order_by": "id", "sort": "asc"},
               total=25, per_page=7, page=4, count=4)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        listed = gl.groups.get(group.id, lazy=True).projects.list(get_all=True, per_page=10)
        everything = gl.projects.list(get_all=True, per_page=10)
        it = gl.groups.get(group.id, lazy=True).projects.list(iterator=True, per_page=10)
        iterated = [p.id for p in it]
    assert not caught, [str(w.message) for w in caught]
    assert sorted(p.id for p in listed) == sorted(ids)
    assert sorted(p.id for p in everything) == sorted(ids)
    assert (it.total, it.total_pages, it.per_page) == (25, 3, 10)
    assert sorted(iterated) == sorted(ids) and len(iterated) == 25


def test_users_pagination_and_username_filter(rest):
    for i in range(12):
        rest.wh.user(f"u{i:02d}")
    check_page(rest, "users", {"per_page": 5, "page": 3}, total=13, per_page=5, page=3, count=3)
    users = rest.gl.users.list(get_all=True, per_page=5)
    assert sorted(u.username for u in users) == sorted(["root"] + [f"u{i:02d}" for i in range(12)])
    r, body = check_page(rest, "users", {"username": "u07"}, total=1, per_page=20, page=1, count=1)
    assert body[0]["username"] == "u07"
    assert [u.username for u in rest.gl.users.list(username="u03")] == ["u03"]


# ---------------------------------------------------------------- permissions

@pytest.fixture
def perm(rest, tmp_path):
    """g (private) / g/p (private) holding wh-perm 1.0; rita reporter of g/p; otto outsider;
    alice a plain user; root_ro an admin token limited to read_api."""
    rest.wh.group("g")
    p = rest.wh.project("g/p")
    rest.rita, rest.rita_tok = rest.user("rita")
    rest.otto, rest.otto_tok = rest.user("otto")
    rest.alice, rest.alice_tok = rest.user("alice")
    rest.root_ro = rest.wh.token("root", "read_api")["token"]
    rest.wh.member("rita", "reporter", project="g/p")
    rest.pid, rest.gid = p["id"], p["namespace"]["id"]
    rest.dist = rest.upload_wheel(tmp_path, p["id"], "wh-perm", "1.0")
    rest.pkg = rest.ok("GET", f"projects/{p['id']}/packages")[0]
    return rest


def test_non_admin_cannot_manage_users_or_their_tokens(perm):
    before = len(perm.ok("GET", "users", params={"per_page": 100}))
    r = perm.call("POST", "users", token=perm.alice_tok,
                  json={"username": "mallory", "name": "M", "email": "m@example.com",
                        "password": "x" * 12})
    assert r.status_code == 403, describe_response(r)
    r = perm.call("POST", f"users/{perm.otto['id']}/personal_access_tokens", token=perm.alice_tok,
                  json={"name": "steal", "scopes": ["api"]})
    assert r.status_code == 403, describe_response(r)
    r = perm.call("DELETE", f"users/{perm.otto['id']}", token=perm.alice_tok)
    assert r.status_code == 403, describe_response(r)
    assert len(perm.ok("GET", "users", params={"per_page": 100})) == before
    assert perm.status("GET", "user", token=perm.otto_tok) == 200

    alice_gl = perm.gitlab(perm.alice_tok)
    expect_error(gitlab.GitlabCreateError, 403, alice_gl.users.create,
                 {"username": "mallory2", "name": "M", "email": "m2@example.com",
                  "password": "x" * 12})


def test_is_admin_is_shown_to_admins_only(perm):
    assert perm.ok("GET", f"users/{perm.root['id']}")["is_admin"] is True
    assert perm.ok("GET", f"users/{perm.alice['id']}")["is_admin"] is False
    seen = perm.ok("GET", f"users/{perm.root['id']}", token=perm.alice_tok)
    assert seen["username"] == "root" and "is_admin" not in seen, seen


def test_read_api_token_reads_but_cannot_write(perm):
    assert perm.status("GET", "projects", token=perm.root_ro) == 200
    assert perm.status("GET", f"projects/{perm.pid}", token=perm.root_ro) == 200
    writes = [
        ("POST", "projects", {"name": "nope", "path": "nope", "namespace_id": perm.gid}),
        ("POST", "groups", {"name": "nope", "path": "nope"}),
        ("PUT", f"projects/{perm.pid}", {"name": "renamed"}),
        ("DELETE", f"groups/{perm.gid}", None),
        ("DELETE", f"projects/{perm.pid}/packages/{perm.pkg['id']}", None),
        ("POST", f"projects/{perm.pid}/deploy_tokens", {"name": "d", "scopes": [RD]}),
    ]
    for method, path, body in writes:
        r = perm.call(method, path, token=perm.root_ro, json=body)
        assert r.status_code == 403, describe_response(r)
    p = perm.ok("GET", f"projects/{perm.pid}")
    assert p["name"] == "p", p
    assert perm.status("GET", f"groups/{perm.gid}") == 200
    assert [x["id"] for x in perm.ok("GET", f"projects/{perm.pid}/packages")] == [perm.pkg["id"]]
    assert not any(x["path"] == "nope" for x in perm.ok("GET", "projects"))

    ro = perm.gitlab(perm.root_ro)
    expect_error(gitlab.GitlabCreateError, 403, ro.projects.create,
                 {"name": "nope2", "path": "nope2", "namespace_id": perm.gid})


def test_anonymous_and_bad_tokens_get_401(perm):
    for token in (None, "glpat-not-a-real-token-000000"):
        for method, path in (("GET", "user"), ("POST", "groups"), ("GET", "personal_access_tokens")):
            r = perm.call(method, path, token=token, json={"name": "x", "path": "x"})
            assert r.status_code == 401, describe_response(r)
    expect_error(gitlab.GitlabAuthenticationError, 401, perm.gitlab("glpat-wrong-000000000").auth)


@pytest.mark.parametrize("style", ["private-token", "bearer", "basic", "basic-any-user"])
def test_auth_header_styles(perm, style):
    tok = perm.alice_tok
    kw = {"private-token": dict(headers={"PRIVATE-TOKEN": tok}),
          "bearer": dict(headers={"Authorization": f"Bearer {tok}"}),
          "basic": dict(auth=("alice", tok)),
          "basic-any-user": dict(auth=("__token__", tok))}[style]
    r = perm.call("GET", "user", token=None, **kw)
    assert r.status_code == 200 and r.json()["username"] == "alice", describe_response(r)


def test_outsider_gets_404_for_private_resources(perm):
    pid, gid, o = perm.pid, perm.gid, perm.otto_tok
    for path in (f"projects/{pid}", f"projects/{enc('g/p')}", f"groups/{gid}", "groups/g",
                 f"projects/{pid}/packages", f"projects/{pid}/packages/{perm.pkg['id']}",
                 f"groups/{gid}/packages", f"projects/{pid}/members", f"groups/{gid}/projects",
                 f"projects/{pid}/deploy_tokens"):
        r = perm.call("GET", path, token=o)
        assert r.status_code == 404, describe_response(r)
    r = perm.call("DELETE", f"projects/{pid}/packages/{perm.pkg['id']}", token=o)
    assert r.status_code == 404, describe_response(r)
    assert perm.ok("GET", "projects", token=o) == []
    assert perm.ok("GET", "groups", token=o) == []
    # What does not exist is a 404 for the administrator too.
    for path in ("projects/999999", f"projects/{enc('g/nope')}", "groups/999999", "users/999999",
                 f"projects/{pid}/packages/999999"):
        r = perm.call("GET", path)
        assert r.status_code == 404, describe_response(r)
    expect_error(gitlab.GitlabGetError, 404, perm.gitlab(o).projects.get, pid)


def test_reporter_reads_but_cannot_delete_packages(perm):
    rita, pid, pkg = perm.rita_tok, perm.pid, perm.pkg
    assert [p["id"] for p in perm.ok("GET", f"projects/{pid}/packages", token=rita)] == [pkg["id"]]
    files = perm.ok("GET", f"projects/{pid}/packages/{pkg['id']}/package_files", token=rita)
    assert [f["file_name"] for f in files] == [perm.dist.filename]
    for path in (f"projects/{pid}/packages/{pkg['id']}",
                 f"projects/{pid}/packages/{pkg['id']}/package_files/{files[0]['id']}"):
        r = perm.call("DELETE", path, token=rita)
        assert r.status_code == 403, describe_response(r)
    for method, path, body in (("PUT", f"projects/{pid}", {"name": "mine"}),
                               ("POST", f"projects/{pid}/deploy_tokens", {"name": "d", "scopes": [RD]}),
                               ("POST", f"projects/{pid}/members",
                                {"user_id": perm.otto["id"], "access_level": 30})):
        r = perm.call(method, path, token=rita, json=body)
        assert r.status_code == 403, describe_response(r)
    assert page_files(perm, pid, "wh-perm", ("__token__", rita)) == [perm.dist.filename]
    project = perm.gitlab(rita).projects.get(pid, lazy=True)
    expect_error(gitlab.GitlabDeleteError, 403, project.packages.delete, pkg["id"])


# ---------------------------------------------------------------- validation

def test_validation_errors(rest):
    gl = rest.gl
    rest.ok("POST", "groups", 201, json={"name": "Taken", "path": "taken"})
    g2 = rest.ok("POST", "groups", 201, json={"name": "Other", "path": "other"})
    assert_400(rest.call("POST", "groups", json={"name": "Taken again", "path": "taken"}),
               "has already been taken")
    e = expect_error(gitlab.GitlabCreateError, 400, gl.groups.create,
                     {"name": "Taken 3", "path": "taken"})
    assert "has already been taken" in str(e.error_message), e.error_message
    # a subgroup path is taken within its parent only
    rest.ok("POST", "groups", 201, json={"name": "Taken", "path": "taken", "parent_id": g2["id"]})
    assert_400(rest.call("POST", "groups", json={"name": "T", "path": "taken",
                                                 "parent_id": g2["id"]}), "has already been taken")

    rest.ok("POST", "projects", 201, json={"name": "Lib", "path": "lib", "namespace_id": g2["id"]})
    assert_400(rest.call("POST", "projects", json={"name": "Lib2", "path": "lib",
                                                   "namespace_id": g2["id"]}),
               "has already been taken")

    rest.wh.user("alice")
    r = rest.call("POST", "users", json={"username": "alice", "name": "A", "email": "a@example.com",
                                         "password": "x" * 12})
    assert r.status_code in (400, 409), describe_response(r)  # GitLab itself answers 409 here
    assert "has already been taken" in message_text(r.json()), describe_response(r)

    assert_400(rest.call("POST", "groups", json={"name": "V", "path": "v", "visibility": "secret"}))
    assert_400(rest.call("POST", "projects", json={"name": "V", "path": "v",
                                                   "namespace_id": g2["id"], "visibility": "open"}))
    assert_400(rest.call("PUT", f"groups/{g2['id']}", json={"visibility": "everyone"}))
    assert_400(rest.call("POST", "groups", json={"path": "no-name"}))
    assert_400(rest.call("POST", "projects", json={"namespace_id": g2["id"]}))  # no name, no path
    # nothing may be more visible than the group holding it
    assert_400(rest.call("POST", "projects", json={"name": "Pub", "path": "pub",
                                                   "namespace_id": g2["id"],
                                                   "visibility": "public"}))
    assert_400(rest.call("POST", "groups", json={"name": "Pub", "path": "pub",
                                                 "parent_id": g2["id"], "visibility": "public"}))

    u, _ = rest.user("bob")
    assert_400(rest.call("POST", f"groups/{g2['id']}/members",
                         json={"user_id": u["id"], "access_level": 35}))
    assert_400(rest.call("POST", f"users/{u['id']}/personal_access_tokens",
                         json={"name": "x", "scopes": ["sudo-everything"]}))
    assert_400(rest.call("POST", f"users/{u['id']}/personal_access_tokens",
                         json={"name": "x", "scopes": ["api"], "expires_at": "next tuesday"}))
    assert_400(rest.call("POST", f"groups/{g2['id']}/deploy_tokens",
                         json={"name": "x", "scopes": ["write_repository_of_doom"]}))

    names = sorted(g["full_path"] for g in rest.ok("GET", "groups"))
    assert names == ["other", "other/taken", "taken"], names
    assert [p["path"] for p in rest.ok("GET", f"groups/{g2['id']}/projects")] == ["lib"]


def test_form_encoded_and_query_string_parameters(rest):
    """GitLab takes parameters as JSON, as a form, or in the query string (curl examples)."""
    g = rest.ok("POST", "groups", 201, data={"name": "Form", "path": "form"})
    assert g["full_path"] == "form", g
    p = rest.ok("POST", "projects", 201, params={"name": "Q", "path": "q", "namespace_id": g["id"]})
    assert p["path_with_namespace"] == "form/q", p


# ---------------------------------------------------------------- groups and projects

def test_groups_and_projects_crud(rest):
    gl = rest.gl
    top = gl.groups.create({"name": "Top", "path": "top", "visibility": "internal"})
    sub = gl.groups.create({"name": "Sub", "path": "sub", "parent_id": top.id,
                            "visibility": "private"})
    for key in (top.id, "top", enc("top")):
        assert rest.ok("GET", f"groups/{key}")["id"] == top.id
    g = rest.ok("GET", f"groups/{enc('top/sub')}")
    assert (g["id"], g["full_name"], g["parent_id"]) == (sub.id, "Top / Sub", top.id), g
    assert g["web_url"].startswith("http"), g
    assert [s.id for s in top.subgroups.list(get_all=True)] == [sub.id]

    top.name, top.description, top.visibility = "Top Renamed", "things", "private"
    top.save()
    t = rest.ok("GET", f"groups/{top.id}")
    assert (t["name"], t["description"], t["visibility"], t["path"]) == (
        "Top Renamed", "things", "private", "top"), t

    p = gl.projects.create({"name": "Lib", "path": "lib", "namespace_id": sub.id,
                            "visibility": "private"})
    assert (p.name_with_namespace, p.namespace["full_path"]) == ("Top Renamed / Sub / Lib", "top/sub")
    assert rest.ok("GET", f"projects/{enc('top/sub/lib')}")["id"] == p.id
    assert [x.id for x in gl.groups.get(sub.id, lazy=True).projects.list(get_all=True)] == [p.id]
    p.name = "Library"
    p.save()
    assert rest.ok("GET", f"projects/{p.id}")["name"] == "Library"
    assert rest.ok("PUT", f"projects/{p.id}", json={"description": "d"})["description"] == "d"

    mine = gl.projects.create({"name": "Scratch", "path": "scratch"})  # the caller's namespace
    assert mine.path_with_namespace == "root/scratch", mine.attributes
    assert (mine.namespace["kind"], mine.namespace["full_path"]) == ("user", "root"), mine.namespace

    r = rest.call("DELETE", f"projects/{mine.id}")
    assert r.status_code == 202, describe_response(r)
    assert rest.status("GET", f"projects/{mine.id}") == 404
    r = rest.call("DELETE", f"groups/{top.id}")
    assert r.status_code in (202, 204), describe_response(r)
    for path in (f"groups/{top.id}", f"groups/{sub.id}", f"projects/{p.id}"):
        assert rest.status("GET", path) == 404, path
    assert rest.ok("GET", "groups") == []
    # the path is free again
    assert rest.ok("POST", "groups", 201, json={"name": "Top", "path": "top"})["full_path"] == "top"


# ---------------------------------------------------------------- users and tokens

def test_users_create_get_filter_delete(rest):
    gl = rest.gl
    boss = gl.users.create({"username": "boss", "name": "The Boss", "email": "b@example.com",
                            "password": "x" * 12, "admin": True})
    assert (boss.username, boss.is_admin, boss.state) == ("boss", True, "active"), boss.attributes
    plain = rest.ok("POST", "users", 201, json={"username": "plain", "name": "Plain",
                                                "email": "p@example.com", "password": "x" * 12})
    assert plain["is_admin"] is False and plain["id"] not in (boss.id, rest.root["id"]), plain
    assert rest.ok("GET", f"users/{plain['id']}")["username"] == "plain"
    assert [u["id"] for u in rest.ok("GET", "users", params={"username": "plain"})] == [plain["id"]]
    assert rest.ok("GET", "users", params={"username": "nobody"}) == []

    boss_tok = boss.personal_access_tokens.create({"name": "b", "scopes": ["api"]}).token
    plain_tok = rest.ok("POST", f"users/{plain['id']}/personal_access_tokens", 201,
                        json={"name": "p", "scopes": ["api"]})["token"]
    assert rest.ok("GET", "user", token=boss_tok)["username"] == "boss"
    made = rest.ok("POST", "users", 201, token=boss_tok,  # boss is an admin now
                   json={"username": "hire", "name": "Hire", "email": "h@example.com",
                         "password": "x" * 12})
    assert made["username"] == "hire"

    r = rest.call("DELETE", f"users/{plain['id']}")
    assert r.status_code == 204, describe_response(r)
    assert rest.status("GET", f"users/{plain['id']}") == 404
    assert rest.status("GET", "user", token=plain_tok) == 401
    assert sorted(u.username for u in gl.users.list(get_all=True)) == ["boss", "hire", "root"]


def test_personal_access_tokens(rest):
    alice, a1 = rest.user("alice")
    bob, b1 = rest.user("bob")
    ro = rest.ok("POST", f"users/{alice['id']}/personal_access_tokens", 201,
                 json={"name": "ro", "scopes": ["read_api"], "expires_at": "2099-12-31"})
    assert (ro["user_id"], ro["name"], ro["scopes"], ro["expires_at"], ro["active"],
            ro["revoked"]) == (alice["id"], "ro", ["read_api"], "2099-12-31", True, False), ro
    assert ro["token"] and isinstance(ro["id"], int), ro

    own = rest.ok("GET", "personal_access_tokens", token=a1)
    assert {t["user_id"] for t in own} == {alice["id"]} and ro["id"] in {t["id"] for t in own}, own
    assert len(own) == 2 and all("token" not in t for t in own), own
    everything = rest.ok("GET", "personal_access_tokens", params={"per_page": 100})
    assert {t["user_id"] for t in everything} >= {alice["id"], bob["id"], rest.root["id"]}, everything
    filtered = rest.gl.personal_access_tokens.list(user_id=alice["id"], get_all=True)
    assert sorted(t.id for t in filtered) == sorted(t["id"] for t in own)

    me = rest.ok("GET", "personal_access_tokens/self", token=ro["token"])
    assert (me["id"], me["name"], me["scopes"]) == (ro["id"], "ro", ["read_api"]) and "token" not in me
    assert rest.gitlab(ro["token"]).personal_access_tokens.get("self").id == ro["id"]
    bob_token_id = rest.ok("GET", "personal_access_tokens/self", token=b1)["id"]
    r = rest.call("GET", f"personal_access_tokens/{bob_token_id}", token=a1)
    assert r.status_code in (403, 404), describe_response(r)
    r = rest.call("DELETE", f"personal_access_tokens/{bob_token_id}", token=a1)
    assert r.status_code in (403, 404), describe_response(r)
    assert rest.status("GET", "user", token=b1) == 200

    # self-rotate: a new secret, the old one is dead
    a1_id = rest.ok("GET", "personal_access_tokens/self", token=a1)["id"]
    a2 = rest.ok("POST", "personal_access_tokens/self/rotate", token=a1)
    assert a2["token"] and a2["token"] != a1 and a2["user_id"] == alice["id"], a2
    assert rest.status("GET", "user", token=a1) == 401
    assert rest.ok("GET", "user", token=a2["token"])["username"] == "alice"
    assert rest.ok("GET", f"personal_access_tokens/{a1_id}")["revoked"] is True

    # rotate by id through python-gitlab's object API
    tok = rest.gl.personal_access_tokens.get(bob_token_id)
    tok.rotate()
    assert tok.token and tok.token != b1, tok.attributes
    assert rest.status("GET", "user", token=b1) == 401
    assert rest.ok("GET", "user", token=tok.token)["username"] == "bob"

    # revoke: by id (admin) and self
    r = rest.call("DELETE", f"personal_access_tokens/{ro['id']}")
    assert r.status_code == 204, describe_response(r)
    assert rest.status("GET", "user", token=ro["token"]) == 401
    revoked = rest.ok("GET", f"personal_access_tokens/{ro['id']}")
    assert revoked["revoked"] is True and revoked["active"] is False, revoked
    r = rest.call("DELETE", "personal_access_tokens/self", token=a2["token"])
    assert r.status_code == 204, describe_response(r)
    assert rest.status("GET", "user", token=a2["token"]) == 401
    rest.gl.personal_access_tokens.delete(tok.id)
    assert rest.status("GET", "user", token=tok.token) == 401


# ---------------------------------------------------------------- members

def test_members_inherited_update_delete(rest, tmp_path):
    wh = rest.wh
    gid = wh.group("g")["id"]
    wh.group("g/sub")
    p = wh.project("g/sub/p")
    q = wh.project("g/q")
    pid = p["id"]
    dev, dev_tok = rest.user("dev")
    mai, mai_tok = rest.user("mai")

    m = rest.ok("POST", f"groups/{gid}/members", 201,
                json={"user_id": dev["id"], "access_level": DEVELOPER})
    assert (m["id"], m["username"], m["access_level"], m["state"]) == (
        dev["id"], "dev", 30, "active"), m
    assert rest.ok("GET", f"groups/{gid}/members/{dev['id']}")["access_level"] == 30

    def all_members(path):
        return {x["username"]: x["access_level"] for x in rest.ok("GET", f"{path}/members/all")}

    assert all_members(f"projects/{pid}").get("dev") == 30
    assert all_members(f"groups/{enc('g/sub')}").get("dev") == 30
    assert "dev" not in {x["username"] for x in rest.ok("GET", f"projects/{pid}/members")}
    assert "dev" in {x.username for x in rest.gl.projects.get(pid, lazy=True).members_all.list(get_all=True)}

    wh_auth = ("__token__", dev_tok)
    assert rest.simple(pid, auth=wh_auth).status_code == 200
    rest.upload_wheel(tmp_path, pid, "wh-m", "1.0", token=dev_tok)  # a developer may publish

    gm = rest.gl.groups.get(gid, lazy=True).members.get(dev["id"])
    gm.access_level = REPORTER
    gm.save()
    assert rest.ok("GET", f"groups/{gid}/members/{dev['id']}")["access_level"] == 20
    assert all_members(f"projects/{pid}").get("dev") == 20
    d = wheel("wh-m", "2.0", dest=tmp_path)
    r = wh.upload(pid, d.data, d.filename, name="wh-m", version="2.0", auth=wh_auth)
    assert r.status_code == 403, describe_response(r)  # a reporter may not
    assert rest.ok("PUT", f"groups/{gid}/members/{dev['id']}",
                   json={"access_level": GUEST})["access_level"] == 10

    # a direct project member: add, read, update, delete
    pm = rest.ok("POST", f"projects/{q['id']}/members", 201,
                 json={"user_id": mai["id"], "access_level": MAINTAINER})
    assert (pm["id"], pm["access_level"]) == (mai["id"], 40), pm
    assert rest.ok("GET", f"projects/{q['id']}/members/{mai['id']}")["access_level"] == 40
    assert rest.ok("PUT", f"projects/{q['id']}/members/{mai['id']}",
                   json={"access_level": DEVELOPER})["access_level"] == 30
    assert rest.simple(q["id"], auth=("__token__", mai_tok)).status_code == 200
    r = rest.call("DELETE", f"projects/{q['id']}/members/{mai['id']}")
    assert r.status_code == 204, describe_response(r)
    assert rest.status("GET", f"projects/{q['id']}/members/{mai['id']}") == 404
    assert rest.simple(q["id"], auth=("__token__", mai_tok)).status_code == 404

    r = rest.call("DELETE", f"groups/{gid}/members/{dev['id']}")
    assert r.status_code == 204, describe_response(r)
    assert "dev" not in {x["username"] for x in rest.ok("GET", f"groups/{gid}/members")}
    assert "dev" not in all_members(f"projects/{pid}")
    r = rest.simple(pid, auth=wh_auth)
    assert r.status_code == 404, describe_response(r)
    assert rest.status("GET", f"projects/{pid}", token=dev_tok) == 404


# ---------------------------------------------------------------- deploy tokens

@pytest.mark.parametrize("level", ["project", "group"])
def test_deploy_tokens_list_and_delete(rest, level):
    wh = rest.wh
    wh.group("g")
    p = wh.project("g/p")
    pid = p["id"]
    base = f"projects/{pid}" if level == "project" else f"groups/{p['namespace']['id']}"

    a = rest.ok("POST", f"{base}/deploy_tokens", 201,
                json={"name": "a", "scopes": [RD], "expires_at": "2099-01-01"})
    assert (a["name"], a["scopes"], a["revoked"], a["expired"]) == ("a", [RD], False, False), a
    assert a["expires_at"].startswith("2099-01-01") and a["token"] and a["username"], a
    b = rest.ok("POST", f"{base}/deploy_tokens", 201,
                json={"name": "b", "scopes": [RD, WR], "username": "ci-bot"})
    assert (b["username"], sorted(b["scopes"]), b["expires_at"]) == ("ci-bot", [RD, WR], None), b

    listed = rest.ok("GET", f"{base}/deploy_tokens")
    assert sorted(t["id"] for t in listed) == sorted([a["id"], b["id"]]), listed
    assert all("token" not in t for t in listed), listed
    owner = rest.gl.projects if level == "project" else rest.gl.groups
    obj = owner.get(pid if level == "project" else p["namespace"]["id"], lazy=True)
    assert sorted(t.id for t in obj.deploytokens.list(get_all=True)) == sorted([a["id"], b["id"]])

    for t in (a, b):
        r = rest.simple(pid, auth=(t["username"], t["token"]))
        assert r.status_code == 200, describe_response(r)
    r = rest.call("DELETE", f"{base}/deploy_tokens/{a['id']}")
    assert r.status_code == 204, describe_response(r)
    r = rest.simple(pid, auth=(a["username"], a["token"]))
    assert r.status_code == 401, describe_response(r)
    left = rest.ok("GET", f"{base}/deploy_tokens")
    assert all(t["id"] != a["id"] or t["revoked"] for t in left), left
    assert b["id"] in {t["id"] for t in left if not t["revoked"]}, left

    obj.deploytokens.delete(b["id"])
    r = rest.simple(pid, auth=("__token__", b["token"]))
    assert r.status_code == 401, describe_response(r)
    assert rest.status("DELETE", f"{base}/deploy_tokens/999999") == 404


# ---------------------------------------------------------------- packages

def test_packages_filters_ordering_and_files(rest, tmp_path):
    wh = rest.wh
    wh.group("g")
    p = wh.project("g/p")
    other = wh.project("g/other")
    pid, gid = p["id"], p["namespace"]["id"]
    uploads = [("wh-beta", "1.0"), ("wh-alpha", "2.0"), ("wh-alpha", "1.0")]
    for name, version in uploads:
        rest.upload_wheel(tmp_path, pid, name, version)
    o = rest.upload_wheel(tmp_path, other["id"], "wh-zeta", "9.0")

    def listing(path, **params):
        return [(x["name"], x["version"]) for x in rest.ok("GET", path, params=params)]

    pkgs = f"projects/{pid}/packages"
    assert listing(pkgs) == uploads  # created_at ascending by default
    assert listing(pkgs, order_by="created_at", sort="desc") == uploads[::-1]
    assert listing(pkgs, package_name="wh-alpha", order_by="version") == [
        ("wh-alpha", "1.0"), ("wh-alpha", "2.0")]
    assert listing(pkgs, order_by="name", sort="desc")[0] == ("wh-beta", "1.0")
    assert [n for n, _ in listing(pkgs, order_by="name", sort="asc")] == [
        "wh-alpha", "wh-alpha", "wh-beta"]
    assert len(listing(pkgs, package_type="pypi", order_by="type")) == 3
    assert listing(pkgs, package_type="npm") == []

    grp = f"groups/{gid}/packages"
    assert sorted(listing(grp)) == sorted(uploads + [("wh-zeta", "9.0")])
    assert listing(grp, package_name="wh-zeta") == [("wh-zeta", "9.0")]
    assert listing(grp, order_by="name", sort="asc")[-1] == ("wh-zeta", "9.0")
    g_items = rest.gl.groups.get(gid, lazy=True).packages.list(get_all=True, package_name="wh-zeta")
    assert [(x.name, x.project_id) for x in g_items] == [("wh-zeta", other["id"])]

    one = rest.ok("GET", pkgs, params={"package_name": "wh-beta"})[0]
    got = rest.ok("GET", f"{pkgs}/{one['id']}")
    assert (got["id"], got["name"], got["version"], got["package_type"], got["status"],
            got["project_id"]) == (one["id"], "wh-beta", "1.0", "pypi", "default", pid), got
    datetime.datetime.fromisoformat(got["created_at"].replace("Z", "+00:00"))
    files = rest.ok("GET", f"{pkgs}/{one['id']}/package_files")
    assert len(files) == 1 and files[0]["package_id"] == one["id"], files
    datetime.datetime.fromisoformat(files[0]["created_at"].replace("Z", "+00:00"))
    # a package of another project is not reachable through this one
    zeta = rest.ok("GET", f"projects/{other['id']}/packages")[0]
    assert rest.status("GET", f"{pkgs}/{zeta['id']}") == 404
    assert rest.status("DELETE", f"{pkgs}/{zeta['id']}") == 404
    assert rest.status("DELETE", f"{pkgs}/{one['id']}/package_files/999999") == 404
    assert page_files(rest, other["id"], "wh-zeta", ("__token__", rest.token)) == [o.filename]

    # deleting the last file of a release deletes the release
    r = rest.call("DELETE", f"{pkgs}/{one['id']}/package_files/{files[0]['id']}")
    assert r.status_code == 204, describe_response(r)
    assert rest.simple(pid, "simple/wh-beta", auth=("__token__", rest.token)).status_code == 404
    assert ("wh-beta", "1.0") not in listing(pkgs)
    r = rest.call("DELETE", f"{pkgs}/{rest.ok('GET', pkgs, params={'package_name': 'wh-alpha'})[0]['id']}")
    assert r.status_code == 204, describe_response(r)
    assert len(listing(pkgs)) == 1
