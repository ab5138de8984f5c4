"""PEP 658 at upload: the core metadata the server reads from an uploaded file. A wheel's
METADATA must match the upload; zip bombs and members with hostile paths are harmless; an sdist's
PKG-INFO is served as its metadata; Requires-Python comes from the metadata when the form has none."""
from __future__ import annotations

import io
import os
import tarfile
import time
import uuid
import zipfile
from pathlib import Path

import pytest

from distributions import Dist, sdist, wheel
from simple_api import JSON_T, Tags, files_by_name, get_json, wheel_metadata
from whlib import Wheelhouse, describe, describe_response, index_url, sha256, upload_ok


def bootstrap(wh: Wheelhouse, tag: str, visibility="private"):
    wh.user(f"{tag}-owner")
    tok = wh.token(f"{tag}-owner", "api")["token"]
    wh.group(tag, visibility)
    wh.member(f"{tag}-owner", "owner", group=tag)
    p = wh.project(f"{tag}/lib", visibility)
    p["url"] = wh.project_url(p["id"])
    return p, ("__token__", tok)


def assert_nothing_kept(wh, p, dist, name, auth):
    r = wh.get(f"{p['url']}/simple/{name}", auth=auth, headers={"Accept": JSON_T})
    assert r.status_code == 404 or not r.json()["files"], describe_response(r)
    r = wh.get(f"{p['url']}/files/{dist.sha256}/{dist.filename}", auth=auth)
    assert r.status_code == 404, describe_response(r)


# ---------------------------------------------------------------- metadata must match

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
    upload_ok(server, p["id"], ok, "wh-meta", "1.0", world.alice)


# ---------------------------------------------------------------- bombs and hostile members

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
    base_rss = wh.memory_kib()["VmHWM"]
    t0 = time.monotonic()
    r = wh.upload(p["id"], d.data, d.filename, name="wh-bomb", version="1.0", auth=auth)
    took = time.monotonic() - t0
    assert r.status_code < 500, describe_response(r)
    assert wh.http.get(f"{wh.base}/-/health", timeout=10).status_code == 200
    assert wh.proc.poll() is None, wh.log_tail()
    grew = wh.memory_kib()["VmHWM"] - base_rss
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


# ---------------------------------------------------------------- what the metadata says

def test_sdist_pkg_info_is_served_as_metadata(server, world, fresh_project, tmp_path):
    p = fresh_project()
    s = sdist("wh-sd", "1.0", extra_meta="Requires-Dist: idna\n", dest=tmp_path)
    pkg_info = s.metadata
    upload_ok(server, p["id"], s, "wh-sd", "1.0", world.alice)
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
    upload_ok(server, p["id"], w1, "wh-rp", "1.0", world.alice, drop=("requires_python",))
    upload_ok(server, p["id"], w2, "wh-rp", "2.0", world.alice, fields={"requires_python": ""})
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
