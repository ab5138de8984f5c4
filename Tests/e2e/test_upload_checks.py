"""What an upload must prove before it is kept: digests, file names, name/version,
duplicates and size."""
import os

import pytest

from distributions import sdist, wheel
from whlib import describe, describe_response, parse_links, sha256


def files_on_page(server, project, name, auth):
    r = server.get(f"{project['url']}/simple/{name}", auth=auth)
    if r.status_code == 404:
        return []
    assert r.status_code == 200, describe_response(r)
    return [link.text for link in parse_links(r.text)]


def stored_anywhere(root, needle: bytes) -> list:
    """Paths of files under `root` whose bytes contain `needle`."""
    hits = []
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            try:
                with open(p, "rb") as f:
                    if needle in f.read():
                        hits.append(p)
            except OSError:
                pass
    return hits


def all_paths(root) -> set:
    return {os.path.join(dp, n) for dp, ds, ns in os.walk(root) for n in ns + ds}


def assert_absent(server, project, dist, name, auth):
    assert dist.filename not in files_on_page(server, project, name, auth)
    r = server.get(f"{project['url']}/files/{dist.sha256}/{dist.filename}", auth=auth)
    assert r.status_code == 404, describe_response(r)


# ---------------------------------------------------------------- digests

@pytest.mark.parametrize("field", ["sha256_digest", "blake2_256_digest", "md5_digest"])
def test_wrong_digest_is_refused_and_nothing_is_kept(server, world, fresh_project, tmp_path, field):
    p = fresh_project()
    d = sdist("wh-tamper", "1.0.0", dest=tmp_path)
    bogus = {"sha256_digest": "0" * 64, "blake2_256_digest": "f" * 64, "md5_digest": "e" * 32}
    r = server.upload(p["id"], d.data, d.filename, name="wh-tamper", version="1.0.0",
                      auth=world.alice, fields={field: bogus[field]})
    assert r.status_code == 400, describe_response(r)
    assert_absent(server, p, d, "wh-tamper", world.alice)
    assert not stored_anywhere(server.data_dir, d.data), "rejected bytes were stored"
    # Control: the same bytes with true digests are accepted, so the digest was the reason.
    r = server.upload(p["id"], d.data, d.filename, name="wh-tamper", version="1.0.0",
                      auth=world.alice)
    assert r.status_code == 201, describe_response(r)
    assert files_on_page(server, p, "wh-tamper", world.alice) == [d.filename]


# ---------------------------------------------------------------- file names

HOSTILE = [
    b"../evil-1.0.tar.gz",
    b"..\\evil-1.0.tar.gz",
    b"sub/evil-1.0.tar.gz",
    b"/tmp/evil-1.0.tar.gz",
    b"evil-1.0.tar.gz\n",
    b"evil-1.0.tar.gz\x01",
    b"evil-1.0\x00.tar.gz",
    b".evil-1.0.tar.gz",
]


@pytest.mark.parametrize("filename", HOSTILE, ids=[repr(h)[2:-1] for h in HOSTILE])
def test_hostile_filename_is_refused(server, world, fresh_project, tmp_path, filename):
    p = fresh_project()
    d = sdist("evil", "1.0", dest=tmp_path)
    root = server.data_dir.parent  # holds the data dir and the server log
    before = all_paths(root)
    tmp_evil = os.path.exists("/tmp/evil-1.0.tar.gz")
    r = server.upload(p["id"], d.data, filename, name="evil", version="1.0", auth=world.alice)
    assert r.status_code == 400, describe_response(r)
    assert files_on_page(server, p, "evil", world.alice) == []
    new = all_paths(root) - before
    assert not [q for q in new if "evil" in os.path.basename(q)], new
    assert not [q for q in new if not q.startswith(str(server.data_dir) + os.sep)], new
    assert not (root.parent / "evil-1.0.tar.gz").exists()
    assert os.path.exists("/tmp/evil-1.0.tar.gz") == tmp_evil
    # Control: the same bytes under their honest name are fine.
    r = server.upload(p["id"], d.data, d.filename, name="evil", version="1.0", auth=world.alice)
    assert r.status_code == 201, describe_response(r)


@pytest.mark.parametrize("filename,name,version", [
    ("wh_demo-1.0.0.tar.gz", "other-pkg", "1.0.0"),
    ("wh_demo-1.0.0.tar.gz", "wh-demo", "2.0.0"),
    ("wh_demo-1.0.0-py3-none-any.whl", "wh-demo", "1.0.1"),
    ("wh_demo-1.0.0-py3-none-any.whl", "wh-demox", "1.0.0"),
    ("wh_demo-1.0.0.zip.exe", "wh-demo", "1.0.0"),
    ("wh_demo-1.0.0-py3-none.whl", "wh-demo", "1.0.0"),
])
def test_filename_must_match_name_and_version(server, world, fresh_project, dists,
                                              filename, name, version):
    p = fresh_project()
    d = dists.demo100.wheel if filename.endswith(".whl") else dists.demo100.sdist
    r = server.upload(p["id"], d.data, filename, name=name, version=version, auth=world.alice)
    assert r.status_code == 400, describe_response(r)
    assert files_on_page(server, p, name, world.alice) == []


@pytest.mark.parametrize("name,version", [("WH.Demo", "1.0.0"), ("wh_demo", "1.0"),
                                          ("wh-demo", "1.0.0.0")])
def test_name_and_version_compare_normalised(server, world, fresh_project, dists, name, version):
    p = fresh_project()
    d = dists.demo100.sdist
    r = server.upload(p["id"], d.data, d.filename, name=name, version=version, auth=world.alice)
    assert r.status_code == 201, describe_response(r)
    assert files_on_page(server, p, "wh-demo", world.alice) == [d.filename]


# ---------------------------------------------------------------- duplicates

def test_duplicates(server, world, fresh_project, dists, clients):
    p = fresh_project()
    a, b = dists.demo100, dists.demo100b
    up = lambda d: server.upload(p["id"], d.data, d.filename, name="wh-demo",  # noqa: E731
                                 version="1.0.0", auth=world.alice)
    assert up(a.sdist).status_code == 201
    r = up(a.sdist)
    assert 200 <= r.status_code < 300, describe_response(r)  # identical bytes: no-op
    r = up(b.sdist)
    assert r.status_code == 400, describe_response(r)
    assert "File name has already been taken" in r.reason, describe_response(r)
    assert "File name has already been taken" in r.json()["message"], describe_response(r)
    # The original bytes are still the ones served.
    r = server.get(f"{p['url']}/files/{a.sdist.sha256}/{a.sdist.filename}", auth=world.alice)
    assert r.content == a.sdist.data, describe_response(r)
    r = server.get(f"{p['url']}/files/{b.sdist.sha256}/{b.sdist.filename}", auth=world.alice)
    assert r.status_code == 404, describe_response(r)
    page = server.get(f"{p['url']}/simple/wh-demo", auth=world.alice).text
    assert [link.href.split("#sha256=")[1] for link in parse_links(page)] == [a.sdist.sha256]

    # A wheel uploaded later joins the same release.
    assert up(a.wheel).status_code == 201
    assert sorted(files_on_page(server, p, "wh-demo", world.alice)) == sorted(
        [a.sdist.filename, a.wheel.filename])

    # twine --skip-existing over everything already there passes.
    proc = clients.twine_upload(p["url"], world.tok["alice"], a.sdist.path, a.wheel.path,
                                extra=["--skip-existing"])
    assert proc.returncode == 0, describe(proc)
    # A rebuilt sdist (same name, new bytes) is skipped by --skip-existing, refused without it.
    proc = clients.twine_upload(p["url"], world.tok["alice"], b.sdist.path,
                                extra=["--skip-existing"])
    assert proc.returncode == 0, describe(proc)
    assert "Skipping" in proc.stdout + proc.stderr, describe(proc)
    proc = clients.twine_upload(p["url"], world.tok["alice"], b.sdist.path)
    assert proc.returncode != 0, describe(proc)
    assert "already been taken" in proc.stdout + proc.stderr, describe(proc)
    page = server.get(f"{p['url']}/simple/wh-demo", auth=world.alice).text
    assert a.sdist.sha256 in page and b.sdist.sha256 not in page, page


# ---------------------------------------------------------------- size

def test_oversize_upload_is_refused_and_nothing_is_kept(make_server, tmp_path, clients):
    limit = 64 * 1024
    wh = make_server("--max-upload-size", str(limit), name="small")
    wh.user("uma")
    tok = wh.token("uma", "api")["token"]
    wh.group("big")
    wh.member("uma", "owner", group="big")
    p = wh.project("big/lib")
    p["url"] = wh.project_url(p["id"])
    auth = ("__token__", tok)

    payload = os.urandom(4 * limit)
    big = wheel("wh-big", "1.0.0", payload=payload, dest=tmp_path)
    for chunked in (False, True):  # refused by Content-Length, or while streaming
        r = wh.upload(p["id"], big.data, big.filename, name="wh-big", version="1.0.0",
                      auth=auth, chunked=chunked)
        assert r.status_code in (413, 400), describe_response(r)
        assert not stored_anywhere(wh.data_dir, payload[:4096]), "oversize bytes were kept"
        assert_absent(wh, p, big, "wh-big", auth)

    proc = clients.twine_upload(p["url"], tok, big.path)
    assert proc.returncode != 0, describe(proc)
    assert "413" in proc.stdout + proc.stderr or "400" in proc.stdout + proc.stderr, describe(proc)

    small = wheel("wh-small", "1.0.0", payload=os.urandom(limit // 4), dest=tmp_path)
    r = wh.upload(p["id"], small.data, small.filename, name="wh-small", version="1.0.0", auth=auth,
                  chunked=True)
    assert r.status_code == 201, describe_response(r)
    got = wh.get(f"{p['url']}/files/{sha256(small.data)}/{small.filename}", auth=auth)
    assert got.content == small.data
