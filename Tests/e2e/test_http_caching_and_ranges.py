"""HTTP caching and byte ranges on pages, files and metadata files: strong ETags per
representation, conditional requests, Cache-Control for public and private projects, HEAD and
Range, and the request log's lines."""
from __future__ import annotations

import datetime
import email.utils
import re
import urllib.parse

from distributions import wheel
from simple_api import (JSON_T, files_by_name, get_json, has_repository_version, page_url,
                        requests_since, utcnow)
from whlib import describe_response, sha256, upload_ok


def test_page_etags_and_conditional_get(server, world, fresh_project, tmp_path):
    p = fresh_project()
    upload_ok(server, p["id"], wheel("wh-et", "1.0", dest=tmp_path / "1"), "wh-et", "1.0",
              world.alice)
    for suffix in ("simple", "simple/wh-et"):
        url = f"{p['url']}/{suffix}"
        tags = {}
        for accept in (JSON_T, "text/html"):
            r = server.get(url, auth=world.alice, headers={"Accept": accept})
            assert r.status_code == 200, describe_response(r)
            etag = r.headers.get("ETag")
            assert etag and re.fullmatch(r'"[^"]+"', etag), describe_response(r)  # strong
            tags[accept] = etag
            again = server.get(url, auth=world.alice, headers={"Accept": accept})
            assert again.headers.get("ETag") == etag, "ETag unstable for identical content"
            c = server.get(url, auth=world.alice,
                           headers={"Accept": accept, "If-None-Match": etag})
            assert c.status_code == 304, describe_response(c)
            assert c.content == b"", describe_response(c)
            assert c.headers.get("ETag") == etag, describe_response(c)
        # Two representations of one URL must not share a strong validator: a cache holding
        # the JSON would otherwise be told its copy is fine for an HTML request.
        assert tags[JSON_T] != tags["text/html"], tags
        c = server.get(url, auth=world.alice,
                       headers={"Accept": "text/html", "If-None-Match": tags[JSON_T]})
        assert c.status_code == 200 and has_repository_version(c.text), describe_response(c)

    old = {s: server.get(f"{p['url']}/{s}", auth=world.alice,
                         headers={"Accept": JSON_T}).headers["ETag"]
           for s in ("simple", "simple/wh-et")}
    upload_ok(server, p["id"], wheel("wh-et", "1.1", dest=tmp_path / "2"), "wh-et", "1.1",
              world.alice)
    upload_ok(server, p["id"], wheel("wh-et2", "1.0", dest=tmp_path / "3"), "wh-et2", "1.0",
              world.alice)
    for s, etag in old.items():
        r = server.get(f"{p['url']}/{s}", auth=world.alice,
                       headers={"Accept": JSON_T, "If-None-Match": etag})
        assert r.status_code == 200, describe_response(r)
        assert r.headers.get("ETag") not in (None, etag), describe_response(r)


def test_cache_control_public_vs_private(server, world, ix):
    pub = server.project_url(ix.public["id"])
    for suffix in ("simple", "simple/wh-neg"):
        for accept in (JSON_T, "text/html"):
            r = server.get(f"{pub}/{suffix}", headers={"Accept": accept})
            assert r.status_code == 200, describe_response(r)
            cc = r.headers.get("Cache-Control", "").lower()
            assert "public" in cc and "private" not in cc, describe_response(r)
            r = server.get(f"{ix.urls['project']}/{suffix}", auth=world.alice,
                           headers={"Accept": accept})
            assert r.status_code == 200, describe_response(r)
            cc = r.headers.get("Cache-Control", "").lower()
            assert "private" in cc and "public" not in cc, describe_response(r)


def test_file_head_range_and_conditional(server, world, ix):
    w = next(v for k, v in ix.files.items() if k.endswith("1.1-py3-none-any.whl"))
    data = w["dist"].data
    size = len(data)
    assert size > 200
    f = files_by_name(get_json(server, page_url(ix, "project", "package"), world.alice))[
        w["dist"].filename]
    url = f["url"]
    a = world.alice

    full = server.get(url, auth=a)
    assert full.status_code == 200 and full.content == data, describe_response(full)
    assert full.headers.get("ETag") == f'"{sha256(data)}"', describe_response(full)
    assert int(full.headers.get("Content-Length", -1)) == size, describe_response(full)
    lm = full.headers.get("Last-Modified")
    assert lm, describe_response(full)
    lm_t = email.utils.parsedate_to_datetime(lm)
    assert lm.endswith("GMT") and lm_t.tzinfo is not None, lm
    assert ix.before - datetime.timedelta(seconds=2) <= lm_t <= utcnow(), (lm, ix.before)

    h = server.http.head(url, auth=a, timeout=30, allow_redirects=False)
    assert h.status_code == 200 and h.content == b"", describe_response(h)
    assert int(h.headers.get("Content-Length", -1)) == size, describe_response(h)
    assert h.headers.get("ETag") == f'"{sha256(data)}"', describe_response(h)
    assert h.headers.get("Last-Modified") == lm, describe_response(h)

    r = server.get(url, auth=a, headers={"Range": "bytes=0-99"})
    assert r.status_code == 206, describe_response(r)
    assert r.headers.get("Content-Range") == f"bytes 0-99/{size}", describe_response(r)
    assert r.content == data[:100], "wrong bytes for bytes=0-99"
    assert int(r.headers.get("Content-Length", -1)) == 100, describe_response(r)

    for spec, want in (("bytes=100-", data[100:]), ("bytes=-100", data[-100:]),
                       (f"bytes={size - 10}-{size + 500}", data[size - 10:])):
        r = server.get(url, auth=a, headers={"Range": spec})
        if r.status_code == 206:
            assert r.content == want, f"wrong bytes for {spec}"
            start = size - len(want)
            assert r.headers.get("Content-Range") == f"bytes {start}-{size - 1}/{size}", \
                describe_response(r)
        else:  # ignoring a Range header is allowed, answering it wrongly is not
            assert r.status_code == 200 and r.content == data, describe_response(r)

    r = server.get(url, auth=a, headers={"Range": f"bytes={size + 10}-"})
    assert r.status_code == 416, describe_response(r)
    assert r.headers.get("Content-Range") == f"bytes */{size}", describe_response(r)

    etag = f'"{sha256(data)}"'
    for inm in (etag, f'"nope", {etag}', f"W/{etag}"):
        r = server.get(url, auth=a, headers={"If-None-Match": inm})
        assert r.status_code == 304 and r.content == b"", (inm, describe_response(r))
    r = server.get(url, auth=a, headers={"If-None-Match": '"something-else"'})
    assert r.status_code == 200 and r.content == data, describe_response(r)


def test_metadata_etag_and_conditional(server, world, ix):
    for fname, want in ix.files.items():
        url = files_by_name(get_json(server, page_url(ix, "project", "package"), world.alice))[
            fname]["url"] + ".metadata"
        r = server.get(url, auth=world.alice)
        assert r.status_code == 200 and r.content == want["meta"], describe_response(r)
        etag = r.headers.get("ETag")
        assert etag and re.fullmatch(r'"[^"]+"', etag), describe_response(r)
        c = server.get(url, auth=world.alice, headers={"If-None-Match": etag})
        assert c.status_code == 304 and c.content == b"", describe_response(c)
        c = server.get(url, auth=world.alice, headers={"If-None-Match": '"other"'})
        assert c.status_code == 200 and c.content == want["meta"], describe_response(c)
        h = server.http.head(url, auth=world.alice, timeout=30)
        assert h.status_code == 200 and h.content == b"", describe_response(h)
        assert int(h.headers.get("Content-Length", -1)) == len(want["meta"]), describe_response(h)


def test_request_log_lines(server, world, ix):
    f = files_by_name(get_json(server, page_url(ix, "project", "package"), world.alice))
    url = next(v["url"] for k, v in f.items() if k.endswith(".whl")) + ".metadata"
    mark = server.log_mark()
    assert server.get(url, auth=world.alice).status_code == 200
    assert server.get(url + "-nope", auth=world.alice).status_code == 404
    seen = requests_since(server, mark)
    path = urllib.parse.unquote(urllib.parse.urlsplit(url).path)
    assert ("GET", path, 200) in seen, seen
    assert ("GET", path + "-nope", 404) in seen, seen
