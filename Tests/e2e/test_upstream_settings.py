"""Issue 12's settings: GitLab's application settings API for package request forwarding and the
upstream index, the same settings through `wheelhouse settings`, the per-group override through
`PUT /groups/:id` and `wheelhouse group update --pypi-forwarding`, and who inherits what.

Whether forwarding is on for a scope is observed in redirect mode, which answers a forwarded
name with a 302 and fetches nothing: the upstream URL here is a closed local port on purpose."""
from __future__ import annotations

import re
import time
import uuid
from types import SimpleNamespace

import pytest

from server import free_port
from whlib import Wheelhouse, describe, describe_response, enc

SETTINGS = "application/settings"
DEFAULTS = {
    "pypi_package_requests_forwarding": False,
    "pypi_package_requests_forwarding_mode": "cache",
    "pypi_upstream_url": None,
    "pypi_upstream_username": None,
    "pypi_upstream_password_set": False,
    "pypi_upstream_ttl_seconds": 600,
}
# Never fetched: redirect mode only names it in Location.
UPSTREAM = f"http://127.0.0.1:{free_port()}/simple/"
NOWHERE = "wh-nowhere-upstream"  # a name no project has


class Hub:
    """One server for the module: an administrator `root`, a plain user `alice`, raw REST."""

    def __init__(self, wh: Wheelhouse):
        self.wh = wh
        wh.user("root", admin=True)
        self.root = wh.token("root", "api")["token"]
        wh.user("alice")
        self.alice = wh.token("alice", "api")["token"]

    def call(self, method, path, token=None, **kw):
        headers = {"PRIVATE-TOKEN": token} if token else {}
        return self.wh.http.request(method, f"{self.wh.api}/{path}", headers=headers, timeout=30,
                                    allow_redirects=False, **kw)

    def settings(self) -> dict:
        r = self.call("GET", SETTINGS, self.root)
        assert r.status_code == 200, describe_response(r)
        return r.json()

    def put(self, token=None, **kw):
        return self.call("PUT", SETTINGS, token or self.root, **kw)

    def set(self, **fields) -> dict:
        r = self.put(json=fields)
        assert r.status_code == 200, describe_response(r)
        return r.json()

    def reset(self):
        self.set(pypi_package_requests_forwarding=False)
        self.set(pypi_upstream_url="", pypi_upstream_username="", pypi_upstream_password="",
                 pypi_package_requests_forwarding_mode="cache", pypi_upstream_ttl_seconds=600)


@pytest.fixture(scope="module")
def hub(wheelhouse_bin, tmp_path_factory):
    d = tmp_path_factory.mktemp("upstream-settings")
    wh = Wheelhouse(wheelhouse_bin, d / "data", d / "server.log").start()
    yield Hub(wh)
    wh.stop()


@pytest.fixture
def fresh(hub):
    """The hub with every setting at its default, before and after the test."""
    hub.reset()
    yield hub
    hub.reset()


def assert_field_400(r, fields):
    """A 400 whose message names one of `fields` (a name or a tuple of the acceptable ones)
    with a list of problems."""
    assert r.status_code == 400, describe_response(r)
    message = r.json().get("message")
    named = [f for f in ((fields,) if isinstance(fields, str) else fields)
             if isinstance(message, dict) and f in message]
    assert named, describe_response(r)
    problems = message[named[0]]
    assert isinstance(problems, list) and problems and all(isinstance(p, str) and p
                                                           for p in problems), describe_response(r)


# ---------------------------------------------------------------- the API

def test_defaults_and_who_may_read_or_change(make_server):
    hub = Hub(make_server(name="defaults"))
    assert hub.settings() == DEFAULTS
    for method, kw in (("GET", {}), ("PUT", {"json": {"pypi_upstream_ttl_seconds": 5}})):
        r = hub.call(method, SETTINGS, None, **kw)
        assert r.status_code == 401, describe_response(r)
        r = hub.call(method, SETTINGS, hub.alice, **kw)
        assert r.status_code == 403, describe_response(r)
    assert hub.settings() == DEFAULTS


def test_put_json_changes_only_the_fields_given_and_answers_the_whole_object(fresh):
    hub = fresh
    got = hub.set(pypi_upstream_url=UPSTREAM)
    assert got == {**DEFAULTS, "pypi_upstream_url": UPSTREAM}, got
    got = hub.set(pypi_upstream_ttl_seconds=30)
    assert got == {**DEFAULTS, "pypi_upstream_url": UPSTREAM, "pypi_upstream_ttl_seconds": 30}, got
    got = hub.set(pypi_package_requests_forwarding=True,
                  pypi_package_requests_forwarding_mode="redirect")
    want = {**DEFAULTS, "pypi_upstream_url": UPSTREAM, "pypi_upstream_ttl_seconds": 30,
            "pypi_package_requests_forwarding": True,
            "pypi_package_requests_forwarding_mode": "redirect"}
    assert got == want, got
    assert hub.settings() == want
    for ttl in (0, 2592000):  # the bounds are allowed
        assert hub.set(pypi_upstream_ttl_seconds=ttl)["pypi_upstream_ttl_seconds"] == ttl


def test_password_is_write_only(fresh):
    hub = fresh
    secret = "upstream-pw-" + "x7Q" * 5
    r = hub.put(json={"pypi_upstream_username": "mirror-bot", "pypi_upstream_password": secret})
    assert r.status_code == 200, describe_response(r)
    assert secret not in r.text, describe_response(r)
    got = r.json()
    assert "pypi_upstream_password" not in got, got
    assert (got["pypi_upstream_username"], got["pypi_upstream_password_set"]) == ("mirror-bot", True)
    r = hub.call("GET", SETTINGS, hub.root)
    assert secret not in r.text and r.json() == got, describe_response(r)
    show = hub.wh.cli("settings", "show")
    assert show.returncode == 0 and secret not in show.stdout + show.stderr, describe(show)
    assert secret not in hub.wh.log_path.read_text(errors="replace"), "password in the server log"


def test_put_form_parameters(fresh):
    hub = fresh
    r = hub.put(data={"pypi_upstream_url": UPSTREAM, "pypi_package_requests_forwarding": "true",
                      "pypi_package_requests_forwarding_mode": "redirect",
                      "pypi_upstream_ttl_seconds": "45", "pypi_upstream_username": "bot"})
    assert r.status_code == 200, describe_response(r)
    want = {**DEFAULTS, "pypi_upstream_url": UPSTREAM, "pypi_package_requests_forwarding": True,
            "pypi_package_requests_forwarding_mode": "redirect", "pypi_upstream_ttl_seconds": 45,
            "pypi_upstream_username": "bot"}
    assert r.json() == want and hub.settings() == want, describe_response(r)
    r = hub.put(data={"pypi_package_requests_forwarding": "false"})
    assert r.status_code == 200 and r.json()["pypi_package_requests_forwarding"] is False, \
        describe_response(r)


FORWARDING_ON = {"pypi_upstream_url": UPSTREAM, "pypi_package_requests_forwarding": True}
F, URL, MODE, TTL = ("pypi_package_requests_forwarding", "pypi_upstream_url",
                     "pypi_package_requests_forwarding_mode", "pypi_upstream_ttl_seconds")


@pytest.mark.parametrize("setup,body,field", [
    (None, {"json": {F: True}}, F),  # no upstream URL
    (None, {"json": {F: True, URL: ""}}, (F, URL)),
    (None, {"json": {URL: "ftp://127.0.0.1/simple/"}}, URL),
    (None, {"json": {URL: "file:///etc/passwd"}}, URL),
    (None, {"json": {URL: "not a url"}}, URL),
    (None, {"json": {URL: "/simple/"}}, URL),
    (None, {"json": {URL: "http://"}}, URL),
    (FORWARDING_ON, {"json": {URL: ""}}, (URL, F)),  # clearing it under forwarding
    (FORWARDING_ON, {"json": {URL: "javascript:alert(1)"}}, URL),
    (None, {"json": {MODE: "mirror"}}, MODE),
    (None, {"json": {MODE: ""}}, MODE),
    (None, {"json": {TTL: -1}}, TTL),
    (None, {"json": {TTL: 2592001}}, TTL),
    (None, {"json": {TTL: "soon"}}, TTL),
    (None, {"json": {TTL: 1.5}}, TTL),
    (None, {"data": {TTL: "ten"}}, TTL),
    (None, {"data": {F: "maybe"}}, F),
    # one bad field spoils the whole PUT: the good one is not applied either
    (None, {"json": {TTL: 30, "pypi_upstream_username": "u", MODE: "mirror"}}, MODE),
    (None, {"json": {URL: UPSTREAM, F: True, TTL: -5}}, TTL),
], ids=lambda v: v if isinstance(v, str) else "/".join(v) if isinstance(v, tuple) else None)
def test_each_bad_put_is_400_and_changes_nothing(fresh, setup, body, field):
    hub = fresh
    if setup:
        hub.set(**setup)
    before = hub.settings()
    assert_field_400(hub.put(**body), field)
    assert hub.settings() == before


def test_empty_strings_clear_the_username_password_and_url(fresh):
    hub = fresh
    hub.set(pypi_upstream_url=UPSTREAM, pypi_upstream_username="bot", pypi_upstream_password="pw")
    got = hub.set(pypi_upstream_username="", pypi_upstream_password="")
    assert (got["pypi_upstream_username"], got["pypi_upstream_password_set"]) == (None, False), got
    assert hub.set(pypi_upstream_url="")["pypi_upstream_url"] is None


# ---------------------------------------------------------------- the CLI

def show_text(wh) -> dict:
    proc = wh.cli("settings", "show")
    assert proc.returncode == 0, describe(proc)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    pairs = [re.fullmatch(r"([a-z_]+): ?(.*)", ln) for ln in lines]
    assert all(pairs), describe(proc)
    return {m.group(1): m.group(2).strip() for m in pairs}


def test_cli_show_text_and_json_agree_with_the_api(fresh):
    hub = fresh
    text = show_text(hub.wh)
    want_keys = {k for k in DEFAULTS if k != "pypi_upstream_password_set"} | {"pypi_upstream_password"}
    assert set(text) == want_keys, text
    assert (text[F], text[MODE], text[TTL], text["pypi_upstream_password"]) == (
        "false", "cache", "600", "(not set)"), text
    hub.set(**FORWARDING_ON, pypi_upstream_ttl_seconds=45, pypi_upstream_password="pw")
    text = show_text(hub.wh)
    assert (text[F], text[URL], text[TTL], text["pypi_upstream_password"]) == (
        "true", UPSTREAM, "45", "(set)"), text
    assert hub.wh.cli_json("settings", "show") == hub.settings()


def test_cli_set_prints_the_settings_and_reads_the_password_from_stdin(fresh):
    hub, wh = fresh, fresh.wh
    proc = wh.cli("settings", "set", TTL, "42")
    assert proc.returncode == 0 and re.search(rf"(?m)^{TTL}: ?42$", proc.stdout), describe(proc)
    got = wh.cli_json("settings", "set", URL, UPSTREAM)
    assert got == {**DEFAULTS, URL: UPSTREAM, TTL: 42}, got
    wh.cli_json("settings", "set", MODE, "redirect")
    got = wh.cli_json("settings", "set", F, "true")
    assert (got[F], got[MODE]) == (True, "redirect"), got
    wh.cli_json("settings", "set", "pypi_upstream_username", "bot")
    secret = "from-stdin-" + "k9" * 6
    proc = wh.cli("settings", "set", "pypi_upstream_password", "-", "--json", input=secret + "\n")
    assert proc.returncode == 0, describe(proc)
    assert secret not in proc.stdout + proc.stderr, describe(proc)
    assert hub.settings() == {**DEFAULTS, URL: UPSTREAM, TTL: 42, MODE: "redirect", F: True,
                              "pypi_upstream_username": "bot", "pypi_upstream_password_set": True}
    got = wh.cli_json("settings", "set", "pypi_upstream_username", "")
    assert got["pypi_upstream_username"] is None, got
    got = wh.cli_json("settings", "set", "pypi_upstream_password", "")
    assert got["pypi_upstream_password_set"] is False, got


@pytest.mark.parametrize("args", [
    [TTL, "abc"], [TTL, "1.5"], [TTL, "2592001"], [MODE, "mirror"], [URL, "ftp://127.0.0.1/x/"],
    [URL, "nonsense"], [F, "true"], [F, "maybe"], ["pypi_no_such_setting", "1"],
], ids=lambda a: ":".join(a))
def test_cli_bad_value_exits_1_with_one_error_line_and_changes_nothing(fresh, args):
    wh = fresh.wh
    before = fresh.settings()
    proc = wh.cli("settings", "set", *args)
    assert proc.returncode == 1, describe(proc)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), describe(proc)
    assert not re.search(r"(?i)fatal error|backtrace", proc.stderr), describe(proc)
    assert fresh.settings() == before


def wait_for(check, timeout=5.0, poll=0.05):
    """Seconds until check() is true, or None after `timeout`."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if check():
            return time.monotonic() - t0
        time.sleep(poll)
    return None


def test_cli_changes_reach_the_running_server_within_two_seconds(fresh):
    hub, wh = fresh, fresh.wh
    wh.group("live", "public")
    p = wh.project("live/lib", "public")
    page = f"{wh.project_url(p['id'])}/simple/{NOWHERE}"
    assert wh.get(page).status_code == 404

    wh.cli_json("settings", "set", TTL, "77")
    took = wait_for(lambda: hub.settings()[TTL] == 77)
    assert took is not None and took < 2.0, f"the API saw the CLI's ttl after {took} s"

    wh.cli_json("settings", "set", URL, UPSTREAM)
    wh.cli_json("settings", "set", MODE, "redirect")
    wh.cli_json("settings", "set", F, "true")
    took = wait_for(lambda: wh.get(page).status_code == 302)
    assert took is not None and took < 2.0, f"forwarding on after {took} s\n{describe_response(wh.get(page))}"
    wh.cli_json("settings", "set", F, "false")
    took = wait_for(lambda: wh.get(page).status_code == 404)
    assert took is not None and took < 2.0, f"forwarding off after {took} s"


# ---------------------------------------------------------------- per group

def group_field(hub, gid, token=None):
    r = hub.call("GET", f"groups/{gid}", token or hub.root)
    assert r.status_code == 200, describe_response(r)
    return r.json()["pypi_package_requests_forwarding"]


def test_group_override_through_the_api(fresh, tmp_path):
    hub, wh = fresh, fresh.wh
    g = wh.group("ovr")
    wh.member("alice", "owner", group="ovr")
    wh.user("devon")
    devon = wh.token("devon", "api")["token"]
    wh.member("devon", "developer", group="ovr")
    gid = g["id"]
    assert group_field(hub, gid) is None
    listed = {x["id"]: x for x in hub.call("GET", "groups", hub.alice).json()}
    assert listed[gid][F] is None, listed[gid]

    for body, want in (({"json": {F: True}}, True), ({"json": {F: False}}, False),
                       ({"json": {F: None}}, None), ({"data": {F: "true"}}, True),
                       ({"data": {F: "null"}}, None), ({"data": {F: "false"}}, False),
                       ({"data": {F: ""}}, None)):
        r = hub.call("PUT", f"groups/{gid}", hub.alice, **body)  # alice owns the group
        assert r.status_code == 200 and r.json()[F] is want, describe_response(r)
        assert group_field(hub, gid) is want, body
    listed = {x["id"]: x for x in hub.call("GET", "groups", hub.alice).json()}
    assert listed[gid][F] is None, listed[gid]  # after the last PUT above

    hub.call("PUT", f"groups/{gid}", hub.alice, json={F: True})
    r = hub.call("PUT", f"groups/{gid}", hub.alice, data={F: "maybe"})
    assert r.status_code == 400, describe_response(r)
    r = hub.call("PUT", f"groups/{gid}", devon, json={F: False})  # a developer may not
    assert r.status_code == 403, describe_response(r)
    assert group_field(hub, gid) is True


def test_group_update_cli(fresh):
    hub, wh = fresh, fresh.wh
    g = wh.group("ovr-cli")
    wh.group("ovr-cli/sub")
    for value, want in (("true", True), ("false", False), ("inherit", None)):
        got = wh.cli_json("group", "update", "ovr-cli/sub", "--pypi-forwarding", value)
        assert (got["full_path"], got[F]) == ("ovr-cli/sub", want), got
        assert group_field(hub, enc("ovr-cli/sub")) is want
    assert group_field(hub, g["id"]) is None
    proc = wh.cli("group", "update", "ovr-cli", "--pypi-forwarding", "maybe")
    assert proc.returncode != 0 and proc.stderr.strip(), describe(proc)
    proc = wh.cli("group", "update", "no-such-group", "--pypi-forwarding", "true")
    assert proc.returncode != 0 and proc.stderr.strip(), describe(proc)
    assert group_field(hub, g["id"]) is None


# ---------------------------------------------------------------- who follows what

@pytest.fixture
def tree(fresh):
    """Public groups inh and inh/sub, a project in each, a personal project, and the instance
    in redirect mode with forwarding off. `forwards()` is which scopes answer NOWHERE with a
    302 (to the upstream) instead of a 404."""
    hub, wh = fresh, fresh.wh
    tag = f"t{uuid.uuid4().hex[:8]}"
    top, sub = wh.group(tag, "public"), wh.group(f"{tag}/sub", "public")
    lib, deep = wh.project(f"{tag}/lib", "public"), wh.project(f"{tag}/sub/lib", "public")
    wh.user(f"{tag}-pat")
    mine = wh.project(f"{tag}-pat/tools", "public")
    hub.set(pypi_upstream_url=UPSTREAM, pypi_package_requests_forwarding_mode="redirect")
    scopes = {
        "top": wh.group_url(top["id"]), "sub": wh.group_url(sub["id"]),
        "lib": wh.project_url(lib["id"]), "deep": wh.project_url(deep["id"]),
        "personal": wh.project_url(mine["id"]),
    }

    def forwards() -> set[str]:
        on = set()
        for key, base in scopes.items():
            r = wh.get(f"{base}/simple/{NOWHERE}")
            assert r.status_code in (302, 404), describe_response(r)
            if r.status_code == 302:
                assert r.headers["Location"] == f"{UPSTREAM}{NOWHERE}/", describe_response(r)
                on.add(key)
        return on

    def override(group, value):
        gid = top["id"] if group == "top" else sub["id"]
        r = hub.call("PUT", f"groups/{gid}", hub.root, json={F: value})
        assert r.status_code == 200, describe_response(r)

    return SimpleNamespace(hub=hub, forwards=forwards, override=override)


ALL = {"top", "sub", "lib", "deep", "personal"}


def test_scopes_follow_the_instance_without_overrides(tree):
    assert tree.forwards() == set()
    tree.hub.set(pypi_package_requests_forwarding=True)
    assert tree.forwards() == ALL


def test_a_group_override_reaches_its_subgroups_and_projects(tree):
    tree.hub.set(pypi_package_requests_forwarding=True)
    tree.override("top", False)
    assert tree.forwards() == {"personal"}  # the subgroup inherits its parent's false
    tree.override("sub", True)
    assert tree.forwards() == {"sub", "deep", "personal"}  # the nearest override wins
    tree.override("top", None)
    assert tree.forwards() == ALL


def test_a_group_can_forward_while_the_instance_does_not(tree):
    tree.override("sub", True)
    assert tree.forwards() == {"sub", "deep"}
    tree.override("top", True)
    tree.override("sub", None)
    assert tree.forwards() == {"top", "sub", "lib", "deep"}  # personal follows the instance
