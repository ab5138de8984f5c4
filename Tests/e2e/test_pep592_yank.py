"""PEP 592: yanking and unyanking releases and single files through the API and the CLI, what
the pages then say (JSON and HTML), pip and uv skipping a yanked release unless pinned, and who
may yank."""
from __future__ import annotations

import time

import pytest

from distributions import sdist, wheel
from simple_api import JSON_T, Tags, files_by_name, get_json, put
from whlib import describe, describe_response, index_url, upload_ok


def pick(clients, tool, idx, req):
    t = clients.target()
    install = clients.pip_install if tool == "pip" else clients.uv_install
    proc = install(idx, req, target=t)
    assert proc.returncode == 0, describe(proc)
    return clients.imported(t, "wh_yk"), proc


def test_yank_and_unyank_release_via_api(server, world, fresh_project, clients, tmp_path):
    p = fresh_project()
    server.user("ix-maint")
    maint = ("__token__", server.token("ix-maint", "api")["token"])
    server.member("ix-maint", "maintainer", project=p["path_with_namespace"])
    w10 = wheel("wh-yk", "1.0", dest=tmp_path / "a")
    w11 = wheel("wh-yk", "1.1", dest=tmp_path / "b")
    s11 = sdist("wh-yk", "1.1", dest=tmp_path / "b")
    upload_ok(server, p["id"], w10, "wh-yk", "1.0", world.alice)
    upload_ok(server, p["id"], w11, "wh-yk", "1.1", world.alice)
    upload_ok(server, p["id"], s11, "wh-yk", "1.1", world.alice)
    page_url_ = f"{p['url']}/simple/wh-yk"
    group_page = f"{server.group_url(world.gid('flow'))}/simple/wh-yk"
    etag_before = server.get(page_url_, auth=world.alice, headers={"Accept": JSON_T}).headers.get(
        "ETag")
    idx = index_url(p["url"], world.tok["alice"])
    assert pick(clients, "pip", idx, "wh-yk")[0] == "1.1"  # control: 1.1 is the pick

    r = put(server, p["id"], "yank", {"name": "wh-yk", "version": "1.1",
                                      "reason": "broken build"}, maint)
    assert r.status_code == 200, describe_response(r)
    body = r.json()
    assert isinstance(body.get("message"), str), describe_response(r)
    assert sorted(body["files"]) == sorted([w11.filename, s11.filename]), describe_response(r)

    for url in (page_url_, group_page):
        files = files_by_name(get_json(server, url, world.alice))
        assert files[w10.filename]["yanked"] is False, files
        for f in (w11, s11):
            assert files[f.filename]["yanked"] == "broken build", files
    r = server.get(page_url_, auth=world.alice, headers={"Accept": "text/html"})
    links = Tags(r.text).by_text()
    assert "data-yanked" not in links[w10.filename], r.text
    assert links[w11.filename].get("data-yanked") == "broken build", r.text
    assert links[s11.filename].get("data-yanked") == "broken build", r.text
    etag_yanked = server.get(page_url_, auth=world.alice, headers={"Accept": JSON_T}).headers.get(
        "ETag")
    assert etag_yanked and etag_yanked != etag_before, (etag_before, etag_yanked)

    for tool in ("pip", "uv"):
        assert pick(clients, tool, idx, "wh-yk")[0] == "1.0", tool
        version, proc = pick(clients, tool, idx, "wh-yk==1.1")
        assert version == "1.1", tool
        out = proc.stdout + proc.stderr
        assert "yanked" in out.lower() and "broken build" in out, describe(proc)

    r = put(server, p["id"], "unyank", {"name": "wh-yk", "version": "1.1"}, world.alice)
    assert r.status_code == 200, describe_response(r)
    assert sorted(r.json()["files"]) == sorted([w11.filename, s11.filename]), describe_response(r)
    files = files_by_name(get_json(server, page_url_, world.alice))
    assert all(f["yanked"] is False for f in files.values()), files
    r = server.get(page_url_, auth=world.alice, headers={"Accept": "text/html"})
    assert not any("data-yanked" in a for a in Tags(r.text).by_text().values()), r.text
    for tool in ("pip", "uv"):
        assert pick(clients, tool, idx, "wh-yk")[0] == "1.1", tool


def test_yank_single_file(server, world, fresh_project, tmp_path):
    p = fresh_project()
    w = wheel("wh-one", "1.0", dest=tmp_path)
    s = sdist("wh-one", "1.0", dest=tmp_path)
    upload_ok(server, p["id"], w, "wh-one", "1.0", world.alice)
    upload_ok(server, p["id"], s, "wh-one", "1.0", world.alice)
    url = f"{p['url']}/simple/wh-one"
    r = put(server, p["id"], "yank", {"name": "wh-one", "version": "1.0", "file_name": s.filename,
                                      "reason": "sdist is broken"}, world.alice)
    assert r.status_code == 200, describe_response(r)
    assert r.json()["files"] == [s.filename], describe_response(r)
    files = files_by_name(get_json(server, url, world.alice))
    assert files[s.filename]["yanked"] == "sdist is broken", files
    assert files[w.filename]["yanked"] is False, files
    r = server.get(url, auth=world.alice, headers={"Accept": "text/html"})
    links = Tags(r.text).by_text()
    assert links[s.filename].get("data-yanked") == "sdist is broken", r.text
    assert "data-yanked" not in links[w.filename], r.text
    # A yank without a reason still marks the file (attribute present, JSON truthy).
    r = put(server, p["id"], "yank", {"name": "wh-one", "version": "1.0",
                                      "file_name": w.filename}, world.alice)
    assert r.status_code == 200, describe_response(r)
    assert r.json()["files"] == [w.filename], describe_response(r)
    files = files_by_name(get_json(server, url, world.alice))
    assert files[w.filename]["yanked"] not in (False, None), files
    r = server.get(url, auth=world.alice, headers={"Accept": "text/html"})
    assert "data-yanked" in Tags(r.text).by_text()[w.filename], r.text
    # Unyank only the sdist.
    r = put(server, p["id"], "unyank", {"name": "wh-one", "version": "1.0",
                                        "file_name": s.filename}, world.alice)
    assert r.status_code == 200, describe_response(r)
    assert r.json()["files"] == [s.filename], describe_response(r)
    files = files_by_name(get_json(server, url, world.alice))
    assert files[s.filename]["yanked"] is False and files[w.filename]["yanked"], files


# ---------------------------------------------------------------- permissions

@pytest.fixture(scope="module")
def perm(server, world, tmp_path_factory):
    """ixstd/perm (private) with wh-perm 1.0, a maintainer, developer, reporter, outsider and
    deploy tokens of its own."""
    p = server.project("flow/ixstd-perm", "private")
    tok = {}
    for user, role in (("ixp-maint", "maintainer"), ("ixp-dev", "developer"),
                       ("ixp-rep", "reporter"), ("ixp-out", None)):
        server.user(user)
        tok[user] = server.token(user, "api")["token"]
        if role:
            server.member(user, role, project="flow/ixstd-perm")
    tok["maint_ro"] = server.token("ixp-maint", "read_api")["token"]
    dt_w = server.deploy_token("read_package_registry", "write_package_registry",
                               project="flow/ixstd-perm")
    dt_r = server.deploy_token("read_package_registry", project="flow/ixstd-perm")
    w = wheel("wh-perm", "1.0", dest=tmp_path_factory.mktemp("perm"))
    upload_ok(server, p["id"], w, "wh-perm", "1.0", world.alice)
    auth = {
        "maintainer": ("__token__", tok["ixp-maint"]),
        "owner": world.alice,
        "developer": ("__token__", tok["ixp-dev"]),
        "reporter": ("__token__", tok["ixp-rep"]),
        "maintainer_read_api": ("__token__", tok["maint_ro"]),
        "deploy_write": (dt_w["username"], dt_w["token"]),
        "deploy_read": (dt_r["username"], dt_r["token"]),
        "anonymous": None,
        "outsider": ("__token__", tok["ixp-out"]),
    }
    return dict(project=p, auth=auth, wheel=w)


YANK_MATRIX = {"developer": 403, "reporter": 403, "maintainer_read_api": 403,
               "deploy_write": 403, "deploy_read": 403, "anonymous": 401, "outsider": 404}


@pytest.mark.parametrize("action", ["yank", "unyank"])
@pytest.mark.parametrize("caller", list(YANK_MATRIX))
def test_yank_permissions(server, world, perm, caller, action):
    pid = perm["project"]["id"]
    url = f"{server.project_url(pid)}/simple/wh-perm"
    if action == "unyank":  # something to unyank
        r = put(server, pid, "yank", {"name": "wh-perm", "version": "1.0", "reason": "x"},
                perm["auth"]["maintainer"])
        assert r.status_code == 200, describe_response(r)
    try:
        body = {"name": "wh-perm", "version": "1.0"}
        if action == "yank":
            body["reason"] = "should not stick"
        r = put(server, pid, action, body, perm["auth"][caller])
        assert r.status_code == YANK_MATRIX[caller], describe_response(r)
        if r.status_code == 401:
            assert r.headers.get("WWW-Authenticate", "").lower().startswith("basic"), \
                describe_response(r)
        (f,) = get_json(server, url, world.alice)["files"]
        assert bool(f["yanked"]) == (action == "unyank"), f"{caller} changed the state: {f}"
    finally:
        put(server, pid, "unyank", {"name": "wh-perm", "version": "1.0"}, world.alice)


@pytest.mark.parametrize("body,expected", [
    ({"name": "wh-perm", "version": "9.9"}, (404,)),
    ({"name": "no-such-package", "version": "1.0"}, (404,)),
    ({"name": "wh-perm", "version": "1.0", "file_name": "wh_perm-1.0.tar.gz"}, (404, 400)),
], ids=["unknown-version", "unknown-name", "unknown-file"])
@pytest.mark.parametrize("action", ["yank", "unyank"])
def test_yank_unknown_release(server, world, perm, body, expected, action):
    pid = perm["project"]["id"]
    r = put(server, pid, action, body, perm["auth"]["maintainer"])
    assert r.status_code in expected, describe_response(r)
    (f,) = get_json(server, f"{server.project_url(pid)}/simple/wh-perm", world.alice)["files"]
    assert f["yanked"] is False, f


def test_yank_by_normalized_name_and_maintainer_token(server, world, perm):
    pid = perm["project"]["id"]
    url = f"{server.project_url(pid)}/simple/wh-perm"
    try:
        r = put(server, pid, "yank", {"name": "WH_Perm", "version": "1.0", "reason": "norm"},
                perm["auth"]["maintainer"])
        assert r.status_code == 200, describe_response(r)
        assert r.json()["files"] == [perm["wheel"].filename], describe_response(r)
        (f,) = get_json(server, url, world.alice)["files"]
        assert f["yanked"] == "norm", f
    finally:
        r = put(server, pid, "unyank", {"name": "wh-perm", "version": "1.0"},
                perm["auth"]["maintainer"])
        assert r.status_code == 200, describe_response(r)


# ---------------------------------------------------------------- CLI

def test_yank_and_unyank_via_cli(server, world, fresh_project, tmp_path):
    p = fresh_project()
    w10 = wheel("wh-cli", "1.0", dest=tmp_path / "a")
    w11 = wheel("wh-cli", "1.1", dest=tmp_path / "b")
    s11 = sdist("wh-cli", "1.1", dest=tmp_path / "b")
    for d, v in ((w10, "1.0"), (w11, "1.1"), (s11, "1.1")):
        upload_ok(server, p["id"], d, "wh-cli", v, world.alice)
    url = f"{p['url']}/simple/wh-cli"
    path = p["path_with_namespace"]

    def cli_change(*args):
        out = server.cli_json(*args)
        # The CLI is another process: the server sees its change once its view of the
        # projects' versions is renewed, within 250 ms (README, "Caching").
        time.sleep(0.35)
        return out

    out = cli_change("yank", "--project", path, "--name", "wh-cli", "--version", "1.1",
                          "--reason", "cli says no")
    assert sorted(out.get("files", [])) == sorted([w11.filename, s11.filename]), out
    files = files_by_name(get_json(server, url, world.alice))
    assert files[w11.filename]["yanked"] == "cli says no", files
    assert files[s11.filename]["yanked"] == "cli says no", files
    assert files[w10.filename]["yanked"] is False, files

    out = cli_change("unyank", "--project", path, "--name", "wh-cli", "--version", "1.1",
                          "--file", s11.filename)
    assert out.get("files") == [s11.filename], out
    files = files_by_name(get_json(server, url, world.alice))
    assert files[s11.filename]["yanked"] is False and files[w11.filename]["yanked"], files

    out = cli_change("unyank", "--project", path, "--name", "wh-cli", "--version", "1.1")
    files = files_by_name(get_json(server, url, world.alice))
    assert all(f["yanked"] is False for f in files.values()), files

    out = cli_change("yank", "--project", path, "--name", "wh-cli", "--version", "1.0",
                          "--file", w10.filename)
    assert out.get("files") == [w10.filename], out
    files = files_by_name(get_json(server, url, world.alice))
    assert files[w10.filename]["yanked"], files

    for args in (["yank", "--project", path, "--name", "wh-cli", "--version", "7.7"],
                 ["unyank", "--project", path, "--name", "nope", "--version", "1.0"],
                 ["yank", "--project", "flow/no-such-project", "--name", "wh-cli",
                  "--version", "1.0"]):
        proc = server.cli(*args, "--json")
        assert proc.returncode != 0, describe(proc)
        assert len([ln for ln in proc.stderr.splitlines() if ln.strip()]) == 1, describe(proc)
        assert not proc.stdout.strip(), describe(proc)
