"""What the index-standards tests (test_pep*.py, test_http_caching_and_ranges.py) share: the
simple API's media types, its JSON and HTML pages as they read them, the yank API, and the
server's request log (what clients really fetched). conftest.py's `ix` fixture is the world
most of them read."""
from __future__ import annotations

import datetime
import html.parser
import re
import time
import urllib.parse
import zipfile

import requests

from distributions import Dist
from whlib import Wheelhouse, describe_response

JSON_T = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"
LOG_RE = re.compile(r"\b(GET|HEAD|POST|PUT|DELETE|PATCH)\s+(/\S*)\s+(\d{3})\b")


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def wheel_metadata(dist: Dist) -> bytes:
    """The METADATA member as it is in the wheel's file (what `.metadata` must serve)."""
    with zipfile.ZipFile(dist.path) as zf:
        (name,) = [n for n in zf.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
        return zf.read(name)


def put(wh: Wheelhouse, pid, action: str, body: dict, auth) -> requests.Response:
    """PUT the project's yank or unyank API (`action`) with a JSON body."""
    return wh.http.put(f"{wh.project_url(pid)}/{action}", json=body, auth=auth, timeout=30,
                       allow_redirects=False)


def get_json(wh, url, auth) -> dict:
    r = wh.get(url, auth=auth, headers={"Accept": JSON_T})
    assert r.status_code == 200, describe_response(r)
    assert r.headers.get("Content-Type", "").startswith(JSON_T), describe_response(r)
    return r.json()


def files_by_name(page: dict) -> dict:
    return {f["filename"]: f for f in page["files"]}


class Tags(html.parser.HTMLParser):
    """Anchors (all attributes kept: a valueless attribute maps to None) and meta tags."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.anchors, self.metas, self._cur = [], [], None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._cur = {"attrs": dict(attrs), "text": ""}
        elif tag == "meta":
            self.metas.append(dict(attrs))

    def handle_data(self, data):
        if self._cur is not None:
            self._cur["text"] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._cur is not None:
            self.anchors.append(self._cur)
            self._cur = None

    def by_text(self) -> dict:
        return {a["text"].strip(): a["attrs"] for a in self.anchors}


def has_repository_version(text: str) -> bool:
    return any(m.get("name") == "pypi:repository-version" and m.get("content") == "1.1"
               for m in Tags(text).metas)


def requests_since(wh: Wheelhouse, mark: int) -> list[tuple[str, str, int]]:
    """(method, unquoted path without query, status) of every request logged after `mark`
    (wh.log_mark())."""
    time.sleep(0.5)  # the line is written as the response completes
    text = "\n".join(wh.log_since(mark))
    out = []
    for m in LOG_RE.finditer(text):
        path = urllib.parse.unquote(m.group(2).split("?", 1)[0])
        out.append((m.group(1), path, int(m.group(3))))
    return out


def page_url(ix, route, page):
    """The index ("index") or wh-neg's page ("package") of conftest's `ix` world, on its
    project or group route."""
    return f"{ix.urls[route]}/simple" + ("/wh-neg" if page == "package" else "")
