"""PEP 691: the JSON simple API and content negotiation on project and group routes (every
Accept header pip and uv send, and the awkward ones), and the shapes of the JSON index and
project pages (PEP 700's versions, size and upload-time included)."""
from __future__ import annotations

import datetime
import json
import re
import urllib.parse

import pytest

from simple_api import (HTML_V1, JSON_T, Tags, files_by_name, get_json, has_repository_version,
                        page_url)
from whlib import describe_response, sha256


PIP_ACCEPT = f"{JSON_T}, {HTML_V1}; q=0.1, text/html; q=0.01"
UV_ACCEPT = f"{JSON_T}, {HTML_V1};q=0.2, text/html;q=0.01"
UPLOAD_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def vary_tokens(r) -> set:
    return {v.strip().lower() for v in r.headers.get("Vary", "").split(",") if v.strip()}


# ---------------------------------------------------------------- negotiation

# (Accept header or None, extra query, expected status, expected Content-Type prefix)
NEGOTIATION = {
    "pip": (PIP_ACCEPT, "", 200, JSON_T),
    "uv": (UV_ACCEPT, "", 200, JSON_T),
    "none": (None, "", 200, "text/html"),
    "star": ("*/*", "", 200, "text/html"),
    "v1-html": (HTML_V1, "", 200, HTML_V1),
    "text-html": ("text/html", "", 200, "text/html"),
    "json-only": (JSON_T, "", 200, JSON_T),
    "q-prefers-html": (f"text/html;q=0.9, {JSON_T};q=0.5", "", 200, "text/html"),
    "q-zero-json": (f"{JSON_T};q=0, text/html", "", 200, "text/html"),
    "only-excluded": (f"{JSON_T};q=0", "", 406, None),
    "application-json": ("application/json", "", 406, None),
    "format-json": (None, "?format=" + urllib.parse.quote(JSON_T, safe=""), 200, JSON_T),
    "format-json-raw-plus": (None, f"?format={JSON_T}", 200, JSON_T),
    "format-v1-html": (None, "?format=" + urllib.parse.quote(HTML_V1, safe=""), 200, HTML_V1),
}


@pytest.mark.parametrize("case", list(NEGOTIATION))
@pytest.mark.parametrize("page", ["index", "package"])
@pytest.mark.parametrize("route", ["project", "group"])
def test_content_negotiation(server, world, ix, route, page, case):
    accept, query, status, ctype = NEGOTIATION[case]
    headers = {"Accept": accept} if accept is not None else {}
    url = page_url(ix, route, page) + query
    # requests sends `Accept: */*` by default; drop it for the no-Accept cases.
    r = server.http.get(url, auth=world.alice, timeout=30, allow_redirects=False,
                        headers={"Accept": None, **headers} if accept is None else headers)
    assert ("accept" in {k.lower() for k in r.request.headers}) == (accept is not None)
    assert r.status_code == status, describe_response(r)
    if status != 200:
        return
    got = r.headers.get("Content-Type", "")
    assert got.split(";")[0].strip() == ctype, describe_response(r)
    assert "accept" in vary_tokens(r), describe_response(r)
    if ctype == JSON_T:
        body = r.json()
        assert body["meta"]["api-version"] == "1.1", body
        if page == "index":
            assert [p["name"] for p in body["projects"]] == ["Wh_Neg"], body
        else:
            assert body["name"] == "wh-neg", body
    else:
        assert has_repository_version(r.text), r.text
        names = [a["text"].strip() for a in Tags(r.text).anchors]
        if page == "index":
            assert normalize(names[0]) == "wh-neg" and len(names) == 1, r.text
        else:
            assert sorted(names) == sorted(ix.files), r.text


# ---------------------------------------------------------------- JSON shapes

@pytest.mark.parametrize("route", ["project", "group"])
def test_json_project_page_shape(server, world, ix, route):
    body = get_json(server, page_url(ix, route, "package"), world.alice)
    assert set(body) >= {"meta", "name", "versions", "files"}, body
    assert body["meta"]["api-version"] == "1.1", body
    assert body["name"] == "wh-neg", body
    versions = body["versions"]
    assert isinstance(versions, list) and all(isinstance(v, str) for v in versions), body
    assert sorted(versions) == ["1.0", "1.1"] and len(set(versions)) == len(versions), body
    files = files_by_name(body)
    assert sorted(files) == sorted(ix.files), body
    lo = ix.before - datetime.timedelta(seconds=2)
    hi = ix.after + datetime.timedelta(seconds=2)
    for fname, want in ix.files.items():
        f = files[fname]
        ctx = json.dumps(f, indent=1)
        required = {"filename", "url", "hashes", "core-metadata", "dist-info-metadata",
                    "yanked", "size", "upload-time"}
        assert required <= set(f), f"missing {required - set(f)}: {ctx}"
        url = f["url"]
        assert isinstance(url, str) and re.match(r"^https?://", url) and "#" not in url, ctx
        got = server.get(url, auth=world.alice)
        assert got.status_code == 200, describe_response(got)
        data = want["dist"].data
        assert got.content == data, f"{url} served other bytes"
        assert f["hashes"]["sha256"] == sha256(got.content), ctx
        assert isinstance(f["size"], int) and not isinstance(f["size"], bool), ctx
        assert f["size"] == len(data), ctx
        assert f["yanked"] is False, ctx
        assert f.get("requires-python") == want["rp"], ctx
        assert isinstance(f["upload-time"], str) and UPLOAD_TIME_RE.match(f["upload-time"]), ctx
        t = datetime.datetime.strptime(f["upload-time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc)
        assert lo <= t <= hi, f"upload-time {t} outside [{lo}, {hi}]: {ctx}"
        assert f["core-metadata"] == {"sha256": sha256(want["meta"])}, ctx
        assert f["dist-info-metadata"] == f["core-metadata"], ctx
        m = server.get(url + ".metadata", auth=world.alice)
        assert m.status_code == 200, describe_response(m)
        assert m.content == want["meta"], f"{url}.metadata: {m.content[:300]!r}"


@pytest.mark.parametrize("route", ["project", "group"])
def test_json_index_shape(server, world, ix, route):
    body = get_json(server, page_url(ix, route, "index"), world.alice)
    assert body["meta"]["api-version"] == "1.1", body
    assert body["projects"] == [{"name": "Wh_Neg"}], body
