"""PEP 658/714: core metadata served next to each file, announced in HTML and JSON, and
used by clients: `uv lock` fetches `.metadata` instead of wheels, and pip driven by an HTML
page alone reads its attributes (the server's request log proves what the clients fetched)."""
from __future__ import annotations

import subprocess
import sys
import tomllib
import urllib.parse

import pytest

from distributions import wheel
from simple_api import (Tags, has_repository_version, page_url, put, requests_since,
                        wheel_metadata)
from whlib import describe, describe_response, index_url, sha256, upload_ok


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


# ---------------------------------------------------------------- uv lock reads .metadata

def run(cmd, env, cwd, timeout=240) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=timeout, stdin=subprocess.DEVNULL)


def test_uv_lock_uses_metadata_files_not_wheels(server, world, fresh_project, clients, tmp_path):
    p = fresh_project()
    d = tmp_path / "dists"
    lkdep = wheel("wh-lkdep", "1.0", dest=d / "dep")
    lk10 = wheel("wh-lk", "1.0", dest=d / "10")
    lk11 = wheel("wh-lk", "1.1", extra_meta="Requires-Dist: wh-lkdep>=1.0\n", dest=d / "11")
    for dist, name, ver in ((lkdep, "wh-lkdep", "1.0"), (lk10, "wh-lk", "1.0"),
                            (lk11, "wh-lk", "1.1")):
        upload_ok(server, p["id"], dist, name, ver, world.alice)

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
    mark = server.log_mark()
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


# ---------------------------------------------------------------- HTML-only clients

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
    upload_ok(server, p["id"], w10, "wh-ht", "1.0", world.alice)
    upload_ok(server, p["id"], w11, "wh-ht", "1.1", world.alice)
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
        mark = server.log_mark()
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
