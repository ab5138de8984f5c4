"""Modern index standards on project and group routes: PEP 691 (JSON simple API and content
negotiation), PEP 700 (versions, size, upload-time), PEP 658/714 (core metadata served next to
the file), PEP 592 (yanking, REST API and CLI), HTTP caching and byte ranges. Checked with
requests on the wire and with real pip/uv runs; the server's request log proves what the
clients fetched."""
from __future__ import annotations

import datetime
import email.utils
import html.parser
import io
import itertools
import json
import os
import re
import subprocess
import sys
import tarfile
import time
import tomllib
import urllib.parse
import uuid
import zipfile
from pathlib import Path

import pytest
import requests

from distributions import Dist, sdist, wheel
from whlib import Wheelhouse, describe, describe_response, index_url, sha256

JSON_T = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"
PIP_ACCEPT = f"{JSON_T}, {HTML_V1}; q=0.1, text/html; q=0.01"
UV_ACCEPT = f"{JSON_T}, {HTML_V1};q=0.2, text/html;q=0.01"
UPLOAD_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
LOG_RE = re.compile(r"\b(GET|HEAD|POST|PUT|DELETE|PATCH)\s+(/\S*)\s+(\d{3})\b")
_seq = itertools.count(1)


# ---------------------------------------------------------------- helpers

def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def wheel_metadata(dist: Dist) -> bytes:
    with zipfile.ZipFile(dist.path) as zf:
        (name,) = [n for n in zf.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
        return zf.read(name)


def upload(wh: Wheelhouse, pid, dist: Dist, name, version, auth, fields=None, drop=()):
    r = wh.upload(pid, dist.data, dist.filename, name=name, version=version, auth=auth,
                  fields=fields, drop=drop)
    assert r.status_code == 201, describe_response(r)
    return r


def put(wh: Wheelhouse, pid, action: str, body: dict, auth) -> requests.Response:
    return wh.http.put(f"{wh.project_url(pid)}/{action}", json=body, auth=auth, timeout=30,
                       allow_redirects=False)


def get_json(wh, url, auth) -> dict:
    r = wh.get(url, auth=auth, headers={"Accept": JSON_T})
    assert r.status_code == 200, describe_response(r)
    assert r.headers.get("Content-Type", "").startswith(JSON_T), describe_response(r)
    return r.json()


def files_by_name(page: dict) -> dict:
    return {f["filename"]: f for f in page["files"]}


def vary_tokens(r) -> set:
    return {v.strip().lower() for v in r.headers.get("Vary", "").split(",") if v.strip()}


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


def log_mark(wh: Wheelhouse) -> int:
    return wh.log_path.stat().st_size


def requests_since(wh: Wheelhouse, mark: int) -> list[tuple[str, str, int]]:
    """(method, unquoted path without query, status) of every request logged after `mark`."""
    time.sleep(0.5)  # the line is written as the response completes
    with open(wh.log_path, "rb") as f:
        f.seek(mark)
        text = f.read().decode(errors="replace")
    out = []
    for m in LOG_RE.finditer(text):
        path = urllib.parse.unquote(m.group(2).split("?", 1)[0])
        out.append((m.group(1), path, int(m.group(3))))
    return out


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc status")


def bootstrap(wh: Wheelhouse, tag: str, visibility="private"):
    wh.user(f"{tag}-owner")
    tok = wh.token(f"{tag}-owner", "api")["token"]
    wh.group(tag, visibility)
    wh.member(f"{tag}-owner", "owner", group=tag)
    p = wh.project(f"{tag}/lib", visibility)
    p["url"] = wh.project_url(p["id"])
    return p, ("__token__", tok)


def run(cmd, env, cwd, timeout=240) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=timeout, stdin=subprocess.DEVNULL)


# ---------------------------------------------------------------- module world

@pytest.fixture(scope="module")
def ix(server, world, tmp_path_factory):
    """Group `ixstd` (private) with project ixstd/neg holding Wh_Neg:
    1.0 wheel (requires_python form field ">=3.8"), 1.0 sdist (PKG-INFO 2.2, no
    Requires-Python), 1.1 wheel (no form field; METADATA says Requires-Python >=3.7).
    Group `ixpub` (public) with public project ixpub/neg holding the 1.0 wheel."""
    d = tmp_path_factory.mktemp("ix-dists")
    wh = server
    ns = type("IX", (), {})()
    ns.gid = wh.group("ixstd", "private")["id"]
    wh.member("alice", "owner", group="ixstd")
    wh.group("ixpub", "public")
    wh.member("alice", "owner", group="ixpub")
    ns.project = wh.project("ixstd/neg", "private")
    ns.public = wh.project("ixpub/neg", "public")
    w10 = wheel("Wh_Neg", "1.0", dest=d / "a")
    s10 = sdist("Wh_Neg", "1.0", dest=d / "a")
    w11 = wheel("Wh_Neg", "1.1", extra_meta="Requires-Python: >=3.7\n", dest=d / "b")
    ns.before = utcnow()
    upload(wh, ns.project["id"], w10, "Wh_Neg", "1.0", world.alice,
           fields={"requires_python": ">=3.8"})
    upload(wh, ns.project["id"], s10, "Wh_Neg", "1.0", world.alice)
    upload(wh, ns.project["id"], w11, "Wh_Neg", "1.1", world.alice)
    ns.after = utcnow()
    upload(wh, ns.public["id"], w10, "Wh_Neg", "1.0", world.alice,
           fields={"requires_python": ">=3.8"})
    ns.files = {
        w10.filename: dict(dist=w10, meta=wheel_metadata(w10), rp=">=3.8"),
        s10.filename: dict(dist=s10, meta=s10.metadata, rp=None),
        w11.filename: dict(dist=w11, meta=wheel_metadata(w11), rp=">=3.7"),
    }
    ns.urls = {"project": wh.project_url(ns.project["id"]), "group": wh.group_url(ns.gid)}
    return ns


def page_url(ix, route, page):
    return f"{ix.urls[route]}/simple" + ("/wh-neg" if page == "package" else "")


# ---------------------------------------------------------------- 1. negotiation

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


@pytest.mark.parametrize("route", ["project", "group"])
def test_html_project_page_carries_pep658_and_meta(server, world, ix, route):
    r = server.get(page_url(ix, route, "package"), auth=world.alice,
                   headers={"Accept": "text/html"})
    assert r.status_code == 200, describe_response(r)
    assert has_repository_version(r.text), r.text
    links = Tags(r.text).by_text()
    assert sorted(links) == sorted(ix.files), r.text
    for fname, want in ix.files.items():
        a = links[fname]
        meta = f"sha256={sha256(want['meta'])}"
        assert a.get("data-core-metadata") == meta, r.text
        assert a.get("data-dist-info-metadata") == meta, r.text
        assert "data-yanked" not in a, r.text
        assert a["href"].endswith(f"#sha256={want['dist'].sha256}"), r.text
        assert a.get("data-requires-python") == want["rp"], r.text


# ---------------------------------------------------------------- 2. uv lock reads .metadata

def test_uv_lock_uses_metadata_files_not_wheels(server, world, fresh_project, clients, tmp_path):
    p = fresh_project()
    d = tmp_path / "dists"
    lkdep = wheel("wh-lkdep", "1.0", dest=d / "dep")
    lk10 = wheel("wh-lk", "1.0", dest=d / "10")
    lk11 = wheel("wh-lk", "1.1", extra_meta="Requires-Dist: wh-lkdep>=1.0\n", dest=d / "11")
    for dist, name, ver in ((lkdep, "wh-lkdep", "1.0"), (lk10, "wh-lk", "1.0"),
                            (lk11, "wh-lk", "1.1")):
        upload(server, p["id"], dist, name, ver, world.alice)

    proj = tmp_path / "consumer"
    proj.mkdir()
    idx = index_url(p["url"])
    (proj / "pyproject.toml").write_text(
        '[project]\nname = "consumer"\nversion = "0.1.0"\nrequires-python = ">=3.8"\n'
        'dependencies = ["wh-lk"]\n\n'
        f'[[tool.uv.index]]\nname = "wheelhouse"\nurl = "{idx}"\ndefault = true\n')
    env = dict(clients.env)
    env.pop("UV_NO_CONFIG")  # it would also hide [tool.uv.index] in the project's pyproject
    env.update(UV_INDEX_WHEELHOUSE_USERNAME="__token__",
               UV_INDEX_WHEELHOUSE_PASSWORD=world.tok["alice"])
    mark = log_mark(server)
    proc = run([*clients.uv, "lock", "--python", sys.executable], env, proj)
    assert proc.returncode == 0, describe(proc)
    lock = tomllib.loads((proj / "uv.lock").read_text())
    pkgs = {pk["name"]: pk for pk in lock["package"]}
    assert pkgs["wh-lk"]["version"] == "1.1", pkgs
    # wh-lkdep appears only in wh-lk 1.1's METADATA: uv read it.
    assert pkgs["wh-lkdep"]["version"] == "1.0", pkgs
    assert [w["hash"] for w in pkgs["wh-lk"]["wheels"]] == [f"sha256:{lk11.sha256}"], pkgs

    seen = requests_since(server, mark)
    assert seen, f"no request lines in the log\n{server.log_tail()}"
    base = urllib.parse.urlsplit(p["url"]).path
    meta_ok = {path for m, path, s in seen if m == "GET" and s == 200
               and path.endswith(".whl.metadata") and path.startswith(base)}
    for w in (lk11, lkdep):
        want = f"{base}/files/{w.sha256}/{w.filename}.metadata"
        assert want in meta_ok, f"{want} not fetched; saw:\n" + "\n".join(map(str, seen))
    full = [(m, path, s) for m, path, s in seen
            if m == "GET" and path.endswith(".whl") and s == 200]
    assert not full, "wheels were downloaded in full by `uv lock`:\n" + "\n".join(map(str, seen))


# ---------------------------------------------------------------- 3. upload-time filters

@pytest.fixture(scope="module")
def timed(server, world, tmp_path_factory):
    """wh-ex 1.0, then (2.5 s later) a cut-off timestamp, then (2.5 s later) wh-ex 2.0."""
    d = tmp_path_factory.mktemp("timed")
    p = server.project("flow/ixstd-timed", "private")
    p["url"] = server.project_url(p["id"])
    v1, v2 = wheel("wh-ex", "1.0", dest=d / "1"), wheel("wh-ex", "2.0", dest=d / "2")
    upload(server, p["id"], v1, "wh-ex", "1.0", world.alice)
    time.sleep(2.5)
    cut = utcnow().replace(microsecond=0)
    time.sleep(2.5)
    upload(server, p["id"], v2, "wh-ex", "2.0", world.alice)
    page = get_json(server, f"{p['url']}/simple/wh-ex", world.alice)
    times = {f["filename"]: datetime.datetime.strptime(f["upload-time"], "%Y-%m-%dT%H:%M:%S.%fZ")
             .replace(tzinfo=datetime.timezone.utc) for f in page["files"]}
    stamp = cut.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert times[v1.filename] < cut < times[v2.filename], (stamp, times)
    return dict(project=p, cut=stamp, later=(utcnow() + datetime.timedelta(minutes=5)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"), v1=v1, v2=v2)


def compiled_version(clients, idx, *extra):
    req = clients.scratch / f"req{next(_seq)}.in"
    req.write_text("wh-ex\n")
    proc = clients.run([*clients.uv, "pip", "compile", req, "--default-index", idx,
                        "--python", sys.executable, "--no-header", "--no-annotate", *extra])
    assert proc.returncode == 0, describe(proc)
    found = re.findall(r"^wh-ex==(\S+)$", proc.stdout, re.M)
    assert len(found) == 1, describe(proc)
    return found[0]


def test_uv_exclude_newer(server, world, timed, clients):
    idx = index_url(timed["project"]["url"], world.tok["alice"])
    assert compiled_version(clients, idx, "--exclude-newer", timed["cut"]) == "1.0"
    assert compiled_version(clients, idx) == "2.0"
    assert compiled_version(clients, idx, "--exclude-newer", timed["later"]) == "2.0"


def test_pip_uploaded_prior_to(server, world, timed, clients):
    proc = clients.run([sys.executable, "-m", "pip", "install", "--help"])
    if "--uploaded-prior-to" not in proc.stdout:
        pytest.skip("the pinned pip has no --uploaded-prior-to option")
    idx = index_url(timed["project"]["url"], world.tok["alice"])
    t = clients.target()
    proc = clients.pip_install(idx, "wh-ex", "--uploaded-prior-to", timed["cut"], target=t)
    assert proc.returncode == 0, describe(proc)
    assert clients.imported(t, "wh_ex") == "1.0"
    t = clients.target()
    proc = clients.pip_install(idx, "wh-ex==2.0", "--uploaded-prior-to", timed["cut"], target=t)
    assert proc.returncode != 0, describe(proc)
    t = clients.target()
    proc = clients.pip_install(idx, "wh-ex", "--uploaded-prior-to", timed["later"], target=t)
    assert proc.returncode == 0, describe(proc)
    assert clients.imported(t, "wh_ex") == "2.0"


# ---------------------------------------------------------------- 4. yanking

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
    upload(server, p["id"], w10, "wh-yk", "1.0", world.alice)
    upload(server, p["id"], w11, "wh-yk", "1.1", world.alice)
    upload(server, p["id"], s11, "wh-yk", "1.1", world.alice)
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
    upload(server, p["id"], w, "wh-one", "1.0", world.alice)
    upload(server, p["id"], s, "wh-one", "1.0", world.alice)
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
    upload(server, p["id"], w, "wh-perm", "1.0", world.alice)
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


def test_yank_and_unyank_via_cli(server, world, fresh_project, tmp_path):
    p = fresh_project()
    w10 = wheel("wh-cli", "1.0", dest=tmp_path / "a")
    w11 = wheel("wh-cli", "1.1", dest=tmp_path / "b")
    s11 = sdist("wh-cli", "1.1", dest=tmp_path / "b")
    for d, v in ((w10, "1.0"), (w11, "1.1"), (s11, "1.1")):
        upload(server, p["id"], d, "wh-cli", v, world.alice)
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


# ---------------------------------------------------------------- 5. HTML-only clients

def test_html_only_page_drives_pip(server, world, ix, tmp_path, clients):
    """pip always asks for JSON first, so the HTML path is driven honestly this way: the page
    fetched with `Accept: text/html` is saved and handed to pip as --find-links (with
    --no-index). pip then parses the anchors' data-yanked / data-core-metadata attributes
    itself, skips the yanked 1.1, fetches 1.0's .metadata (seen in the server log) and
    installs the wheel from the server."""
    p = server.project("ixpub/html", "public")
    p["url"] = server.project_url(p["id"])
    w10 = wheel("wh-ht", "1.0", dest=tmp_path / "a")
    w11 = wheel("wh-ht", "1.1", dest=tmp_path / "b")
    upload(server, p["id"], w10, "wh-ht", "1.0", world.alice)
    upload(server, p["id"], w11, "wh-ht", "1.1", world.alice)
    r = put(server, p["id"], "yank", {"name": "wh-ht", "version": "1.1",
                                      "reason": "html reason"}, world.alice)
    assert r.status_code == 200, describe_response(r)

    r = server.get(f"{p['url']}/simple/wh-ht", headers={"Accept": "text/html"})
    assert r.status_code == 200, describe_response(r)
    assert r.headers["Content-Type"].startswith("text/html"), describe_response(r)
    assert has_repository_version(r.text), r.text
    links = Tags(r.text).by_text()
    assert sorted(links) == sorted([w10.filename, w11.filename]), r.text
    for w in (w10, w11):
        a = links[w.filename]
        assert a["href"].startswith("http") and a["href"].endswith(f"#sha256={w.sha256}"), r.text
        meta = f"sha256={sha256(wheel_metadata(w))}"
        assert a.get("data-core-metadata") == meta, r.text
        assert a.get("data-dist-info-metadata") == meta, r.text
    assert links[w11.filename].get("data-yanked") == "html reason", r.text
    assert "data-yanked" not in links[w10.filename], r.text

    saved = clients.scratch / "wh-ht.html"
    saved.write_text(r.text)
    base = urllib.parse.urlsplit(p["url"]).path
    for req, want in (("wh-ht", "1.0"), ("wh-ht==1.1", "1.1")):
        mark = log_mark(server)
        t = clients.target()
        proc = clients.run([sys.executable, "-m", "pip", "install", "--no-index", "--find-links",
                            saved, "--only-binary", ":all:", "--target", t, req])
        assert proc.returncode == 0, describe(proc)
        assert clients.imported(t, "wh_ht") == want, describe(proc)
        seen = requests_since(server, mark)
        w = w10 if want == "1.0" else w11
        file_path = f"{base}/files/{w.sha256}/{w.filename}"
        assert ("GET", file_path + ".metadata", 200) in seen, seen
        assert ("GET", file_path, 200) in seen, seen
        if want == "1.1":
            assert "yanked" in (proc.stdout + proc.stderr).lower(), describe(proc)


# ---------------------------------------------------------------- 6. PEP 658 upload checks

def assert_nothing_kept(wh, p, dist, name, auth):
    r = wh.get(f"{p['url']}/simple/{name}", auth=auth, headers={"Accept": JSON_T})
    assert r.status_code == 404 or not r.json()["files"], describe_response(r)
    r = wh.get(f"{p['url']}/files/{dist.sha256}/{dist.filename}", auth=auth)
    assert r.status_code == 404, describe_response(r)


BAD_WHEELS = {
    "no-metadata": dict(omit_metadata=True),
    "other-project": dict(meta_name="wh-someone-else"),
    "other-version": dict(meta_version="2.0"),
    "empty-metadata": dict(metadata=b""),
    "metadata-without-name": dict(metadata=b"Metadata-Version: 2.1\nVersion: 1.0\n"),
    "not-a-zip": None,
}


@pytest.mark.parametrize("case", list(BAD_WHEELS))
def test_wheel_metadata_must_match_upload(server, world, fresh_project, tmp_path, case):
    p = fresh_project()
    if BAD_WHEELS[case] is None:
        path = tmp_path / "wh_meta-1.0-py3-none-any.whl"
        path.write_bytes(b"PK\x03\x04" + os.urandom(2000))
        d = Dist.at(path)
    else:
        d = wheel("wh-meta", "1.0", dest=tmp_path, **BAD_WHEELS[case])
    r = server.upload(p["id"], d.data, d.filename, name="wh-meta", version="1.0",
                      auth=world.alice)
    assert r.status_code == 400, describe_response(r)
    assert_nothing_kept(server, p, d, "wh-meta", world.alice)
    # Control: an honest wheel (METADATA spelling the name differently is fine) goes in.
    ok = wheel("wh-meta", "1.0", meta_name="WH.Meta", dest=tmp_path / "ok")
    upload(server, p["id"], ok, "wh-meta", "1.0", world.alice)


class _Zeros(io.RawIOBase):
    """`n` zero bytes, produced on demand (the sdist bomb is never held in memory)."""

    def __init__(self, n):
        self.left = n

    def readable(self):
        return True

    def readinto(self, b):
        k = min(len(b), self.left)
        b[:k] = bytes(k)
        self.left -= k
        return k


def wheel_bomb(tmp_path, lying) -> Dist:
    """METADATA inflating to 300 MB (a few hundred KB on the wire); `lying` also rewrites the
    sizes in the local and central zip headers to claim 1000 bytes."""
    stem = "wh_bomb-1.0"
    path = tmp_path / f"{stem}-py3-none-any.whl"
    header = b"Metadata-Version: 2.1\nName: wh-bomb\nVersion: 1.0\nDescription: "
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr(f"{stem}.dist-info/WHEEL",
                    b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        with zf.open(f"{stem}.dist-info/METADATA", "w") as f:
            f.write(header)
            chunk = b"\0" * (1 << 20)
            for _ in range(300):
                f.write(chunk)
        zf.writestr("wh_bomb/__init__.py", b"")
    if lying:
        data = bytearray(path.read_bytes())
        name = f"{stem}.dist-info/METADATA".encode()
        patched = 0
        for sig, size_off, name_off in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
            i = data.find(sig)
            while i != -1:
                if data[i + name_off:i + name_off + len(name)] == name:
                    data[i + size_off:i + size_off + 4] = (1000).to_bytes(4, "little")
                    patched += 1
                i = data.find(sig, i + 4)
        assert patched == 2, patched
        path.write_bytes(bytes(data))
    return Dist.at(path)


def sdist_bomb(tmp_path) -> tuple[Dist, bytes]:
    """A .tar.gz whose first member is 600 MB of zeros, PKG-INFO after it."""
    stem = "wh_bomb-1.0"
    pkg_info = b"Metadata-Version: 2.2\nName: wh-bomb\nVersion: 1.0\n"
    path = tmp_path / f"{stem}.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=9) as tar:
        big = tarfile.TarInfo(f"{stem}/big.bin")
        big.size, big.mtime = 600 << 20, 1_700_000_000
        tar.addfile(big, _Zeros(big.size))
        info = tarfile.TarInfo(f"{stem}/PKG-INFO")
        info.size, info.mtime = len(pkg_info), 1_700_000_000
        tar.addfile(info, io.BytesIO(pkg_info))
    return Dist.at(path), pkg_info


@pytest.mark.timeout(600)
@pytest.mark.parametrize("kind", ["wheel-honest-sizes", "wheel-lying-sizes", "sdist-gzip"])
def test_zip_bomb_metadata_is_harmless(make_server, tmp_path, kind):
    """The server may refuse a bomb or accept it, but it must stay up, keep its memory bounded
    and never announce or serve hundreds of MB of metadata."""
    wh = make_server(name="bomb")
    p, auth = bootstrap(wh, "bomb")
    pkg_info = None
    if kind == "sdist-gzip":
        d, pkg_info = sdist_bomb(tmp_path)
    else:
        d = wheel_bomb(tmp_path, lying=kind.endswith("lying-sizes"))
    assert d.path.stat().st_size < 2_000_000, d.path.stat().st_size
    base_rss = peak_rss_kb(wh.proc.pid)
    t0 = time.monotonic()
    r = wh.upload(p["id"], d.data, d.filename, name="wh-bomb", version="1.0", auth=auth)
    took = time.monotonic() - t0
    assert r.status_code < 500, describe_response(r)
    assert wh.http.get(f"{wh.base}/-/health", timeout=10).status_code == 200
    assert wh.proc.poll() is None, wh.log_tail()
    grew = peak_rss_kb(wh.proc.pid) - base_rss
    assert grew < 150_000, f"server peak RSS grew by {grew} kB while reading the bomb"
    assert took < 30, f"the upload took {took:.1f} s"
    if kind.startswith("wheel"):  # a wheel without readable METADATA is refused
        assert r.status_code == 400, describe_response(r)
        assert_nothing_kept(wh, p, d, "wh-bomb", auth)
    elif r.status_code == 201:  # an sdist's PKG-INFO is optional
        f = get_json(wh, f"{p['url']}/simple/wh-bomb", auth)["files"][0]
        m = wh.get(f["url"] + ".metadata", auth=auth)
        if f["core-metadata"] is False:
            assert m.status_code == 404, describe_response(m)
        else:
            assert m.status_code == 200 and m.content == pkg_info, describe_response(m)
            assert f["core-metadata"] == {"sha256": sha256(pkg_info)}, f
    else:
        assert 400 <= r.status_code < 500, describe_response(r)
        assert_nothing_kept(wh, p, d, "wh-bomb", auth)
    total = sum(q.stat().st_size for q in wh.data_dir.rglob("*") if q.is_file())
    assert total < 50_000_000, f"data dir holds {total} bytes after the bomb"


def hostile_sdist(tmp_path, tag) -> Dist:
    """Members escaping the archive root, and PKG-INFO as a symlink / hard link to
    /etc/passwd: a reader that follows either would serve the host's file as metadata."""
    stem = "wh_hm-1.0"
    path = tmp_path / f"{stem}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name in (f"../../evil-{tag}-rel.txt", f"/tmp/evil-{tag}-abs.txt",
                     f"{stem}/../../../evil-{tag}-deep.txt"):
            info = tarfile.TarInfo(name)
            info.size = 4
            tar.addfile(info, io.BytesIO(b"evil"))
        link = tarfile.TarInfo(f"{stem}/PKG-INFO")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
        hard = tarfile.TarInfo(f"{stem}/PKG-INFO")
        hard.type, hard.linkname = tarfile.LNKTYPE, "/etc/passwd"
        tar.addfile(hard)
        escape = tarfile.TarInfo(f"evil-{tag}-link")
        escape.type, escape.linkname = tarfile.SYMTYPE, "/tmp"
        tar.addfile(escape)
        info = tarfile.TarInfo(f"evil-{tag}-link/evil-{tag}-through.txt")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
    return Dist.at(path)


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_hostile_member_paths_write_nothing_outside(make_server, tmp_path, tmp_path_factory,
                                                    kind):
    wh = make_server(name="hostile")
    p, auth = bootstrap(wh, "hostile")
    tag = uuid.uuid4().hex[:12]
    if kind == "wheel":
        evil = {f"../../evil-{tag}-rel.txt": b"rel", f"/tmp/evil-{tag}-abs.txt": b"abs",
                f"wh_hm/../../../../evil-{tag}-deep.txt": b"deep",
                f"..\\..\\evil-{tag}-bs.txt": b"bs",
                f"wh_hm-1.0.dist-info/../../evil-{tag}-di.txt": b"di"}
        d = wheel("wh-hm", "1.0", members=evil, dest=tmp_path)
        with zipfile.ZipFile(d.path) as zf:
            assert set(evil) <= set(zf.namelist()), zf.namelist()
    else:
        d = hostile_sdist(tmp_path, tag)
    r = wh.upload(p["id"], d.data, d.filename, name="wh-hm", version="1.0", auth=auth)
    assert r.status_code in (201, 400), describe_response(r)
    assert wh.http.get(f"{wh.base}/-/health", timeout=10).status_code == 200

    # Anything named after the tag outside the data dir is an escape (the server's working
    # directory is pytest's; `..` from anywhere lands in one of these directories).
    hits = set()
    for q in [*wh.data_dir.parents, Path.cwd(), *Path.cwd().parents, Path("/tmp")]:
        try:
            hits |= {str(x) for x in q.iterdir() if tag in x.name}
        except OSError:
            pass
    for dp, ds, ns in os.walk(tmp_path_factory.getbasetemp()):
        hits |= {os.path.join(dp, n) for n in ns + ds if tag in n}
    outside = sorted(h for h in hits if not h.startswith(str(wh.data_dir) + os.sep))
    assert not outside, f"hostile members were written outside the data dir: {outside}"
    if r.status_code == 201:
        got = wh.get(f"{p['url']}/files/{d.sha256}/{d.filename}", auth=auth)
        assert got.content == d.data, describe_response(got)
        m = wh.get(f"{p['url']}/files/{d.sha256}/{d.filename}.metadata", auth=auth)
        if kind == "wheel":
            assert m.status_code == 200 and m.content == wheel_metadata(d), describe_response(m)
        else:  # no regular PKG-INFO member: nothing to announce, and never the host's file
            assert b"root:" not in m.content, describe_response(m)
            (f,) = get_json(wh, f"{p['url']}/simple/wh-hm", auth)["files"]
            assert f["core-metadata"] is False and m.status_code == 404, (f, describe_response(m))
    else:
        assert_nothing_kept(wh, p, d, "wh-hm", auth)


def test_sdist_pkg_info_is_served_as_metadata(server, world, fresh_project, tmp_path):
    p = fresh_project()
    s = sdist("wh-sd", "1.0", extra_meta="Requires-Dist: idna\n", dest=tmp_path)
    pkg_info = s.metadata
    upload(server, p["id"], s, "wh-sd", "1.0", world.alice)
    (f,) = get_json(server, f"{p['url']}/simple/wh-sd", world.alice)["files"]
    assert f["core-metadata"] == {"sha256": sha256(pkg_info)}, f
    assert f["dist-info-metadata"] == f["core-metadata"], f
    m = server.get(f["url"] + ".metadata", auth=world.alice)
    assert m.status_code == 200 and m.content == pkg_info, describe_response(m)
    r = server.get(f"{p['url']}/simple/wh-sd", auth=world.alice, headers={"Accept": "text/html"})
    (a,) = Tags(r.text).anchors
    assert a["attrs"].get("data-core-metadata") == f"sha256={sha256(pkg_info)}", r.text


def test_requires_python_comes_from_metadata(server, world, fresh_project, tmp_path, clients):
    p = fresh_project()
    w1 = wheel("wh-rp", "1.0", extra_meta="Requires-Python: >=3.8\n", dest=tmp_path / "1")
    w2 = wheel("wh-rp", "2.0", extra_meta="Requires-Python: >=3.99\n", dest=tmp_path / "2")
    upload(server, p["id"], w1, "wh-rp", "1.0", world.alice, drop=("requires_python",))
    upload(server, p["id"], w2, "wh-rp", "2.0", world.alice, fields={"requires_python": ""})
    files = files_by_name(get_json(server, f"{p['url']}/simple/wh-rp", world.alice))
    assert files[w1.filename].get("requires-python") == ">=3.8", files
    assert files[w2.filename].get("requires-python") == ">=3.99", files
    r = server.get(f"{p['url']}/simple/wh-rp", auth=world.alice, headers={"Accept": "text/html"})
    links = Tags(r.text).by_text()
    assert links[w2.filename].get("data-requires-python") == ">=3.99", r.text
    assert 'data-requires-python="&gt;=3.99"' in r.text, r.text
    t = clients.target()
    proc = clients.pip_install(index_url(p["url"], world.tok["alice"]), "wh-rp", target=t)
    assert proc.returncode == 0, describe(proc)
    assert clients.imported(t, "wh_rp") == "1.0"


# ---------------------------------------------------------------- 7. caching and ranges

def test_page_etags_and_conditional_get(server, world, fresh_project, tmp_path):
    p = fresh_project()
    upload(server, p["id"], wheel("wh-et", "1.0", dest=tmp_path / "1"), "wh-et", "1.0",
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
    upload(server, p["id"], wheel("wh-et", "1.1", dest=tmp_path / "2"), "wh-et", "1.1",
           world.alice)
    upload(server, p["id"], wheel("wh-et2", "1.0", dest=tmp_path / "3"), "wh-et2", "1.0",
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
    mark = log_mark(server)
    assert server.get(url, auth=world.alice).status_code == 200
    assert server.get(url + "-nope", auth=world.alice).status_code == 404
    seen = requests_since(server, mark)
    path = urllib.parse.unquote(urllib.parse.urlsplit(url).path)
    assert ("GET", path, 200) in seen, seen
    assert ("GET", path + "-nope", 404) in seen, seen
