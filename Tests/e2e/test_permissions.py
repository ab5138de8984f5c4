"""Who may read and upload what: the status-code matrix, header styles, group filtering."""
import itertools

import pytest

from distributions import wheel
from whlib import describe_response, enc, parse_links

_seq = itertools.count(1)

# caller -> how to authenticate (see `creds`)
CALLERS = {
    "anonymous": None,
    "wrong_token": ("pat", "glpat-not-a-real-token-000000"),
    "expired": ("pat", "dave_expired"),
    "expires_tomorrow": ("pat", "dave_tomorrow"),
    "admin": ("pat", "root"),
    "guest": ("pat", "gus"),
    "outsider": ("pat", "otto"),
    "other_subproject_reporter": ("pat", "sam"),
    "reporter": ("pat", "rita"),
    "developer": ("pat", "dave"),
    "developer_read_api": ("pat", "dave_ro"),
    "group_owner": ("pat", "alice"),
    "deploy_read": ("dt", "lib_read"),
    "deploy_write": ("dt", "lib_write"),
    "deploy_expired": ("dt", "lib_expired"),
    "deploy_other_project": ("dt", "other_read"),
    "deploy_group_write": ("dt", "acme_write"),
}

# caller -> (read status, upload status) on the private project acme/lib
PRIVATE_MATRIX = {
    "anonymous": (401, 401),
    "wrong_token": (401, 401),
    "expired": (401, 401),
    "expires_tomorrow": (200, 201),
    "admin": (200, 201),
    "guest": (403, 403),
    "outsider": (404, 404),
    "other_subproject_reporter": (404, 404),
    "reporter": (200, 403),
    "developer": (200, 201),
    "developer_read_api": (200, 403),
    "group_owner": (200, 201),
    "deploy_read": (200, 403),
    "deploy_write": (200, 201),
    "deploy_expired": (401, 401),
    "deploy_other_project": (404, 404),
    "deploy_group_write": (200, 201),
}


def creds(world, caller):
    spec = CALLERS[caller]
    if spec is None:
        return None
    kind, key = spec
    table = world.tok if kind == "pat" else world.dt
    return ("__token__", table.get(key, key))


def try_upload(server, tmp_path, pid, auth=None, headers=None):
    n = next(_seq)
    d = wheel("wh-perm", f"1.0.{n}", dest=tmp_path)
    return server.upload(pid, d.data, d.filename, name="wh-perm", version=f"1.0.{n}",
                         auth=auth, headers=headers), d


def assert_status(r, expected):
    assert r.status_code == expected, describe_response(r)
    if expected == 401:
        assert r.headers.get("WWW-Authenticate", "").lower().startswith("basic"), \
            describe_response(r)


@pytest.mark.parametrize("caller", list(PRIVATE_MATRIX))
def test_private_project_read(server, world, caller):
    read, _ = PRIVATE_MATRIX[caller]
    pid = world.pid("acme/lib")
    demo = world.files["demo"]
    auth = creds(world, caller)
    for path in ("simple", "simple/wh-demo", f"files/{demo.sha256}/{demo.filename}"):
        r = server.get(f"{server.project_url(pid)}/{path}", auth=auth)
        assert_status(r, read)
        if read == 200 and path.startswith("files"):
            assert r.content == demo.data


@pytest.mark.parametrize("caller", list(PRIVATE_MATRIX))
def test_private_project_upload(server, world, caller, tmp_path):
    _, upload = PRIVATE_MATRIX[caller]
    r, d = try_upload(server, tmp_path, world.pid("acme/lib"), auth=creds(world, caller))
    assert_status(r, upload)
    listed = d.filename in server.get(f"{server.project_url(world.pid('acme/lib'))}/simple/wh-perm",
                                      auth=world.alice).text
    assert listed == (upload == 201)


def test_group_deploy_token_uploads_to_subgroup_project(server, world, tmp_path):
    r, _ = try_upload(server, tmp_path, world.pid("acme/sub/drop"),
                      auth=("x", world.dt["acme_write"]))
    assert_status(r, 201)


@pytest.mark.parametrize("caller,expected", [("anonymous", 401), ("outsider", 404),
                                             ("group_owner", 404)])
def test_unknown_project(server, world, caller, expected):
    """Anonymous callers cannot tell a missing project from a private one."""
    for pid in ("999999", enc("acme/nope")):
        assert_status(server.get(f"{server.project_url(pid)}/simple", auth=creds(world, caller)),
                      expected)


@pytest.mark.parametrize("caller", ["anonymous", "outsider"])
def test_public_project(server, world, caller, tmp_path):
    url = server.project_url(world.pid("pub/open"))
    demo = world.files["demo"]
    auth = creds(world, caller)
    assert_status(server.get(f"{url}/simple/wh-demo", auth=auth), 200)
    r = server.get(f"{url}/files/{demo.sha256}/{demo.filename}", auth=auth)
    assert_status(r, 200)
    assert r.content == demo.data
    r, _ = try_upload(server, tmp_path, world.pid("pub/open"), auth=auth)
    assert_status(r, 401 if caller == "anonymous" else 403)


def test_private_project_in_public_group_needs_credentials(server, world):
    url = server.project_url(world.pid("pub/secret"))
    assert_status(server.get(f"{url}/simple"), 401)
    assert_status(server.get(f"{url}/simple", auth=creds(world, "outsider")), 404)


@pytest.mark.parametrize("caller,read,upload", [("anonymous", 401, 401), ("outsider", 200, 403),
                                                ("group_owner", 200, 201)])
def test_internal_project_is_readable_by_any_signed_in_user(server, world, tmp_path, caller,
                                                            read, upload):
    url = server.project_url(world.pid("corp/tools"))
    auth = creds(world, caller)
    corp = world.files["corp"]
    assert_status(server.get(f"{url}/simple/wh-corp", auth=auth), read)
    assert_status(server.get(f"{url}/files/{corp.sha256}/{corp.filename}", auth=auth), read)
    r, _ = try_upload(server, tmp_path, world.pid("corp/tools"), auth=auth)
    assert_status(r, upload)


@pytest.mark.parametrize("style", ["basic", "basic_any_user", "private_token", "bearer",
                                   "deploy_token_header", "bearer_deploy_token"])
def test_header_styles(server, world, style, tmp_path):
    good = world.dt["lib_write"] if "deploy" in style else world.tok["dave"]
    bad = "definitely-not-a-token"

    def auth_for(tok):
        if style == "basic":
            return {"auth": ("__token__", tok)}
        if style == "basic_any_user":
            return {"auth": ("whoever", tok)}
        name = {"private_token": "PRIVATE-TOKEN", "deploy_token_header": "Deploy-Token"}.get(style)
        return {"headers": {name: tok} if name else {"Authorization": f"Bearer {tok}"}}

    url = f"{server.project_url(world.pid('acme/lib'))}/simple/wh-demo"
    assert_status(server.get(url, **auth_for(good)), 200)
    assert_status(server.get(url, **auth_for(bad)), 401)
    r, _ = try_upload(server, tmp_path, world.pid("acme/lib"), **auth_for(good))
    assert_status(r, 201)


# ---------------------------------------------------------------- group pages

def names_on(server, url, auth):
    r = server.get(url, auth=auth)
    assert r.status_code == 200, describe_response(r)
    return {link.text for link in parse_links(r.text)}


@pytest.mark.parametrize("by", ["id", "path"])
def test_group_index_lists_every_readable_project_including_subgroups(server, world, by):
    gid = world.gid("acme") if by == "id" else enc("acme")
    names = names_on(server, f"{server.group_url(gid)}/simple", world.alice)
    assert {"wh-demo", "wh-other", "wh-sub"} <= names, names
    names = names_on(server, f"{server.group_url(gid)}/simple", ("d", world.dt["acme_write"]))
    assert {"wh-demo", "wh-other", "wh-sub"} <= names, names
    sub = names_on(server, f"{server.group_url(enc('acme/sub'))}/simple", world.alice)
    assert "wh-sub" in sub and "wh-demo" not in sub and "wh-other" not in sub, sub


def test_group_index_shows_a_project_member_only_their_project(server, world):
    url = server.group_url(world.gid("acme"))
    sam = ("__token__", world.tok["sam"])
    assert names_on(server, f"{url}/simple", sam) == {"wh-sub"}
    r = server.get(f"{url}/simple/wh-demo", auth=sam)
    assert r.status_code == 404 or not parse_links(r.text), describe_response(r)
    sub = world.files["sub"]
    r = server.get(f"{url}/files/{sub.sha256}/{sub.filename}", auth=sam)
    assert r.status_code == 200 and r.content == sub.data, describe_response(r)


def test_group_file_download_checks_the_project(server, world):
    """Knowing a file's sha256 is not enough: the project itself must be readable."""
    url = server.group_url(world.gid("acme"))
    demo = world.files["demo"]
    sam = ("__token__", world.tok["sam"])
    assert_status(server.get(f"{url}/files/{demo.sha256}/{demo.filename}", auth=sam), 404)
    secret = world.files["secret"]
    pub = server.group_url(world.gid("pub"))
    for who in ("outsider", "reporter"):
        r = server.get(f"{pub}/files/{secret.sha256}/{secret.filename}", auth=creds(world, who))
        assert_status(r, 404)


def test_group_pages_for_outsiders(server, world):
    acme = server.group_url(world.gid("acme"))
    assert_status(server.get(f"{acme}/simple"), 401)
    assert_status(server.get(f"{acme}/simple", auth=creds(world, "outsider")), 404)
    pub = server.group_url(enc("pub"))
    for auth in (None, creds(world, "outsider")):
        assert names_on(server, f"{pub}/simple", auth) == {"wh-demo"}
        r = server.get(f"{pub}/simple/wh-secret", auth=auth)
        assert r.status_code in (401, 404) or not parse_links(r.text), describe_response(r)
