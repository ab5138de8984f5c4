"""Blobs in an S3-compatible bucket (issue 13), with the real clients and the real AWS client:
twine, pip and uv through `--blob-store s3://...`, and boto3 looking into the bucket behind
Wheelhouse's back (moto in server mode, Tests/harness/s3_server.py, signatures checked).

What the bucket must hold: each blob at PREFIX/sha256/<its sha256>, the bytes that hash to that
name, nothing else (no temporary objects, no multipart upload left open); identical bytes once;
an object deleted with the last file that refers to it. What clients must see: downloads as on
the file store (Range, If-Range, HEAD, ETag) in proxy mode; in redirect mode a 302 to a presigned
URL on the S3 endpoint, after the same permission checks. What operators must see: `serve`
refusing to start on a bucket it cannot use, with one line; 503 with Retry-After (never a hang,
never a half-written row) while the store is down or hung, and recovery without a restart; no
secret in any log; `wheelhouse blobs copy` moving a registry to the bucket and back, resumably.

Runs in every pass on S3 whatever WHEELHOUSE_E2E_BLOB_STORE says, on SQLite or PostgreSQL as the
pass says. The main server uses the session's S3 server (the `s3` fixture); tests that take the
store down or hang it, and the redirect tests (moto cannot check presigned URLs, so they run on
one that checks nothing), start an S3 server of their own."""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import subprocess
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest
import requests

from distributions import sdist, wheel
from s3_server import S3Server, free_port
from server import ObjectStore
from simple_api import wheel_metadata
from whlib import (Clients, Wheelhouse, describe, describe_response, index_url, parse_links,
                   sha256)

pytestmark = pytest.mark.timeout(180)

JSON_T = "application/vnd.pypi.simple.v1+json"
MiB = 1024 * 1024
BLOB_KEY = re.compile(r"sha256/([0-9a-f]{64})")


# ---------------------------------------------------------------- helpers

class S3Wheelhouse(Wheelhouse):
    """whlib.Wheelhouse with its blobs in `store` (an ObjectStore from S3Server.store), the
    database as the pass says."""

    def __init__(self, binary, data_dir, log_path, store: ObjectStore, extra_args=(), **kw):
        super().__init__(binary, data_dir, log_path, extra_args, **kw)
        self.blob_store = store
        self.blob_dir = None


class Registry:
    """A started server with user alice (owner of group `obj`), her token, and projects."""

    def __init__(self, wh: Wheelhouse, s3: S3Server, prefix: str):
        self.wh, self.s3, self.prefix = wh, s3, prefix
        wh.user("alice")
        self.tok = wh.token("alice", "api")["token"]
        self.auth = ("__token__", self.tok)
        wh.group("obj")
        wh.member("alice", "owner", group="obj")
        self._n = 0

    def project(self, hint="p", visibility="private") -> dict:
        self._n += 1
        p = self.wh.project(f"obj/{hint}-{self._n}", visibility)
        p["url"] = self.wh.project_url(p["id"])
        return p

    def key(self, digest: str) -> str:
        return f"{self.prefix}/sha256/{digest}"

    def objects(self) -> dict[str, int]:
        return self.s3.objects(self.prefix + "/")


def make_registry(wheelhouse_bin, root: Path, name: str, s3: S3Server, serve_args=(),
                  env=None) -> Registry:
    prefix = f"obj/{name}-{uuid.uuid4().hex[:8]}"
    d = root / name
    wh = S3Wheelhouse(wheelhouse_bin, d / "data", d / "server.log", s3.store(prefix, env=env),
                      serve_args)
    wh.start()
    return Registry(wh, s3, prefix)


def upload(reg: Registry, p, d, name, version, **kw) -> requests.Response:
    return reg.wh.upload(p["id"], d.data, d.filename, name=name, version=version, auth=reg.auth,
                         **kw)


def upload_ok(reg: Registry, p, d, name, version) -> requests.Response:
    r = upload(reg, p, d, name, version)
    assert r.status_code == 201, describe_response(r)
    return r


def file_url(reg: Registry, p, d) -> str:
    return f"{p['url']}/files/{d.sha256}/{d.filename}"


def page_files(reg: Registry, p, name) -> list[tuple[str, str]]:
    """(file name, sha256) of the project's simple page for `name` ([] when 404)."""
    r = reg.wh.get(f"{p['url']}/simple/{name}", auth=reg.auth)
    if r.status_code == 404:
        return []
    assert r.status_code == 200, describe_response(r)
    return sorted((x.text, x.href.split("#sha256=")[-1]) for x in parse_links(r.text))


def assert_content_addressed(reg: Registry, objects: dict[str, int] | None = None):
    """Every object under the prefix is PREFIX/sha256/<h> and its bytes hash to h: no temporary
    or partial objects, no other layout; and no multipart upload is left open."""
    objects = reg.objects() if objects is None else objects
    for key, size in objects.items():
        m = BLOB_KEY.fullmatch(key[len(reg.prefix) + 1:])
        assert key.startswith(reg.prefix + "/") and m, f"unexpected object {key} ({size} bytes)"
        assert sha256(reg.s3.get_bytes(key)) == m.group(1), f"{key} does not hold its sha256"
    pending = reg.s3.pending_multipart_uploads(reg.prefix + "/")
    assert pending == [], f"multipart uploads left open: {pending}"


def assert_spool_empty(wh: Wheelhouse):
    """The upload spool (<data-dir>/spool) keeps nothing once uploads have answered."""
    spool = wh.data_dir / "spool"
    left = [str(q) for q in spool.rglob("*") if q.is_file()] if spool.exists() else []
    assert left == [], f"spooled files left behind: {left}"


def package_file_id(reg: Registry, p, name, filename) -> tuple[int, int]:
    """(package id, package file id) of `filename` through the REST API."""
    hdrs = {"PRIVATE-TOKEN": reg.tok}
    r = reg.wh.get(f"projects/{p['id']}/packages?package_name={name}", headers=hdrs)
    assert r.status_code == 200, describe_response(r)
    for pkg in r.json():
        f = reg.wh.get(f"projects/{p['id']}/packages/{pkg['id']}/package_files", headers=hdrs)
        assert f.status_code == 200, describe_response(f)
        for x in f.json():
            if x["file_name"] == filename:
                return pkg["id"], x["id"]
    raise AssertionError(f"{filename} not found in project {p['id']}: {r.text}")


def delete_file(reg: Registry, p, name, filename):
    pkg, fid = package_file_id(reg, p, name, filename)
    r = reg.wh.http.delete(f"{reg.wh.api}/projects/{p['id']}/packages/{pkg}/package_files/{fid}",
                           headers={"PRIVATE-TOKEN": reg.tok}, timeout=30)
    assert r.status_code == 204, describe_response(r)


def poll(fn, timeout, interval=0.05):
    t0 = time.monotonic()
    while True:
        v = fn()
        if v or time.monotonic() - t0 > timeout:
            return v, time.monotonic() - t0
        time.sleep(interval)


def assert_no_secret_in_log(wh: Wheelhouse, *secrets: str):
    text = wh.log_path.read_text(errors="replace")
    for s in secrets:
        assert s and s not in text, f"a secret appears in {wh.log_path}"


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("objstore")


@pytest.fixture(scope="module")
def reg(wheelhouse_bin, root, s3):
    """The module's server on the session's S3 server (signatures checked), proxy mode."""
    r = make_registry(wheelhouse_bin, root, "main", s3)
    yield r
    code = r.wh.stop()
    assert code == 0, f"exited with {code} on SIGTERM\n{r.wh.log_tail()}"
    assert_no_secret_in_log(r.wh, s3.secret_key)


@pytest.fixture
def clients(tmp_path):
    return Clients(tmp_path / "clients")


# ---------------------------------------------------------------- publish and install

def test_twine_upload_then_pip_and_uv_install_from_the_bucket(reg, clients, tmp_path):
    p = reg.project("flow")
    before = reg.objects()
    w = wheel("wh-s3", "1.0", dest=tmp_path)
    s = sdist("wh-s3", "1.0", dest=tmp_path)
    proc = clients.twine_upload(p["url"], reg.tok, w.path, s.path)
    assert proc.returncode == 0, describe(proc)
    assert page_files(reg, p, "wh-s3") == sorted([(w.filename, w.sha256), (s.filename, s.sha256)])

    objects = reg.objects()
    for d in (w, s):
        key = reg.key(d.sha256)
        assert objects.get(key) == len(d.data), (key, objects)
        assert reg.s3.get_bytes(key) == d.data, f"{key} holds other bytes than {d.filename}"
    assert set(objects) - set(before) >= {reg.key(w.sha256), reg.key(s.sha256)}
    assert_content_addressed(reg, objects)
    assert_spool_empty(reg.wh)

    for install in (clients.pip_install, clients.uv_install):
        target = clients.target()
        proc = install(index_url(p["url"], reg.tok), "wh-s3==1.0", target=target)
        assert proc.returncode == 0, describe(proc)
        assert clients.imported(target, "wh_s3") == "1.0"
    got = reg.wh.get(file_url(reg, p, s), auth=reg.auth)
    assert got.status_code == 200 and got.content == s.data, describe_response(got)


def test_identical_bytes_are_one_object_until_the_last_file_goes(reg, tmp_path):
    p1, p2 = reg.project("same-a"), reg.project("same-b")
    d = wheel("wh-same", "1.0", payload=os.urandom(300 * 1024), dest=tmp_path)
    before = reg.objects()
    upload_ok(reg, p1, d, "wh-same", "1.0")
    after_one = reg.objects()
    assert reg.key(d.sha256) in after_one, after_one
    upload_ok(reg, p2, d, "wh-same", "1.0")
    after_two = reg.objects()
    assert after_two == after_one, (
        f"the same bytes in a second project added objects: {set(after_two) - set(after_one)}")

    delete_file(reg, p1, "wh-same", d.filename)
    assert reg.key(d.sha256) in reg.objects(), "the object went while project 2 still has the file"
    got = reg.wh.get(file_url(reg, p2, d), auth=reg.auth)
    assert got.status_code == 200 and got.content == d.data, describe_response(got)
    gone = reg.wh.get(file_url(reg, p1, d), auth=reg.auth)
    assert gone.status_code == 404, describe_response(gone)

    delete_file(reg, p2, "wh-same", d.filename)
    back, took = poll(lambda: reg.objects() == before, timeout=5)
    assert back, (f"{took:.1f} s after the last file's deletion the bucket still holds "
                  f"{sorted(set(reg.objects()) - set(before))}")
    r = reg.wh.get(file_url(reg, p2, d), auth=reg.auth)
    assert r.status_code == 404, describe_response(r)


def test_a_refused_upload_leaves_nothing_in_the_bucket(reg, tmp_path):
    p = reg.project("refused")
    d = wheel("wh-refused", "1.0", payload=os.urandom(64 * 1024), dest=tmp_path)
    before = reg.objects()
    r = upload(reg, p, d, "wh-refused", "1.0", fields={"sha256_digest": "0" * 64})
    assert r.status_code == 400, describe_response(r)
    assert reg.objects() == before, f"a refused upload left {set(reg.objects()) - set(before)}"
    assert_content_addressed(reg)
    assert_spool_empty(reg.wh)


# ---------------------------------------------------------------- downloads in proxy mode

def test_proxy_downloads_head_range_if_range_and_etag(reg, tmp_path):
    p = reg.project("ranges")
    # Larger than the store's in-memory cache of small blobs, so every read goes to the bucket.
    d = wheel("wh-rng", "1.0", payload=os.urandom(3 * MiB), dest=tmp_path)
    upload_ok(reg, p, d, "wh-rng", "1.0")
    data, size, url, a = d.data, len(d.data), file_url(reg, p, d), reg.auth
    etag = f'"{d.sha256}"'

    full = reg.wh.get(url, auth=a)
    assert full.status_code == 200 and full.content == data, describe_response(full)
    assert full.headers.get("ETag") == etag, describe_response(full)
    assert int(full.headers.get("Content-Length", -1)) == size, describe_response(full)
    lm = full.headers.get("Last-Modified")
    assert lm, describe_response(full)

    h = reg.wh.http.head(url, auth=a, timeout=30, allow_redirects=False)
    assert h.status_code == 200 and h.content == b"", describe_response(h)
    assert int(h.headers.get("Content-Length", -1)) == size, describe_response(h)
    assert h.headers.get("ETag") == etag and h.headers.get("Last-Modified") == lm, \
        describe_response(h)

    for spec, want, first in (("bytes=0-99", data[:100], 0),
                              (f"bytes={MiB}-{2 * MiB - 1}", data[MiB:2 * MiB], MiB),
                              ("bytes=-100", data[-100:], size - 100),
                              (f"bytes={size - 10}-", data[-10:], size - 10)):
        r = reg.wh.get(url, auth=a, headers={"Range": spec})
        assert r.status_code == 206, (spec, describe_response(r))
        assert r.headers.get("Content-Range") == f"bytes {first}-{first + len(want) - 1}/{size}", \
            (spec, describe_response(r))
        assert r.content == want, f"wrong bytes for {spec}"

    r = reg.wh.get(url, auth=a, headers={"Range": f"bytes={size + 10}-"})
    assert r.status_code == 416, describe_response(r)
    assert r.headers.get("Content-Range") == f"bytes */{size}", describe_response(r)

    # If-Range: the range when the validator matches, the whole file when it does not.
    r = reg.wh.get(url, auth=a, headers={"Range": "bytes=100-199", "If-Range": etag})
    assert r.status_code == 206 and r.content == data[100:200], describe_response(r)
    r = reg.wh.get(url, auth=a, headers={"Range": "bytes=100-199", "If-Range": '"other"'})
    assert r.status_code == 200 and r.content == data, describe_response(r)

    r = reg.wh.get(url, auth=a, headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b"", describe_response(r)
    r = reg.wh.get(url, auth=a, headers={"If-None-Match": '"something-else"'})
    assert r.status_code == 200 and r.content == data, describe_response(r)

    m = reg.wh.get(url + ".metadata", auth=a)
    assert m.status_code == 200 and m.content == wheel_metadata(d), describe_response(m)


def test_an_object_gone_from_the_bucket_is_a_clean_404(reg, tmp_path):
    """The bucket's counterpart of test_downloads' blob gone from disk."""
    p = reg.project("gone")
    d = wheel("wh-gone", "1.0", payload=os.urandom(2 * MiB), dest=tmp_path)
    upload_ok(reg, p, d, "wh-gone", "1.0")
    reg.s3.client.delete_object(Bucket=reg.s3.bucket, Key=reg.key(d.sha256))
    with requests.Session() as s:
        s.trust_env = False
        r = s.get(file_url(reg, p, d), auth=reg.auth, timeout=30)
        assert r.status_code == 404, describe_response(r)
        # A whole answer: nothing (as the file store's) or the usual JSON message, never a
        # truncated file or a 503 (the bucket did answer: the object is not there).
        assert r.content == b"" or "message" in r.json(), describe_response(r)
        again = s.get(f"{p['url']}/simple/wh-gone/", auth=reg.auth, timeout=30)
        assert again.status_code == 200, describe_response(again)


def test_a_40_mib_upload_goes_multipart_and_round_trips(reg, tmp_path):
    p = reg.project("big")
    d = wheel("wh-big40", "1.0", payload=40 * MiB, dest=tmp_path)
    assert len(d.data) > 40 * MiB
    t = time.monotonic()
    r = upload(reg, p, d, "wh-big40", "1.0", timeout=120)
    took = time.monotonic() - t
    assert r.status_code == 201, describe_response(r)
    print(f"[object-storage] 40 MiB upload to moto: {took:.1f} s")

    key = reg.key(d.sha256)
    head = reg.s3.client.head_object(Bucket=reg.s3.bucket, Key=key)
    assert head["ContentLength"] == len(d.data), head
    # A completed multipart upload's ETag is "<md5 of the parts' md5s>-<number of parts>".
    m = re.fullmatch(r'"[0-9a-f]{32}-(\d+)"', head["ETag"])
    assert m and int(m.group(1)) >= 2, f"not stored by a multipart upload: ETag {head['ETag']}"
    print(f"[object-storage] 40 MiB object: {m.group(1)} parts "
          f"(8 MiB parts would be {math.ceil(len(d.data) / (8 * MiB))})")
    assert sha256(reg.s3.get_bytes(key)) == d.sha256
    assert reg.s3.pending_multipart_uploads(reg.prefix + "/") == []
    assert_spool_empty(reg.wh)

    got = reg.wh.http.get(file_url(reg, p, d), auth=reg.auth, timeout=120, stream=True)
    assert got.status_code == 200, describe_response(got)
    h = hashlib.sha256()
    for chunk in got.iter_content(MiB):
        h.update(chunk)
    assert h.hexdigest() == d.sha256, "the 40 MiB download differs from the upload"


# ---------------------------------------------------------------- redirect mode

@pytest.fixture(scope="module")
def open_s3(root):
    """An S3 server that checks no signature: moto with checks on cannot serve presigned URLs."""
    s3 = S3Server(root / "s3-open", check_signatures=False).start()
    yield s3
    s3.stop()


@pytest.fixture(scope="module")
def redirecting(wheelhouse_bin, root, open_s3):
    r = make_registry(wheelhouse_bin, root, "redirect", open_s3,
                      serve_args=("--s3-download", "redirect"))
    yield r
    r.wh.stop()
    assert_no_secret_in_log(r.wh, open_s3.secret_key)


def test_redirect_mode_answers_file_gets_with_a_presigned_url(redirecting, clients, tmp_path):
    reg = redirecting
    p = reg.project("redir")
    d = wheel("wh-redir", "1.0", dest=tmp_path)
    upload_ok(reg, p, d, "wh-redir", "1.0")
    assert reg.objects().get(reg.key(d.sha256)) == len(d.data)

    r = reg.wh.get(file_url(reg, p, d), auth=reg.auth)
    assert r.status_code == 302, describe_response(r)
    location = r.headers["Location"]
    u = urllib.parse.urlsplit(location)
    endpoint = urllib.parse.urlsplit(reg.s3.endpoint)
    assert (u.scheme, u.netloc) == (endpoint.scheme, endpoint.netloc), location
    assert urllib.parse.unquote(u.path) == f"/{reg.s3.bucket}/{reg.key(d.sha256)}", location
    q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
    assert q.get("X-Amz-Algorithm") == "AWS4-HMAC-SHA256", q
    assert re.fullmatch(r"[0-9a-f]{64}", q.get("X-Amz-Signature", "")), q
    assert q.get("X-Amz-Expires") == "600", q
    assert q.get("X-Amz-Credential", "").startswith(f"{reg.s3.access_key}/"), q
    assert q.get("response-content-disposition") == f'attachment; filename="{d.filename}"', q
    assert reg.s3.secret_key not in location

    # The URL alone (no Wheelhouse credentials) fetches the bytes from the S3 server.
    got = requests.get(location, timeout=30)
    assert got.status_code == 200 and got.content == d.data, describe_response(got)
    assert got.headers.get("Content-Disposition") == f'attachment; filename="{d.filename}"'

    # HEAD and .metadata are answered by Wheelhouse itself.
    h = reg.wh.http.head(file_url(reg, p, d), auth=reg.auth, timeout=30, allow_redirects=False)
    assert h.status_code == 200 and "Location" not in h.headers, describe_response(h)
    assert int(h.headers.get("Content-Length", -1)) == len(d.data), describe_response(h)
    m = reg.wh.get(file_url(reg, p, d) + ".metadata", auth=reg.auth)
    assert m.status_code == 200 and "Location" not in m.headers, describe_response(m)
    assert m.content == wheel_metadata(d), describe_response(m)

    for install in (clients.pip_install, clients.uv_install):
        target = clients.target()
        proc = install(index_url(p["url"], reg.tok), "wh-redir==1.0", target=target)
        assert proc.returncode == 0, describe(proc)
        assert clients.imported(target, "wh_redir") == "1.0"


def test_redirect_mode_checks_permissions_before_redirecting(redirecting, tmp_path):
    reg = redirecting
    p = reg.project("redir-private")
    d = wheel("wh-redir-priv", "1.0", dest=tmp_path)
    upload_ok(reg, p, d, "wh-redir-priv", "1.0")
    reg.wh.user("mallory")
    other = ("__token__", reg.wh.token("mallory", "api")["token"])
    url = file_url(reg, p, d)
    for label, auth, codes in (("no credentials", None, (401, 404)),
                               ("a wrong token", ("__token__", "glpat-wrong"), (401,)),
                               ("a user without access", other, (403, 404))):
        r = reg.wh.get(url, auth=auth)
        assert r.status_code in codes, (label, describe_response(r))
        assert "Location" not in r.headers, (label, describe_response(r))
        assert "X-Amz" not in r.text, (label, describe_response(r))
        m = reg.wh.get(url + ".metadata", auth=auth)
        assert m.status_code in codes and "Location" not in m.headers, (label, describe_response(m))
    # A file the project does not have: 404 from Wheelhouse, not a URL to a missing object.
    r = reg.wh.get(f"{p['url']}/files/{'0' * 64}/{d.filename}", auth=reg.auth)
    assert r.status_code == 404 and "Location" not in r.headers, describe_response(r)


# ---------------------------------------------------------------- start-up checks

def startup_failure(wheelhouse_bin, root, name, store: ObjectStore) -> tuple:
    """`serve` on `store`, which must not be usable: (exit code, seconds, stdout, stderr)."""
    d = root / name
    wh = S3Wheelhouse(wheelhouse_bin, d / "data", d / "server.log", store)
    argv, env = wh.serve_command()
    t = time.monotonic()
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=30,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"serve on an unusable store still runs after 30 s: {' '.join(argv)}\n"
                    f"{e.stdout!r}\n{e.stderr!r}")
    return proc, time.monotonic() - t, wh


@pytest.mark.parametrize("case", ["wrong secret", "missing bucket", "nothing listening"])
def test_serve_refuses_a_store_it_cannot_use_with_one_line(wheelhouse_bin, root, s3, case):
    prefix = f"obj/start-{uuid.uuid4().hex[:6]}"
    secret = s3.secret_key
    if case == "wrong secret":
        secret = s3.secret_key[:-4] + ("AAAA" if not s3.secret_key.endswith("AAAA") else "BBBB")
        store, bucket, endpoint = s3.store(prefix, env={"AWS_SECRET_ACCESS_KEY": secret}), \
            s3.bucket, s3.endpoint
        reason = re.compile(r"denied|SignatureDoesNotMatch|forbidden|403", re.I)
    elif case == "missing bucket":
        bucket, endpoint = "wheelhouse-no-such-bucket", s3.endpoint
        base = s3.store(prefix)
        url = f"s3://{bucket}/{prefix}"
        store = ObjectStore(url, base.args, {**base.env, "WHEELHOUSE_BLOB_STORE": url})
        reason = re.compile(r"no such bucket|NoSuchBucket|404", re.I)
    else:
        bucket, endpoint = s3.bucket, f"http://127.0.0.1:{free_port()}"
        url = f"s3://{bucket}/{prefix}"
        store = ObjectStore(url, ["--s3-endpoint", endpoint, "--s3-region", s3.region],
                            {**s3.env(), "WHEELHOUSE_BLOB_STORE": url,
                             "WHEELHOUSE_S3_ENDPOINT": endpoint})
        reason = re.compile(r"refused|connect", re.I)
    proc, took, wh = startup_failure(wheelhouse_bin, root, f"start-{case.replace(' ', '-')}", store)
    detail = f"{case}: exit {proc.returncode} after {took:.1f} s\nstdout: {proc.stdout!r}\n" \
             f"stderr: {proc.stderr!r}"
    assert proc.returncode == 1, detail
    # "A few seconds": a refused connection or a 403 is known at once; the connect deadline is 3 s.
    assert took < 5, detail
    lines = [x for x in proc.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, detail
    line = lines[0]
    assert line.startswith(f"error: cannot use blob store s3://{bucket}/{prefix} at {endpoint}"), \
        detail
    assert reason.search(line.split(f" at {endpoint}", 1)[1]), detail
    for s in {secret, s3.secret_key}:
        assert s not in proc.stdout + proc.stderr, f"{case}: the secret was printed"
    assert not wh.healthy(), f"{case}: something answers on the port"


# ---------------------------------------------------------------- faults

@pytest.fixture
def faulty(wheelhouse_bin, tmp_path):
    """A server on an S3 server of its own, which the test takes down or hangs."""
    s3 = S3Server(tmp_path / "s3").start()
    reg = make_registry(wheelhouse_bin, tmp_path, "faulty", s3)
    yield reg
    if s3.paused:
        s3.resume()
    if not s3.forwarder.is_up:
        s3.up()
    code = reg.wh.stop()
    try:
        assert code == 0, f"exited with {code} on SIGTERM\n{reg.wh.log_tail()}"
        assert_no_secret_in_log(reg.wh, s3.secret_key)
    finally:
        s3.stop()


def assert_503_with_retry_after(r: requests.Response, label: str):
    assert r.status_code == 503, (label, describe_response(r))
    retry = r.headers.get("Retry-After", "")
    assert retry.isdigit() and int(retry) >= 1, (label, describe_response(r))
    try:
        body = r.json()
    except ValueError:
        body = None
    assert isinstance(body, dict) and isinstance(body.get("message"), str), \
        (label, describe_response(r))


def test_store_down_gives_503_then_recovers_without_a_restart(faulty, tmp_path):
    reg, s3 = faulty, faulty.s3
    p = reg.project("down")
    d1 = wheel("wh-down", "1.0", payload=os.urandom(MiB), dest=tmp_path / "1")
    upload_ok(reg, p, d1, "wh-down", "1.0")  # never downloaded: not in any cache
    d2 = wheel("wh-down", "2.0", payload=os.urandom(MiB), dest=tmp_path / "2")
    page_before = reg.wh.get(f"{p['url']}/simple/wh-down", auth=reg.auth,
                             headers={"Accept": JSON_T})
    assert page_before.status_code == 200, describe_response(page_before)
    objects_before = reg.objects()
    pid = reg.wh.proc.pid
    figures = {}

    # Everything is measured while the store is down and checked once it is back, so one run
    # shows every deviation.
    s3.down()
    try:
        t = time.monotonic()
        up_r = upload(reg, p, d2, "wh-down", "2.0", timeout=30)
        figures["upload_503_s"] = round(time.monotonic() - t, 2)
        t = time.monotonic()
        dl_r = reg.wh.get(file_url(reg, p, d1), auth=reg.auth)
        figures["download_503_s"] = round(time.monotonic() - t, 2)
        page = reg.wh.get(f"{p['url']}/simple/wh-down", auth=reg.auth, headers={"Accept": JSON_T})
        objects_down = reg.objects()
    finally:
        s3.up()
    print(f"[object-storage] store down: {json.dumps(figures)}")

    def works():
        r = reg.wh.get(file_url(reg, p, d1), auth=reg.auth)
        assert r.status_code in (200, 503), describe_response(r)
        return r.status_code == 200 and r.content == d1.data

    ok, took = poll(works, timeout=15, interval=0.2)
    assert ok, f"downloads do not work {took:.1f} s after the store came back"
    r = upload(reg, p, d2, "wh-down", "2.0")
    assert r.status_code == 201, describe_response(r)
    assert page_files(reg, p, "wh-down") == sorted([(d1.filename, d1.sha256),
                                                     (d2.filename, d2.sha256)])
    assert reg.s3.get_bytes(reg.key(d2.sha256)) == d2.data
    assert reg.wh.proc is not None and reg.wh.proc.pid == pid and reg.wh.proc.poll() is None
    assert_content_addressed(reg)
    assert_spool_empty(reg.wh)

    assert_503_with_retry_after(up_r, "upload while the store is down")
    assert_503_with_retry_after(dl_r, "uncached download while the store is down")
    # No row: the page is what it was (simple pages never touch the bucket); no object.
    assert page.status_code == 200, describe_response(page)
    assert [f["filename"] for f in page.json()["files"]] == [d1.filename], page.text
    assert page.content == page_before.content
    assert objects_down == objects_before, "an object appeared for the failed upload"
    # Refused connections fail each attempt at once: three attempts and their backoff
    # (0.2 s, 0.6 s) are about a second, far from the 3 s connect deadline of a silent host.
    assert figures["upload_503_s"] < 5 and figures["download_503_s"] < 5, figures


def test_store_hung_gives_503_not_a_hang(faulty, tmp_path):
    reg, s3 = faulty, faulty.s3
    p = reg.project("hung")
    d1 = wheel("wh-hung", "1.0", dest=tmp_path / "1")
    upload_ok(reg, p, d1, "wh-hung", "1.0")
    d2 = wheel("wh-hung", "2.0", payload=os.urandom(MiB), dest=tmp_path / "2")
    got = {}
    s3.pause()
    try:
        t = time.monotonic()
        try:
            got["upload"] = upload(reg, p, d2, "wh-hung", "2.0", timeout=40)
        except requests.Timeout:
            got["upload"] = None
        took = time.monotonic() - t
        health = reg.wh.http.get(f"{reg.wh.base}/-/health", timeout=5)
        page = reg.wh.get(f"{p['url']}/simple/wh-hung", auth=reg.auth)
    finally:
        s3.resume()
    print(f"[object-storage] store hung: upload answered in {took:.1f} s")
    r = got["upload"]
    assert r is not None, f"no answer to an upload within 40 s while the store hung"
    assert_503_with_retry_after(r, "upload while the store hangs")
    assert took < 20, f"the upload took {took:.1f} s to fail"
    assert health.status_code == 200, describe_response(health)
    assert page.status_code == 200 and d2.filename not in page.text, describe_response(page)

    def works():
        r = upload(reg, p, d2, "wh-hung", "2.0")
        assert r.status_code in (201, 503), describe_response(r)
        return r.status_code == 201

    ok, took = poll(works, timeout=20, interval=0.5)
    assert ok, f"uploads still fail {took:.1f} s after the store resumed"
    assert reg.s3.get_bytes(reg.key(d2.sha256)) == d2.data
    assert_content_addressed(reg)


# ---------------------------------------------------------------- blobs copy

def blob_files(directory: Path) -> dict[str, bytes]:
    """{sha256: bytes} of a file store's blobs (<dir>/sha256/ab/cd/<sha256>)."""
    return {q.name: q.read_bytes() for q in (directory / "sha256").rglob("*")
            if q.is_file() and re.fullmatch(r"[0-9a-f]{64}", q.name)}


SUMMARY = re.compile(r"copied (\d+) blobs \((\d+) bytes\), skipped (\d+) already present, "
                     r"(\d+) failed")


def blobs_copy(wh: Wheelhouse, s3: S3Server, src: str, dst: str,
               check=True) -> tuple[tuple, str]:
    """`wheelhouse blobs copy` on wh's database: its summary's four numbers, and the run as text
    (it must exit 0 unless `check` is False; it must print the summary line either way)."""
    cmd = [str(wh.binary), "blobs", "copy", "--from", src, "--to", dst,
           "--data-dir", str(wh.data_dir), "--s3-endpoint", s3.endpoint, "--s3-region", s3.region]
    if wh.database_url:
        cmd += ["--database-url", wh.database_url]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WHEELHOUSE_", "AWS_"))}
    env.update(s3.env())
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0 or not check, describe(proc)
    lines = [x for x in proc.stdout.splitlines() if x.strip()]
    assert lines and SUMMARY.fullmatch(lines[-1].strip()), describe(proc)
    assert s3.secret_key not in proc.stdout + proc.stderr
    return tuple(int(x) for x in SUMMARY.fullmatch(lines[-1].strip()).groups()), describe(proc)


def test_blobs_copy_to_the_bucket_and_back(wheelhouse_bin, root, s3, clients, tmp_path):
    d = root / "copy"
    blobs = d / "data" / "blobs"
    # On its own directory whatever the suite's blob mode: the copy starts from a file store.
    wh = Wheelhouse(wheelhouse_bin, d / "data", d / "server.log", blob_dir=blobs)
    wh.start()
    try:
        reg = Registry(wh, s3, f"obj/copied-{uuid.uuid4().hex[:8]}")
        p = reg.project("copy")
        made = [("wh-cp", "1.0", wheel("wh-cp", "1.0", dest=tmp_path / "a")),
                ("wh-cp", "1.0", sdist("wh-cp", "1.0", dest=tmp_path / "a")),
                ("wh-cp-big", "1.0", wheel("wh-cp-big", "1.0", payload=os.urandom(20 * MiB),
                                           dest=tmp_path / "b")),
                ("wh-cp2", "2.0", wheel("wh-cp2", "2.0", dest=tmp_path / "c"))]
        for name, version, x in made:
            upload_ok(reg, p, x, name, version)
        dists = [x for _, _, x in made]
        on_disk = blob_files(blobs)
        assert {x.sha256 for x in dists} <= set(on_disk), sorted(on_disk)
        total = sum(len(b) for b in on_disk.values())

        # To the bucket, while the server keeps serving.
        dst = s3.store_url(reg.prefix)
        (copied, nbytes, skipped, failed), out = blobs_copy(wh, s3, f"file:{blobs}", dst)
        assert (copied, nbytes, skipped, failed) == (len(on_disk), total, 0, 0), out
        objects = reg.objects()
        assert set(objects) == {reg.key(h) for h in on_disk}, (sorted(objects), out)
        for h, data in on_disk.items():
            assert reg.s3.get_bytes(reg.key(h)) == data, h
        assert reg.s3.pending_multipart_uploads(reg.prefix + "/") == []

        # Resumable: everything is skipped; a missing object is copied again.
        (copied, nbytes, skipped, failed), out = blobs_copy(wh, s3, f"file:{blobs}", dst)
        assert (copied, nbytes, skipped, failed) == (0, 0, len(on_disk), 0), out
        small = dists[0].sha256
        reg.s3.client.delete_object(Bucket=s3.bucket, Key=reg.key(small))
        (copied, nbytes, skipped, failed), out = blobs_copy(wh, s3, f"file:{blobs}", dst)
        assert (copied, nbytes, skipped, failed) == (
            1, len(on_disk[small]), len(on_disk) - 1, 0), out
        assert reg.s3.get_bytes(reg.key(small)) == on_disk[small]
        assert wh.healthy()
    finally:
        assert wh.stop() == 0, wh.log_tail()

    # Served from the bucket: the same database, the directory out of the way.
    blobs.rename(d / "blobs-moved-away")
    on_s3 = S3Wheelhouse(wheelhouse_bin, d / "data", d / "server-s3.log", s3.store(reg.prefix),
                         database_url=wh.database_url)
    on_s3.start()
    try:
        target = clients.target()
        proc = clients.pip_install(index_url(on_s3.project_url(p["id"]), reg.tok),
                                   "wh-cp==1.0", "wh-cp-big==1.0", "wh-cp2==2.0", target=target)
        assert proc.returncode == 0, describe(proc)
        assert clients.imported(target, "wh_cp") == "1.0"
        for x in dists:
            got = on_s3.get(f"{on_s3.project_url(p['id'])}/files/{x.sha256}/{x.filename}",
                            auth=reg.auth)
            assert got.status_code == 200 and got.content == x.data, describe_response(got)

        # And back to a directory.
        back = d / "blobs-back"
        (copied, nbytes, skipped, failed), out = blobs_copy(on_s3, s3, dst, f"file:{back}")
        assert (copied, nbytes, skipped, failed) == (len(on_disk), total, 0, 0), out
        assert blob_files(back) == on_disk
    finally:
        assert on_s3.stop() == 0, on_s3.log_tail()
    assert_no_secret_in_log(on_s3, s3.secret_key)

    on_file = Wheelhouse(wheelhouse_bin, d / "data", d / "server-back.log",
                         database_url=wh.database_url, blob_dir=back)
    on_file.start()
    try:
        target = clients.target()
        proc = clients.uv_install(index_url(on_file.project_url(p["id"]), reg.tok),
                                  "wh-cp-big==1.0", "wh-cp2==2.0", target=target)
        assert proc.returncode == 0, describe(proc)
        assert clients.imported(target, "wh_cp2") == "2.0"
    finally:
        assert on_file.stop() == 0, on_file.log_tail()

    # An object of the right size with the wrong bytes is not "already present": it is replaced
    # (a copy that only compared sizes would keep it, and serve it).
    corrupt = dists[1].sha256
    reg.s3.client.put_object(Bucket=s3.bucket, Key=reg.key(corrupt),
                             Body=bytes(len(on_disk[corrupt])))
    (copied, nbytes, skipped, failed), out = blobs_copy(on_file, s3, f"file:{back}", dst,
                                                        check=False)
    assert (copied, nbytes, skipped, failed) == (
        1, len(on_disk[corrupt]), len(on_disk) - 1, 0), out
    assert reg.s3.get_bytes(reg.key(corrupt)) == on_disk[corrupt], out
