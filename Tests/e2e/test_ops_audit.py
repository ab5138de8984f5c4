"""Issue 15, audit events in GitLab's API shape: changes made through the REST API, the PyPI API
and the command line are recorded (author, entity, action, target, details, the client's address)
and read back through GET /api/v4/audit_events (administrators), /groups/:id/audit_events and
/projects/:id/audit_events (maintainers and owners; a developer gets 403, an outsider 404), newest
first, with created_after/created_before and GitLab's pagination, and through
`wheelhouse audit [--project P|--group G] [--json] [--limit N]`. A change that fails records
nothing, and no secret (token, password, password hash, upstream password) is in any event."""
from __future__ import annotations

import datetime
import hashlib
import json
import time
import urllib.parse
from types import SimpleNamespace

import pytest

from distributions import sdist, wheel
from whlib import Wheelhouse, describe, describe_response, upload_ok

pytestmark = pytest.mark.timeout(180)

ITEM_FIELDS = {"id", "author_id", "entity_id", "entity_type", "event_name", "details", "created_at"}
DETAIL_FIELDS = {"author_name", "author_class", "target_id", "target_type", "target_details",
                 "ip_address", "entity_path"}
ENTITY_TYPES = {"User", "Group", "Project", "Instance"}
MAINTAINER, DEVELOPER, REPORTER = 40, 30, 20


def iso(t: float) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Api:
    def __init__(self, wh: Wheelhouse, tokens: dict):
        self.wh, self.tokens = wh, tokens

    def call(self, method, path, who=None, **kw):
        headers = {"PRIVATE-TOKEN": self.tokens[who]} if who else {}
        return self.wh.http.request(method, f"{self.wh.api}/{path}", headers=headers, timeout=30,
                                    allow_redirects=False, **kw)

    def ok(self, method, path, who, status=200, **kw):
        r = self.call(method, path, who, **kw)
        assert r.status_code == status, describe_response(r)
        return r.json() if r.content else None

    def events(self, path="audit_events", who="root", **params) -> list[dict]:
        """Every page of an audit list, 100 at a time."""
        out, page = [], 1
        while True:
            r = self.call("GET", path, who, params={"per_page": 100, "page": page, **params})
            assert r.status_code == 200, describe_response(r)
            out += r.json()
            if not r.headers.get("X-Next-Page"):
                return out
            page = int(r.headers["X-Next-Page"])


@pytest.fixture(scope="module")
def audit(wheelhouse_bin, tmp_path_factory):
    """One server for the module and a history of changes in two batches split by `split` (a
    whole second no event of the first batch reaches and every event of the second follows).

    audit (private group)      owner alice
      audit/lib (private)      mia maintainer, dave developer; wh-aud 1.0 (wheel + sdist),
                               yanked and unyanked; wh-aud-gone uploaded, a file deleted, deleted
    root: administrator. otto: no memberships."""
    d = tmp_path_factory.mktemp("audit")
    wh = Wheelhouse(wheelhouse_bin, d / "data", d / "server.log").start()
    a = SimpleNamespace(wh=wh, secrets={})
    users = {n: wh.user(n, admin=n == "root") for n in ("root", "alice", "mia", "dave", "otto")}
    a.users = users
    tokens = {}
    for n in users:
        made = wh.token(n, "api", name=f"{n}-cli-token")
        tokens[n] = made["token"]
        a.secrets[f"{n} token"] = made["token"]
    a.group = wh.group("audit", "private")
    wh.member("alice", "owner", group="audit")
    a.project = wh.project("audit/lib", "private")
    wh.member("mia", "maintainer", project="audit/lib")
    wh.member("dave", "developer", project="audit/lib")
    api = Api(wh, tokens)
    a.api = api
    pid, gid = a.project["id"], a.group["id"]
    a.pid, a.gid = pid, gid
    alice = ("__token__", tokens["alice"])
    base = wh.project_url(pid)

    # Batch 1: packages through the PyPI API.
    a.files = [wheel("wh-aud", "1.0"), sdist("wh-aud", "1.0")]
    for f in a.files:
        upload_ok(wh, pid, f, "wh-aud", "1.0", alice)
    r = wh.http.put(f"{base}/yank", json={"name": "wh-aud", "version": "1.0", "reason": "oops"},
                    auth=alice, timeout=30)
    assert r.status_code == 200, describe_response(r)
    r = wh.http.put(f"{base}/unyank", json={"name": "wh-aud", "version": "1.0"}, auth=alice,
                    timeout=30)
    assert r.status_code == 200, describe_response(r)
    gone = [wheel("wh-aud-gone", "1.0"), sdist("wh-aud-gone", "1.0")]
    for f in gone:
        upload_ok(wh, pid, f, "wh-aud-gone", "1.0", alice)
    [pkg] = [p for p in api.ok("GET", f"projects/{pid}/packages", "alice") if p["name"] == "wh-aud-gone"]
    files = api.ok("GET", f"projects/{pid}/packages/{pkg['id']}/package_files", "alice")
    api.ok("DELETE", f"projects/{pid}/packages/{pkg['id']}/package_files/{files[0]['id']}",
           "alice", status=204)
    api.ok("DELETE", f"projects/{pid}/packages/{pkg['id']}", "alice", status=204)
    a.batch1_last = max(e["id"] for e in api.events())

    # The split: a whole second after the first batch, and a second before the second.
    now = time.time()
    a.split = int(now) + 1
    time.sleep(a.split + 1.05 - now)

    # Batch 2: tokens, members, settings through the REST API; a password on the command line.
    made = api.ok("POST", f"users/{users['dave']['id']}/personal_access_tokens", "root", status=201,
                  json={"name": "audited", "scopes": ["read_api"]})
    a.secrets["made token"] = made["token"]
    a.made_token_id = made["id"]
    rotated = api.ok("POST", f"personal_access_tokens/{made['id']}/rotate", "root")
    a.secrets["rotated token"] = rotated["token"]
    api.ok("DELETE", f"personal_access_tokens/{rotated['id']}", "root", status=204)
    dt = api.ok("POST", f"projects/{pid}/deploy_tokens", "alice", status=201,
                json={"name": "ci", "scopes": ["read_package_registry"]})
    a.secrets["deploy token"] = dt["token"]
    api.ok("DELETE", f"projects/{pid}/deploy_tokens/{dt['id']}", "alice", status=204)
    api.ok("POST", f"projects/{pid}/members", "alice", status=201,
           json={"user_id": users["otto"]["id"], "access_level": REPORTER})
    api.ok("PUT", f"projects/{pid}/members/{users['otto']['id']}", "alice",
           json={"access_level": DEVELOPER})
    api.ok("DELETE", f"projects/{pid}/members/{users['otto']['id']}", "alice", status=204)
    upstream_pw = "upstream-secret-" + hashlib.sha1(str(now).encode()).hexdigest()[:12]
    a.secrets["upstream password"] = upstream_pw
    api.ok("PUT", "application/settings", "root",
           json={"pypi_upstream_username": "bot", "pypi_upstream_password": upstream_pw})
    password = "audited horse battery " + hashlib.sha1(str(now).encode()).hexdigest()[:8]
    a.secrets["password"] = password
    proc = wh.cli("user", "password", "otto", input=password + "\n", timeout=120)
    assert proc.returncode == 0, describe(proc)
    for what, value in list(a.secrets.items()):
        if what.endswith("token"):
            a.secrets[f"{what} sha256"] = hashlib.sha256(value.encode()).hexdigest()
    a.all = api.events()
    yield a
    code = wh.stop()
    assert code == 0, f"audit server exited with {code}\n{wh.log_tail()}"


def names(events) -> list[str]:
    return [e["event_name"] for e in events]


def test_items_have_gitlabs_fields_newest_first(audit):
    events = audit.all
    assert events, "no audit events at all"
    for e in events:
        assert ITEM_FIELDS <= set(e), e
        assert e["entity_type"] in ENTITY_TYPES, e
        assert isinstance(e["details"], dict) and DETAIL_FIELDS <= set(e["details"]), e
        assert e["details"]["author_class"] in ("User", "DeployToken", "CommandLine"), e
        datetime.datetime.fromisoformat(e["created_at"].replace("Z", "+00:00"))
    ids = [e["id"] for e in events]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids), ids
    stamps = [e["created_at"] for e in events]
    parsed = [datetime.datetime.fromisoformat(s.replace("Z", "+00:00")) for s in stamps]
    assert parsed == sorted(parsed, reverse=True), stamps


def test_every_kind_of_change_is_recorded(audit):
    want = {"user_created", "group_created", "project_created", "member_added", "member_updated",
            "member_removed", "personal_access_token_created", "personal_access_token_rotated",
            "personal_access_token_revoked", "deploy_token_created", "deploy_token_revoked",
            "package_uploaded", "release_yanked", "release_unyanked", "package_file_deleted",
            "package_deleted", "settings_updated", "user_password_changed"}
    missing = want - set(names(audit.all))
    assert not missing, f"not recorded: {sorted(missing)}; recorded: {sorted(set(names(audit.all)))}"
    uploads = [e for e in audit.all if e["event_name"] == "package_uploaded"]
    assert len(uploads) == 4, uploads  # wh-aud's two files and wh-aud-gone's two


def test_an_upload_event_names_who_what_where(audit):
    uploads = [e for e in audit.all if e["event_name"] == "package_uploaded"]
    up = [e for e in uploads if "wh-aud" in json.dumps(e) and "wh-aud-gone" not in json.dumps(e)
          or audit.files[0].filename in json.dumps(e)]
    assert up, f"no upload event names wh-aud or {audit.files[0].filename}: {uploads}"
    e = up[-1]
    assert (e["entity_type"], e["entity_id"]) == ("Project", audit.pid), e
    assert e["author_id"] == audit.users["alice"]["id"], e
    d = e["details"]
    assert (d["author_name"], d["author_class"], d["entity_path"]) == ("alice", "User", "audit/lib"), e
    assert d["ip_address"] == "127.0.0.1", e
    member = [e for e in audit.all if e["event_name"] == "member_added" and e["entity_type"] == "Group"]
    assert member and member[-1]["entity_id"] == audit.gid, member


def test_command_line_changes_are_authored_by_the_command_line(audit):
    made = [e for e in audit.all if e["event_name"] in ("user_created", "project_created",
                                                        "user_password_changed")]
    assert made
    for e in made:
        assert e["author_id"] == -1 and e["details"]["author_class"] == "CommandLine", e
    settings = [e for e in audit.all if e["event_name"] == "settings_updated"]
    assert settings and all(e["entity_type"] == "Instance" for e in settings), settings
    assert settings[0]["details"]["author_class"] == "User", settings


def test_only_administrators_list_every_event(audit):
    api = audit.api
    for who in ("alice", "mia", "dave", "otto"):
        r = api.call("GET", "audit_events", who)
        assert r.status_code == 403, (who, describe_response(r))
    r = api.call("GET", "audit_events")
    assert r.status_code == 401, describe_response(r)


def test_project_events_for_maintainers_and_owners_only(audit):
    api, pid = audit.api, audit.pid
    path = f"projects/{pid}/audit_events"
    mine = api.events(path, "mia")
    assert mine and all((e["entity_type"], e["entity_id"]) == ("Project", pid) for e in mine), mine
    assert {"package_uploaded", "release_yanked", "package_deleted", "member_added"} <= set(names(mine))
    assert api.events(path, "alice") == mine  # an owner through the group
    assert api.events(path, "root") == mine
    assert mine == [e for e in audit.all if (e["entity_type"], e["entity_id"]) == ("Project", pid)]
    assert api.call("GET", path, "dave").status_code == 403, "developer"
    assert api.call("GET", path, "otto").status_code == 404, "outsider of a private project"
    assert api.call("GET", path).status_code in (401, 404), "anonymous"
    enc = urllib.parse.quote("audit/lib", safe="")
    assert api.events(f"projects/{enc}/audit_events", "mia") == mine  # the path as :id


def test_group_events_for_owners(audit):
    api, gid = audit.api, audit.gid
    path = f"groups/{gid}/audit_events"
    got = api.events(path, "alice")
    assert got and all((e["entity_type"], e["entity_id"]) == ("Group", gid) for e in got), got
    assert "member_added" in names(got)
    assert api.events(path, "root") == got
    assert api.call("GET", path, "otto").status_code == 404


def test_created_after_and_before(audit):
    api = audit.api
    split = iso(audit.split)
    after = api.events(created_after=split)
    assert after and all(e["id"] > audit.batch1_last for e in after), (split, names(after))
    assert [e["id"] for e in after] == [e["id"] for e in audit.all if e["id"] > audit.batch1_last]
    before = api.events(created_before=split)
    assert [e["id"] for e in before] == [e["id"] for e in audit.all if e["id"] <= audit.batch1_last]
    both = api.events(created_after="2000-01-01T00:00:00Z", created_before=split)
    assert both == before
    assert api.events(created_after=iso(time.time() + 3600)) == []
    assert api.events(created_before="2000-01-01") == []
    for bad in ("yesterday", "2024-13-45", "12345abc"):
        r = api.call("GET", "audit_events", "root", params={"created_after": bad})
        assert r.status_code == 400, (bad, describe_response(r))
        r = api.call("GET", f"projects/{audit.pid}/audit_events", "mia",
                     params={"created_before": bad})
        assert r.status_code == 400, (bad, describe_response(r))


def test_pagination_headers_and_links(audit):
    api = audit.api
    total = len(audit.all)
    per_page = 4
    pages = -(-total // per_page)
    seen = []
    for page in range(1, pages + 1):
        r = api.call("GET", "audit_events", "root", params={"per_page": per_page, "page": page})
        assert r.status_code == 200, describe_response(r)
        h = r.headers
        want = (str(total), str(pages), str(page), str(per_page),
                str(page + 1) if page < pages else "", str(page - 1) if page > 1 else "")
        got = (h.get("X-Total"), h.get("X-Total-Pages"), h.get("X-Page"), h.get("X-Per-Page"),
               h.get("X-Next-Page", ""), h.get("X-Prev-Page", ""))
        assert got == want, describe_response(r)
        rels = {"first", "last"} | ({"next"} if page < pages else set()) | ({"prev"} if page > 1 else set())
        assert set(r.links) == rels, h.get("Link")
        if "next" in r.links:
            q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.links["next"]["url"]).query))
            assert (q.get("page"), q.get("per_page")) == (str(page + 1), str(per_page)), r.links
        seen += r.json()
    assert seen == audit.all
    r = api.call("GET", "audit_events", "root", params={"per_page": 1000})
    assert r.status_code == 200 and r.headers.get("X-Per-Page") == "100", describe_response(r)
    # A filter is kept in the links.
    r = api.call("GET", "audit_events", "root",
                 params={"per_page": 1, "created_after": "2000-01-01T00:00:00Z"})
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r.links["next"]["url"]).query))
    assert q.get("created_after") == "2000-01-01T00:00:00Z", r.links


def test_a_change_that_fails_records_nothing(audit):
    api, wh, pid = audit.api, audit.wh, audit.pid
    top = api.events()[0]["id"]
    f = audit.files[0]
    r = wh.upload(pid, f.data, f.filename, name="wh-aud", version="1.0",
                  auth=("__token__", api.tokens["alice"]))
    # The same file again: the registry answers 200 "already uploaded" and changes nothing.
    assert r.status_code == 200 and "already uploaded" in r.text, describe_response(r)
    r = wh.upload(pid, b"not a wheel", "wh_aud-9.0-py3-none-any.whl", name="wh-aud", version="9.0",
                  auth=("__token__", api.tokens["dave"]), digests=False)
    assert r.status_code >= 400, describe_response(r)
    r = api.call("POST", f"projects/{pid}/members", "dave",
                 json={"user_id": audit.users["otto"]["id"], "access_level": REPORTER})
    assert r.status_code == 403, describe_response(r)
    r = api.call("DELETE", f"projects/{pid}/packages/999999", "alice")
    assert r.status_code == 404, describe_response(r)
    assert api.events()[0]["id"] == top, names(api.events()[:5])


def test_no_secret_in_any_event(audit):
    texts = {"REST": json.dumps(audit.api.events())}
    for args in (("audit", "--json"), ("audit",), ("audit", "--project", "audit/lib", "--json")):
        proc = audit.wh.cli(*args)
        assert proc.returncode == 0, describe(proc)
        texts[" ".join(args)] = proc.stdout
    leaks = [(where, what) for where, text in texts.items()
             for what, value in audit.secrets.items() if value and value in text]
    assert not leaks, f"secrets in audit events: {leaks}"
    # Token events name the token by id and name instead.
    made = [e for e in audit.all if e["event_name"] == "personal_access_token_created"
            and "audited" in json.dumps(e)]
    assert made and str(audit.made_token_id) in json.dumps(made[0]), made


def test_cli_audit(audit):
    wh = audit.wh
    proc = wh.cli("audit", "--json")
    assert proc.returncode == 0, describe(proc)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert [e["id"] for e in lines] == [e["id"] for e in audit.all], proc.stdout[:2000]
    assert all(ITEM_FIELDS <= set(e) for e in lines), lines[:3]
    proc = wh.cli("audit", "--json", "--limit", "3")
    assert proc.returncode == 0, describe(proc)
    assert [json.loads(x)["id"] for x in proc.stdout.splitlines()] == [e["id"] for e in audit.all[:3]]
    proc = wh.cli("audit", "--project", "audit/lib", "--json")
    assert proc.returncode == 0, describe(proc)
    got = [json.loads(x) for x in proc.stdout.splitlines() if x.strip()]
    assert [e["id"] for e in got] == [e["id"] for e in audit.api.events(f"projects/{audit.pid}/audit_events")]
    proc = wh.cli("audit", "--group", "audit", "--json")
    assert proc.returncode == 0, describe(proc)
    got = [json.loads(x) for x in proc.stdout.splitlines() if x.strip()]
    assert got and all(e["entity_type"] == "Group" for e in got), got
    proc = wh.cli("audit")  # the table
    assert proc.returncode == 0 and "package_uploaded" in proc.stdout, describe(proc)
    assert not proc.stdout.lstrip().startswith("{"), proc.stdout[:500]
    proc = wh.cli("audit", "--project", "no/such", "--json")
    assert proc.returncode != 0, describe(proc)
