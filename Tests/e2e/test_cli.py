"""The admin CLI, run against the data dir of a running server: JSON output and errors."""
import re

import pytest

from whlib import describe

ROLES = {"guest": 10, "reporter": 20, "developer": 30, "maintainer": 40, "owner": 50}


def test_user_create(server):
    u = server.user("cli-user")
    assert isinstance(u["id"], int) and u["username"] == "cli-user" and u["is_admin"] is False, u
    a = server.user("cli-admin", admin=True)
    assert a["is_admin"] is True and a["id"] != u["id"], a


def test_token_create(server):
    u = server.user("cli-tok")
    t = server.token("cli-tok", "api", "read_api", name="ci", expires_at="2031-01-02")
    assert t["name"] == "ci" and t["user_id"] == u["id"], t
    assert sorted(t["scopes"]) == ["api", "read_api"], t
    assert t["expires_at"] == "2031-01-02", t
    assert isinstance(t["token"], str) and len(t["token"]) >= 20, t
    t2 = server.token("cli-tok", "read_api")
    assert t2["expires_at"] is None and t2["token"] != t["token"] and t2["id"] != t["id"], t2


def test_group_and_subgroup_create(server):
    g = server.group("cli-g", "internal")
    assert (g["path"], g["full_path"], g["parent_id"], g["visibility"]) == (
        "cli-g", "cli-g", None, "internal"), g
    s = server.group("cli-g/sub")
    assert (s["path"], s["full_path"], s["parent_id"], s["visibility"]) == (
        "sub", "cli-g/sub", g["id"], "private"), s


def test_project_create_in_group_and_user_namespace(server):
    server.group("cli-pg")
    p = server.cli_json("project", "create", "cli-pg/lib")
    assert p["path"] == "lib" and p["path_with_namespace"] == "cli-pg/lib", p
    assert p["visibility"] == "private", p
    assert p["namespace"]["full_path"] == "cli-pg" and p["namespace"]["kind"] == "group", p
    server.user("cli-owner")
    q = server.project("cli-owner/tools", "public")
    assert q["namespace"]["kind"] == "user" and q["namespace"]["full_path"] == "cli-owner", q
    assert q["visibility"] == "public" and q["id"] != p["id"], q


@pytest.mark.parametrize("role", list(ROLES))
def test_member_add_roles(server, role):
    u = server.user(f"cli-m-{role}")
    server.group(f"cli-mg-{role}")
    server.project(f"cli-mg-{role}/p")
    m = server.member(f"cli-m-{role}", role, group=f"cli-mg-{role}")
    assert (m["id"], m["username"], m["access_level"]) == (u["id"], u["username"], ROLES[role]), m
    m = server.member(f"cli-m-{role}", role, project=f"cli-mg-{role}/p")
    assert m["access_level"] == ROLES[role], m


def test_deploy_token_create(server):
    server.group("cli-dt")
    server.project("cli-dt/lib")
    t = server.deploy_token("read_package_registry", "write_package_registry", group="cli-dt",
                            name="ci-deploy")
    assert t["name"] == "ci-deploy" and sorted(t["scopes"]) == [
        "read_package_registry", "write_package_registry"], t
    assert t["username"] and t["token"] and t["expires_at"] is None, t
    p = server.deploy_token("read_package_registry", project="cli-dt/lib")
    assert p["scopes"] == ["read_package_registry"] and p["token"] != t["token"], p


@pytest.fixture(scope="module")
def err_setup(server):
    server.user("cli-err")
    server.group("cli-err-g")
    server.project("cli-err-g/p")


@pytest.mark.parametrize("args", [
    ["token", "create", "--user", "no-such-user", "--name", "x", "--scope", "api"],
    ["token", "create", "--user", "cli-err", "--name", "x", "--scope", "sudo-everything"],
    ["token", "create", "--user", "cli-err", "--name", "x", "--scope", "api",
     "--expires-at", "next tuesday"],
    ["group", "create", "cli-err-g"],
    ["group", "create", "no-such-parent/child"],
    ["group", "create", "cli-bad-vis", "--visibility", "secret"],
    ["project", "create", "cli-err-g/p"],
    ["project", "create", "no-such-namespace/p"],
    ["member", "add", "--user", "cli-err", "--project", "cli-err-g/p", "--role", "superuser"],
    ["member", "add", "--user", "no-such-user", "--group", "cli-err-g", "--role", "guest"],
    ["member", "add", "--user", "cli-err", "--project", "cli-err-g/none", "--role", "guest"],
    ["deploy-token", "create", "--project", "cli-err-g/p", "--name", "d", "--scope", "api"],
    ["user", "create", "cli-err"],
    ["project", "create", "cli-err-g/open", "--visibility", "public"],
    ["group", "create", "cli-err-g/open", "--visibility", "internal"],
], ids=lambda a: "-".join(a[:2]) + ":" + a[-1])
def test_bad_input_exits_nonzero_with_one_line(server, err_setup, args):
    proc = server.cli(*args, "--json")
    assert proc.returncode != 0, describe(proc)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, describe(proc)
    assert not proc.stdout.strip(), describe(proc)
    assert not re.search(r"(?i)fatal error|stack|backtrace", proc.stderr), describe(proc)
