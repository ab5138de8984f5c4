"""Issue 15, structured logs: with --log-format json (or WHEELHOUSE_LOG_FORMAT=json) every line the
server writes is one JSON object with time (RFC 3339, milliseconds, UTC), level and message, and
request_id on every line of a request; the per-request line also has route, method, path, status,
duration_ms and caller. X-Request-Id from the client is kept when it is 1-128 characters of
[A-Za-z0-9._:-], replaced by 32 new hex characters otherwise, and always answered. No token,
password, password hash or session cookie appears in any line, whatever the request carried."""
from __future__ import annotations

import json
import re
import urllib.parse
import uuid

import pytest

import browser
from distributions import wheel
from whlib import Clients, describe, describe_response, index_url, parse_links, upload_ok

pytestmark = pytest.mark.timeout(180)

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|\+00:00)$")
LEVELS = {"trace", "debug", "info", "notice", "warning", "error", "critical"}
REQUEST_FIELDS = {"route", "method", "path", "status", "duration_ms", "caller"}
GENERATED = re.compile(r"^[0-9a-f]{32}$")


def json_lines(wh, mark: int = 0) -> list[dict]:
    """Every line since `mark` as a JSON object (the harness's own "==== start" lines aside);
    fails on any line that is not one."""
    out = []
    for n, line in enumerate(wh.log_since(mark), 1):
        if not line.strip() or line.startswith("==== start port"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            pytest.fail(f"log line {n} is not JSON: {line!r}")
        assert isinstance(obj, dict), f"log line {n} is JSON but not an object: {line!r}"
        out.append(obj)
    return out


def check_line(obj: dict):
    assert isinstance(obj.get("time"), str) and TIME.match(obj["time"]), obj
    assert obj.get("level") in LEVELS, obj
    assert isinstance(obj.get("message"), str) and obj["message"], obj


def request_lines(lines: list[dict], request_id: str) -> list[dict]:
    return [o for o in lines if o.get("request_id") == request_id]


@pytest.fixture
def jsonlog(make_server):
    wh = make_server("--log-format", "json", name="jsonlog")
    wh.user("alice")
    tok = wh.token("alice", "api")["token"]
    wh.group("logs", "private")
    wh.member("alice", "owner", group="logs")
    project = wh.project("logs/lib", "private")
    return type("J", (), dict(wh=wh, tok=tok, project=project, auth=("__token__", tok)))


def test_every_line_is_a_json_object_with_time_level_message(jsonlog):
    wh = jsonlog.wh
    wh.http.get(f"{wh.base}/-/liveness", timeout=10)
    wh.http.get(f"{wh.base}/no/such/page", timeout=10)
    lines = json_lines(wh)
    assert len(lines) >= 3, lines  # start-up lines and the requests
    for obj in lines:
        check_line(obj)
    # The start-up lines are JSON too (no request, so no request_id needed there).
    assert any("serving" in o["message"] or "listening" in o["message"] for o in lines), lines


def test_request_line_fields_and_client_request_id_kept(jsonlog):
    wh, auth, pid = jsonlog.wh, jsonlog.auth, jsonlog.project["id"]
    dist = wheel("wh-logged", "1.0")
    upload_ok(wh, pid, dist, "wh-logged", "1.0", auth)
    mark = wh.log_mark()
    rid = f"e2e-{uuid.uuid4().hex[:12]}.A:b_c-9"
    url = f"{wh.project_url(pid)}/simple/wh-logged/"
    r = wh.get(url, auth=auth, headers={"X-Request-Id": rid})
    assert r.status_code == 200, describe_response(r)
    assert r.headers.get("X-Request-Id") == rid, describe_response(r)

    mine = request_lines(json_lines(wh, mark), rid)
    assert mine, f"no log line carries request_id {rid}:\n" + "\n".join(wh.log_since(mark))
    [line] = [o for o in mine if REQUEST_FIELDS <= set(o)] or [None]
    assert line, f"no request line (with {sorted(REQUEST_FIELDS)}) for {rid}: {mine}"
    check_line(line)
    assert line["route"] == "/api/v4/projects/:id/packages/pypi/simple/:package_name", line
    assert line["method"] == "GET", line
    assert line["path"] == urllib.parse.urlsplit(url).path, line
    assert int(line["status"]) == 200, line
    assert isinstance(line["duration_ms"], (int, float)) and line["duration_ms"] >= 0, line
    assert "alice" in str(line["caller"]), line

    # The upload's own lines (it writes more than one) all carry its id.
    mark = wh.log_mark()
    rid2 = "upload:" + uuid.uuid4().hex
    r = wh.upload(pid, wheel("wh-logged", "1.1").data, "wh_logged-1.1-py3-none-any.whl",
                  name="wh-logged", version="1.1", auth=auth, headers={"X-Request-Id": rid2})
    assert r.status_code == 201 and r.headers.get("X-Request-Id") == rid2, describe_response(r)
    lines = json_lines(wh, mark)
    mine = request_lines(lines, rid2)
    assert any(o.get("route") == "/api/v4/projects/:id/packages/pypi" and int(o["status"]) == 201
               for o in mine), mine
    strays = [o for o in lines if "request_id" not in o and o.get("route")]
    assert not strays, f"request lines without request_id: {strays}"


@pytest.mark.parametrize("sent", [
    "x" * 129,                       # too long
    "has space",
    "slash/inside",
    "semi;colon",
    "quote\"d",
    "caf\u00e9",                     # not ASCII (sent as UTF-8 bytes)
    "",                              # empty
], ids=["129-chars", "space", "slash", "semicolon", "quote", "non-ascii", "empty"])
def test_malformed_request_id_is_replaced(jsonlog, sent):
    wh = jsonlog.wh
    mark = wh.log_mark()
    r = wh.http.get(f"{wh.base}/-/liveness", headers={"X-Request-Id": sent.encode("utf-8")},
                    timeout=10)
    assert r.status_code == 200, describe_response(r)
    got = r.headers.get("X-Request-Id", "")
    assert GENERATED.match(got) and got != sent, f"sent {sent!r}, answered {got!r}"
    lines = json_lines(wh, mark)
    assert request_lines(lines, got), f"no log line carries the new id {got}: {lines}"
    if sent:
        assert not [o for o in lines if sent in json.dumps(o, ensure_ascii=False)
                    and o.get("request_id") == sent], "the malformed id was logged as the id"


def test_request_id_boundaries_and_generated_ids(jsonlog):
    wh = jsonlog.wh
    for kept in ("a", "A" * 128, "0.1:2_3-4"):
        r = wh.http.get(f"{wh.base}/-/liveness", headers={"X-Request-Id": kept}, timeout=10)
        assert r.headers.get("X-Request-Id") == kept, (kept, describe_response(r))
    ids = set()
    for _ in range(5):  # no header: a fresh id every time, on answers of every kind
        for path in ("/-/liveness", "/nowhere", "/api/v4/user"):
            got = wh.http.get(f"{wh.base}{path}", timeout=10).headers.get("X-Request-Id", "")
            assert GENERATED.match(got), (path, got)
            ids.add(got)
    assert len(ids) == 15, ids


def test_text_format_request_line_carries_the_id(make_server):
    wh = make_server(name="textlog")  # the default format stays text
    mark = wh.log_mark()
    rid = "text-" + uuid.uuid4().hex
    wh.http.get(f"{wh.base}/-/liveness", headers={"X-Request-Id": rid}, timeout=10)
    lines = wh.log_since(mark)
    assert any(rid in line and "/-/liveness" in line for line in lines), lines
    for line in lines:
        assert not line.lstrip().startswith("{"), f"text format wrote JSON: {line!r}"


def test_env_selects_json(make_server):
    wh = make_server(name="envlog", via_env=True)
    wh.stop()
    wh.extra_env["WHEELHOUSE_LOG_FORMAT"] = "json"
    mark = wh.log_mark()
    wh.start()
    wh.http.get(f"{wh.base}/-/liveness", timeout=10)
    lines = json_lines(wh, mark)
    assert lines and all(check_line(o) is None for o in lines)


def test_no_secret_in_any_log_line(jsonlog, tmp_path):
    """Tokens in every place a client puts them (Basic, PRIVATE-TOKEN, Bearer, Deploy-Token, a URL's
    user info, a query string), tokens the server hands out, a password signed in with (right and
    wrong), its stored hash and the session cookie: none of them in the log, at any level."""
    wh, auth, pid, tok = jsonlog.wh, jsonlog.auth, jsonlog.project["id"], jsonlog.tok
    secrets = {"api token": tok}
    dt = wh.deploy_token("read_package_registry", "write_package_registry", project="logs/lib")
    secrets["deploy token"] = dt["token"]
    password = "correct horse " + uuid.uuid4().hex
    secrets["password"] = password
    browser.give_password(wh, "alice", password)
    [(stored,)] = browser.db_rows(wh, "SELECT password_hash FROM users WHERE username = 'alice'")
    secrets["password hash"] = stored
    secrets["password hash key"] = stored.rsplit("$", 1)[-1]

    dist = wheel("wh-secretive", "1.0")
    upload_ok(wh, pid, dist, "wh-secretive", "1.0", auth)
    base = wh.project_url(pid)
    page = f"{base}/simple/wh-secretive/"
    wrong = "glpat-" + uuid.uuid4().hex[:20]
    secrets["wrong token"] = wrong
    calls = [
        dict(headers={"PRIVATE-TOKEN": tok}),
        dict(headers={"Authorization": f"Bearer {tok}"}),
        dict(headers={"Deploy-Token": dt["token"]}),
        dict(auth=("__token__", tok)),
        dict(auth=(dt["username"], dt["token"])),
        dict(headers={"PRIVATE-TOKEN": wrong}),
        dict(auth=("alice", wrong)),
    ]
    for kw in calls:
        wh.get(page, **kw)
    wh.get(f"{page}?private_token={tok}")
    wh.get(f"{wh.api}/user?private_token={tok}&job_token={dt['token']}")
    wh.get(f"{wh.api}/user", headers={"PRIVATE-TOKEN": tok})
    # A token the server makes: its value is in the answer, never in the log.
    uid = wh.get(f"{wh.api}/user", headers={"PRIVATE-TOKEN": tok}).json()["id"]
    r = wh.http.post(f"{wh.api}/users/{uid}/personal_access_tokens", timeout=30,
                     headers={"PRIVATE-TOKEN": tok}, json={"name": "made", "scopes": ["api"]})
    if r.status_code == 201:
        secrets["made token"] = r.json()["token"]
        rot = wh.http.post(f"{wh.api}/personal_access_tokens/{r.json()['id']}/rotate", timeout=30,
                           headers={"PRIVATE-TOKEN": r.json()["token"]})
        if rot.status_code == 200:
            secrets["rotated token"] = rot.json()["token"]
    # pip with the token in the index URL's user info.
    clients = Clients(tmp_path / "clients")
    proc = clients.pip_install(index_url(base, tok), "wh-secretive", target=clients.target())
    assert proc.returncode == 0, describe(proc)
    # The web interface: a wrong password, then the right one, then a page with the cookie.
    visitor = browser.WebClient(wh.base)
    visitor.sign_in("alice", "wrong " + password, expect=None)
    visitor.sign_in("alice", password)
    secrets["session cookie"] = visitor.session_cookie
    visitor.get("/")
    # A file download with credentials in the URL (what pip does with user info).
    listing = wh.get(page, auth=auth)
    [link] = parse_links(listing.text)
    wh.get(urllib.parse.urljoin(listing.url, link.href), auth=auth)

    text = wh.log_path.read_text(errors="replace")
    variants = {}
    for what, value in secrets.items():
        if value:
            variants[what] = {value, urllib.parse.quote(value, safe=""), json.dumps(value)[1:-1]}
    leaks = [(what, line) for line in text.splitlines() for what, vs in variants.items()
             if any(v in line for v in vs)]
    assert not leaks, "secrets in the log:\n" + "\n".join(f"{w}: {line}" for w, line in leaks)
    # And the log did see these requests (a silent log would pass the check above).
    assert text.count("/simple/wh-secretive") >= len(calls), text[-3000:]
