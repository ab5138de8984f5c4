"""Answers replayed beneath Hummingbird (ReplayHandler): an anonymous GET whose answer the server
already made is sent again from memory. These tests hold it to being the same answer the normal
path would give, never a stale one, never one for a caller with credentials, and in order."""
from __future__ import annotations

import time

import pytest
import requests

from distributions import wheel
from rawhttp import connect, head, read_responses
from whlib import describe_response

JSON_T = "application/vnd.pypi.simple.v1+json"


@pytest.fixture
def reg(make_server, tmp_path):
    """A fresh server with a public project (alice owns it) holding wh-rep 1.0."""
    wh = make_server(name="replay")
    wh.user("alice")
    tok = wh.token("alice", "api")["token"]
    wh.group("pubr", visibility="public")
    wh.member("alice", "owner", group="pubr")
    p = wh.project("pubr/open", visibility="public")
    auth = ("alice", tok)
    d = wheel("wh-rep", "1.0", dest=tmp_path)
    r = wh.upload(p["id"], d.data, d.filename, name="wh-rep", version="1.0", auth=auth)
    assert r.status_code == 201, describe_response(r)
    page = f"{wh.project_url(p['id'])}/simple/wh-rep/"
    return wh, p, auth, page, d


def replays(wh) -> int:
    return wh.log_path.read_text(errors="replace").count("replayed=true")


def same_answer(a: requests.Response, b: requests.Response):
    assert (a.status_code, a.content) == (b.status_code, b.content)
    strip = lambda r: {k.lower(): v for k, v in r.headers.items() if k.lower() not in ("date", "x-request-id")}
    assert strip(a) == strip(b)


def test_a_replay_is_the_answer_the_server_made(reg):
    wh, p, auth, page, d = reg
    http = requests.Session()
    for headers in ({"Accept": "text/html"}, {"Accept": JSON_T}):
        first = http.get(page, headers=headers)
        assert first.status_code == 200, describe_response(first)
        before = replays(wh)
        again = http.get(page, headers=headers)
        assert replays(wh) == before + 1, "the second identical anonymous GET was not replayed"
        same_answer(first, again)
        # A conditional request is its own answer: 304, replayed the same way.
        cond = {**headers, "If-None-Match": first.headers["ETag"]}
        r1, r2 = http.get(page, headers=cond), http.get(page, headers=cond)
        assert r1.status_code == 304 and r1.content == b""
        same_answer(r1, r2)
    # A range of the file, and the file's metadata.
    file_url = next(f["url"] for f in http.get(page, headers={"Accept": JSON_T}).json()["files"])
    file_url = file_url.split("#")[0]
    rng = {"Range": "bytes=10-1033"}
    r1, r2 = http.get(file_url, headers=rng), http.get(file_url, headers=rng)
    assert r1.status_code == 206 and r1.content == d.data[10:1034]
    same_answer(r1, r2)
    m1, m2 = http.get(file_url + ".metadata"), http.get(file_url + ".metadata")
    assert m1.status_code == 200 and b"Name: wh-rep" in m1.content
    same_answer(m1, m2)
    for r in (r1, r2, m1, m2, first, again):
        assert not any(k.lower().startswith("wheelhouse-") for k in r.headers), r.headers


def test_an_upload_or_yank_shows_on_the_very_next_request(reg, tmp_path):
    wh, p, auth, page, _ = reg
    http = requests.Session()
    for i in range(1, 6):
        for _ in range(3):  # warm: the answer is being replayed
            assert http.get(page, headers={"Accept": JSON_T}).status_code == 200
        (tmp_path / f"v{i}").mkdir()
        d = wheel("wh-rep", f"1.{i}", dest=tmp_path / f"v{i}")
        r = wh.upload(p["id"], d.data, d.filename, name="wh-rep", version=f"1.{i}", auth=auth)
        assert r.status_code == 201, describe_response(r)
        files = [f["filename"] for f in http.get(page, headers={"Accept": JSON_T}).json()["files"]]
        assert d.filename in files, f"upload of {d.filename} not on the next page: {files}"
    r = wh.http.put(f"{wh.project_url(p['id'])}/yank", json={"name": "wh-rep", "version": "1.0"}, auth=auth)
    assert r.status_code == 200, describe_response(r)
    files = http.get(page, headers={"Accept": JSON_T}).json()["files"]
    assert all(f["yanked"] for f in files if "-1.0-" in f["filename"]), files


def test_visibility_narrowed_through_the_api_applies_at_once(reg):
    wh, p, auth, page, _ = reg
    http = requests.Session()
    for _ in range(3):
        assert http.get(page).status_code == 200
    r = wh.http.put(f"{wh.api}/projects/{p['id']}", json={"visibility": "private"}, auth=auth)
    assert r.status_code == 200, describe_response(r)
    assert http.get(page).status_code == 401


def test_a_change_made_by_another_process_applies_within_moments(reg):
    wh, p, auth, page, _ = reg
    http = requests.Session()
    for _ in range(3):
        assert http.get(page, headers={"Accept": JSON_T}).status_code == 200
    proc = wh.cli("yank", "--project", "pubr/open", "--name", "wh-rep", "--version", "1.0")
    assert proc.returncode == 0, proc.stderr
    done = time.monotonic()
    while True:
        files = http.get(page, headers={"Accept": JSON_T}).json()["files"]
        if all(f["yanked"] for f in files):
            break
        assert time.monotonic() - done < 1.5, "a yank by the CLI was not seen within 1.5 s"
        time.sleep(0.02)


def test_answers_are_replayed_only_to_the_same_credentials(reg):
    wh, p, auth, page, _ = reg
    http = requests.Session()
    for _ in range(3):
        assert http.get(page).status_code == 200
    before = replays(wh)
    # Credentials that are unreadable or wrong are refused, however warm the anonymous answer is.
    assert http.get(page, headers={"Authorization": "Basic !!!"}).status_code == 401
    assert http.get(page, auth=("alice", "wrong-token")).status_code == 401
    assert http.get(page, headers={"PRIVATE-TOKEN": "nope"}).status_code == 401
    assert http.get(page, auth=("alice", "wrong-token")).status_code == 401
    assert replays(wh) == before
    # A good token gets its own answer, replayed only to that same token.
    first, again = http.get(page, auth=auth), http.get(page, auth=auth)
    same_answer(first, again)
    log = wh.log_path.read_text(errors="replace")
    assert any("caller=user:alice " in line and "replayed=true" in line for line in log.splitlines()), wh.log_tail()
    # Revoked through this server: refused on the very next request.
    tid = wh.http.get(f"{wh.api}/personal_access_tokens/self", auth=auth).json()["id"]
    r = wh.http.delete(f"{wh.api}/personal_access_tokens/{tid}", auth=auth)
    assert r.status_code == 204, describe_response(r)
    assert http.get(page, auth=auth).status_code == 401


def test_pipelined_requests_are_answered_in_order(reg):
    wh, p, auth, page, _ = reg
    http = requests.Session()
    for _ in range(3):
        assert http.get(page).status_code == 200  # replayable now
    path = page.split(str(wh.port), 1)[1]
    html = http.get(page).content
    index = f"/api/v4/projects/{p['id']}/packages/pypi/simple/"
    missing = f"/api/v4/projects/{p['id']}/packages/pypi/simple/nothing-here/"
    req = lambda target: head("GET", target, {}, host=f"127.0.0.1:{wh.port}")  # noqa: E731
    # Slow (not cached) first, replayable second, and the other way round, in one write.
    with connect(wh.port) as s:
        s.sendall(req(missing) + req(path) + req(index) + req(path))
        got = [(r.status, r.body) for r in read_responses(s, 4)]
    assert [s for s, _ in got] == [404, 200, 200, 200], got
    assert got[1][1] == html and got[3][1] == html
    assert b"wh-rep" in got[2][1] and got[2][1] != html
