"""Issue 16, findings 3 to 7: whatever a client sends, the answer is an exact 4xx, never a 500,
and nothing is stored; one value per single-valued upload field; deploy tokens kept to the
package registry; `requires_python` checked as a PEP 440 specifier set.

A 500 says the server broke, so it hides what the client did wrong and fills the log with
errors nobody can fix: malformed chunk framing, an oversized REST body, a Transfer-Encoding the
server does not speak were all 500s or, worse, read as something else. A second `content` part or
`name` field was silently dropped (201, and the registry keeps what the client did not mean). A
deploy token, meant for CI to read and push packages, read the REST API (group members and their
access levels). After every refused request these tests check that nothing was stored (no
package listed or downloadable, no group or project changed, no temporary file left), that the
log has no error or 5xx line, and that the server still answers /-/health.

Wire-level cases go over raw sockets (rawhttp.py), so the bytes reach the server exactly as
written; plain requests go through requests. The module has a server of its own, so its log
holds only what these tests did."""
from __future__ import annotations

import re
import uuid
from types import SimpleNamespace

import pytest

from distributions import wheel
from rawhttp import basic, chunk, chunked, connect, exchange, head, read_responses
from simple_api import JSON_T
from whlib import (Wheelhouse, assert_no_error_logged, assert_spool_empties, blake2_256,
                   describe_response, encode_multipart, enc, md5, parse_links, sha256)

MiB = 1 << 20
REST_LIMIT = MiB  # the largest REST body, in bytes

pytestmark = pytest.mark.timeout(120)


# ---------------------------------------------------------------- the registry's side

class Box(SimpleNamespace):
    """The module's server and its world."""

    def assert_clean_after(self, offset: int):
        """What must hold after any refused request: no error or 5xx line logged since `offset`,
        no temporary file left (a refused upload removes its own at once), and /-/health."""
        assert_no_error_logged(self.wh, offset)
        assert_spool_empties(self.wh, within=2, poll=0.05)
        assert self.wh.healthy(), "the server no longer answers /-/health"

    def files(self, name: str, project=None) -> list[str]:
        """The file names a project's simple page lists for `name` (none if it has no page)."""
        p = project or self.lib
        r = self.wh.get(f"{self.wh.project_url(p['id'])}/simple/{name}/", auth=self.auth)
        if r.status_code == 404:
            return []
        assert r.status_code == 200, describe_response(r)
        return [link.text for link in parse_links(r.text)]

    def assert_not_stored(self, d, name: str):
        assert self.files(name) == [], f"{name} is listed after a refused upload"
        r = self.wh.get(f"{self.lib_url}/files/{d.sha256}/{d.filename}", auth=self.auth)
        assert r.status_code == 404, describe_response(r)
        r = self.wh.get(f"projects/{self.lib['id']}/packages", auth=self.auth,
                        params={"package_name": name})
        assert r.status_code == 200 and r.json() == [], describe_response(r)

    def description(self) -> str:
        r = self.wh.get(f"projects/{self.lib['id']}", auth=self.auth)
        assert r.status_code == 200, describe_response(r)
        return r.json()["description"]

    def group_exists(self, path: str) -> bool:
        r = self.wh.get(f"groups/{enc(path)}", auth=self.auth)
        assert r.status_code in (200, 404), describe_response(r)
        return r.status_code == 200


@pytest.fixture(scope="module")
def box(wheelhouse_bin, tmp_path_factory):
    """A server of the module's own: owner `mr-owner` (api token) owns groups acme (project
    acme/lib, wh-base 1.0) and secret (project secret/app, wh-hidden 1.0), both private.
    Deploy tokens: lib_rw (acme/lib, read and write), lib_ro (acme/lib, read) and secret_ro
    (group secret, read_package_registry only)."""
    d = tmp_path_factory.mktemp("malformed")
    wh = Wheelhouse(wheelhouse_bin, d / "data", d / "server.log").start()
    try:
        wh.user("mr-owner")
        tok = wh.token("mr-owner", "api")["token"]
        for g in ("acme", "secret"):
            wh.group(g)
            wh.member("mr-owner", "owner", group=g)
        lib = wh.project("acme/lib")
        app = wh.project("secret/app")
        rd, wr = "read_package_registry", "write_package_registry"
        dts = {"lib_rw": wh.deploy_token(rd, wr, project="acme/lib"),
               "lib_ro": wh.deploy_token(rd, project="acme/lib"),
               "secret_ro": wh.deploy_token(rd, group="secret")}
        box = Box(wh=wh, tok=tok, auth=("__token__", tok), lib=lib, app=app,
                  lib_url=wh.project_url(lib["id"]), app_url=wh.project_url(app["id"]),
                  upload_path=f"/api/v4/projects/{lib['id']}/packages/pypi",
                  dt=dts, groups={g: wh.get(f"groups/{g}", auth=("__token__", tok)).json()
                                  for g in ("acme", "secret")})
        for p_url, name in ((box.lib_url, "wh-base"), (box.app_url, "wh-hidden")):
            w = wheel(name, "1.0", dest=d / name)
            r = wh.upload(None, w.data, w.filename, name=name, version="1.0", auth=box.auth, url=p_url)
            assert r.status_code == 201, describe_response(r)
        yield box
    finally:
        wh.stop()


def form_items(d, name: str, version: str, extra=()) -> list[tuple[str, str]]:
    """The fields twine sends for `d` (a wheel), then `extra` as given."""
    data = d.data
    return [(":action", "file_upload"), ("protocol_version", "1"), ("name", name),
            ("version", version), ("filetype", "bdist_wheel"), ("pyversion", "py3"),
            ("metadata_version", "2.1"), ("sha256_digest", sha256(data)),
            ("blake2_256_digest", blake2_256(data)), ("md5_digest", md5(data)), *extra]


def post_form(box: Box, items, files):
    body, ctype = encode_multipart(items, files)
    return box.wh.http.post(box.lib_url, data=body, headers={"Content-Type": ctype}, auth=box.auth,
                            timeout=60, allow_redirects=False)


def names_field(message: str, field: str) -> bool:
    """Whether an error message names `field` as a field: quoted, as in "'name' given twice"."""
    return re.search(rf"['\"`]{re.escape(field)}['\"`]", message) is not None


# ---------------------------------------------------------------- finding 3: chunk framing

BAD_FRAMING = {
    # What follows a first, valid chunk holding the whole (valid) body.
    "size-zz": b"zz\r\n" + b"x" * 16 + b"\r\n0\r\n\r\n",
    "size-minus-1": b"-1\r\nx\r\n0\r\n\r\n",
    "size-18-hex-digits": b"f" * 18 + b"\r\n" + b"x" * 16 + b"\r\n0\r\n\r\n",
    "trailer-1-MB": b"0\r\nX-Pad: " + b"a" * 1_000_000 + b"\r\n\r\n",
}


def valid_body(box: Box, route: str, tag: str, tmp_path) -> tuple[str, str, dict, bytes, object]:
    """method, path, headers and a body the route would accept, plus what to check afterwards
    (the dist of an upload, the new group's path, the description a PUT would set)."""
    auth = {"Authorization": basic("__token__", box.tok)}
    if route == "upload":
        name = f"wh-{tag}"
        d = wheel(name, "1.0", dest=tmp_path)
        body, ctype = encode_multipart(form_items(d, name, "1.0"), [("content", d.filename, d.data)])
        return "POST", box.upload_path, {**auth, "Content-Type": ctype}, body, (d, name)
    if route == "put-project":
        body = f'{{"description": "{tag}"}}'.encode()
        return ("PUT", f"/api/v4/projects/{box.lib['id']}",
                {**auth, "Content-Type": "application/json"}, body, tag)
    path = tag[:60]
    body = f'{{"name": "{path}", "path": "{path}"}}'.encode()
    return "POST", "/api/v4/groups", {**auth, "Content-Type": "application/json"}, body, path


def assert_route_unchanged(box: Box, route: str, what):
    if route == "upload":
        d, name = what
        box.assert_not_stored(d, name)
    elif route == "put-project":
        assert box.description() != what, "a refused PUT changed the project"
    else:
        assert not box.group_exists(what), "a refused POST created the group"


ROUTES = ["upload", "put-project", "post-groups"]


@pytest.mark.parametrize("framing", list(BAD_FRAMING))
@pytest.mark.parametrize("route", ROUTES)
def test_malformed_chunk_framing_is_400(box, tmp_path, route, framing):
    """A chunk size that is not hex, is negative or overflows, or a trailer of a megabyte, is the
    client's mistake: 400 on every route that reads a body, never a 500, and nothing stored
    even though the chunk before it held a whole valid body."""
    tag = f"framing-{framing}-{uuid.uuid4().hex[:6]}"
    method, path, hdrs, body, what = valid_body(box, route, tag, tmp_path)
    offset = box.wh.log_mark()
    r = exchange(box.wh.port, head(method, path, {**hdrs, "Transfer-Encoding": "chunked"})
                 + chunk(body) + BAD_FRAMING[framing])
    assert r.status == 400, str(r)
    assert_route_unchanged(box, route, what)
    box.assert_clean_after(offset)


# ---------------------------------------------------------------- finding 4: REST body size

def padded_json(obj_text: str, size: int) -> bytes:
    """A JSON object of exactly `size` bytes (trailing spaces are still JSON)."""
    body = obj_text.encode()
    assert len(body) <= size
    return body + b" " * (size - len(body))


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
@pytest.mark.parametrize("route", ["put-project", "post-groups"])
def test_rest_body_over_1_mib_is_413_naming_the_limit(box, route, framing):
    """One byte over the REST API's 1 MiB is a 413 whose message says the limit, by its
    Content-Length or while the chunks stream in; nothing changes."""
    tag = f"big-{framing}-{uuid.uuid4().hex[:6]}"
    if route == "put-project":
        method, path = "PUT", f"/api/v4/projects/{box.lib['id']}"
        body = padded_json(f'{{"description": "{tag}"}}', REST_LIMIT + 1)
    else:
        method, path = "POST", "/api/v4/groups"
        body = padded_json(f'{{"name": "{tag}", "path": "{tag}"}}', REST_LIMIT + 1)
    hdrs = {"Authorization": basic("__token__", box.tok), "Content-Type": "application/json"}
    if framing == "chunked":
        request = head(method, path, {**hdrs, "Transfer-Encoding": "chunked"}) + chunked(body)
    else:
        request = head(method, path, {**hdrs, "Content-Length": str(len(body))}) + body
    offset = box.wh.log_mark()
    r = exchange(box.wh.port, request)
    assert r.status == 413, str(r)
    assert "1 MiB" in r.json_message(), f"the 413's message does not name the limit: {r}"
    assert_route_unchanged(box, route, tag)
    box.assert_clean_after(offset)


@pytest.mark.parametrize("route", ["put-project", "post-groups"])
def test_rest_body_of_exactly_1_mib_is_read(box, route):
    """The other side of the limit: a body of exactly 1 MiB is read and acted on."""
    tag = f"exact-{uuid.uuid4().hex[:6]}"
    h = {"Content-Type": "application/json", "PRIVATE-TOKEN": box.tok}
    if route == "put-project":
        r = box.wh.http.put(f"{box.wh.api}/projects/{box.lib['id']}", headers=h, timeout=30,
                            data=padded_json(f'{{"description": "{tag}"}}', REST_LIMIT))
        assert r.status_code == 200, describe_response(r)
        assert box.description() == tag
    else:
        r = box.wh.http.post(f"{box.wh.api}/groups", headers=h, timeout=30,
                             data=padded_json(f'{{"name": "{tag}", "path": "{tag}"}}', REST_LIMIT))
        assert r.status_code == 201, describe_response(r)
        assert box.group_exists(tag)


# ---------------------------------------------------------------- finding 7: Transfer-Encoding

@pytest.mark.parametrize("te", ["gzip, chunked", "gzip", "identity"])
@pytest.mark.parametrize("route", ROUTES)
def test_transfer_encoding_other_than_chunked_is_501_and_closes(box, tmp_path, route, te):
    """`gzip, chunked` was read as plain chunked: a server must not guess at a coding it does
    not implement (a proxy in front may read the body otherwise: request smuggling). 501, the
    connection closed, and the body (valid once un-chunked) not acted on."""
    tag = f"te-{te.replace(', ', '-')}-{uuid.uuid4().hex[:6]}"
    method, path, hdrs, body, what = valid_body(box, route, tag, tmp_path)
    offset = box.wh.log_mark()
    r = exchange(box.wh.port, head(method, path, {**hdrs, "Transfer-Encoding": te}) + chunked(body),
                 close_within=2)
    assert r.status == 501, str(r)
    assert r.closed, f"the connection stayed open after a 501 for Transfer-Encoding {te!r}"
    assert_route_unchanged(box, route, what)
    box.assert_clean_after(offset)


def test_pipelined_501_comes_after_the_answer_before_it(box, tmp_path):
    """HTTP/1.1 answers go in the order of the requests. A health check and, in the same write, an
    upload with `Transfer-Encoding: gzip, chunked`: the server reads the second head while the
    first is being answered, but its 501 must wait, so the client reads the 200 first, then the
    501, then the close. (A 501 written as soon as its head was read came first, and a client
    pairing answers with requests in order took it for the health check's.)"""
    method, path, hdrs, body, what = valid_body(box, "upload", f"pipe-{uuid.uuid4().hex[:6]}", tmp_path)
    offset = box.wh.log_mark()
    s = connect(box.wh.port)
    try:
        s.sendall(head("GET", "/-/health", {})
                  + head(method, path, {**hdrs, "Transfer-Encoding": "gzip, chunked"}) + chunked(body))
        first, second = read_responses(s, 2, close_within=2)
    finally:
        s.close()
    assert first.status == 200, f"the first answer must be the health check's 200, got {first}"
    assert second.status == 501, f"the second answer must be the 501, got {second}"
    assert second.closed and second.after == b"", (
        f"after the 501 the connection must close with nothing more (got {second.after[:300]!r})")
    assert_route_unchanged(box, "upload", what)
    box.assert_clean_after(offset)


def test_pipelined_501_does_not_land_inside_a_large_answer(box, tmp_path):
    """The same behind an answer of several MiB that takes many writes: the 501 must not be
    written in the middle of the file's bytes. The client reads the whole file by its
    Content-Length and it must be the file byte for byte, then the 501, then the close."""
    name = "wh-pipelined-big"
    big = wheel(name, "1.0", payload=4 * MiB, dest=tmp_path / "big")
    r = box.wh.upload(None, big.data, big.filename, name=name, version="1.0", auth=box.auth,
                      url=box.lib_url)
    assert r.status_code == 201, describe_response(r)
    file_path = f"{box.upload_path}/files/{big.sha256}/{big.filename}"
    auth = {"Authorization": basic("__token__", box.tok)}
    method, path, hdrs, body, what = valid_body(box, "upload", f"pipe-big-{uuid.uuid4().hex[:6]}", tmp_path)
    offset = box.wh.log_mark()
    s = connect(box.wh.port)
    try:
        s.sendall(head("GET", file_path, auth)
                  + head(method, path, {**hdrs, "Transfer-Encoding": "gzip, chunked"}) + chunked(body))
        first, second = read_responses(s, 2, timeout=30, close_within=2)
    finally:
        s.close()
    assert first.status == 200, f"the first answer must be the file, got {first}"
    assert int(first.headers["content-length"]) == big.size, first.headers
    assert first.body == big.data, (
        f"the file's {big.size} bytes came altered (sha256 {sha256(first.body)}, expected "
        f"{big.sha256}); a 501 inside them: {b'HTTP/1.1 501' in first.body}")
    assert second.status == 501, f"the second answer must be the 501, got {second}"
    assert second.closed and second.after == b"", (
        f"after the 501 the connection must close with nothing more (got {second.after[:300]!r})")
    assert_route_unchanged(box, "upload", what)
    box.assert_clean_after(offset)


# ---------------------------------------------------------------- finding 5: one value per field

SINGLE_VALUED = {
    # field: the value it has in the form (a field the base form lacks is added with it)
    "name": None, "version": None, "filetype": None, "pyversion": None, "metadata_version": None,
    "md5_digest": None, "sha256_digest": None, "blake2_256_digest": None,
    "summary": "a summary", "description": "a description", "description_content_type": "text/plain",
    "requires_python": ">=3.8", "author": "A. Author", "author_email": "a@example.invalid",
    "maintainer": "M. Aintainer", "license": "MIT", "home_page": "https://example.invalid",
    "download_url": "https://example.invalid/dl", "keywords": "one,two",
}


@pytest.mark.parametrize("field", ["content", *SINGLE_VALUED])
def test_duplicate_single_valued_field_is_400_naming_it(box, tmp_path, field):
    """A field that holds one value given twice (even twice the same value, so nothing else can
    be wrong with the form) is a 400 whose message names it: keeping the first and dropping the
    second stored something the client may not have meant. Nothing is stored."""
    name = f"wh-dup-{field.replace('_', '-')}"
    d = wheel(name, "1.0", dest=tmp_path)
    items = form_items(d, name, "1.0")
    files = [("content", d.filename, d.data)]
    if field == "content":
        files.append(("content", d.filename, d.data))
    else:
        if SINGLE_VALUED[field] is not None:
            items.append((field, SINGLE_VALUED[field]))
        value = dict(items)[field]
        at = [k for k, _ in items].index(field)
        items.insert(at + 1, (field, value))
    offset = box.wh.log_mark()
    r = post_form(box, items, files)
    assert r.status_code == 400, describe_response(r)
    assert names_field(r.json().get("message", ""), field), describe_response(r)
    box.assert_not_stored(d, name)
    box.assert_clean_after(offset)


@pytest.mark.parametrize("field", ["content", "name"])
def test_duplicate_with_a_different_second_value_is_400(box, tmp_path, field):
    """The case the issue found: a second `content` part with other bytes, or a second `name`
    naming another project, used to give 201 with the first kept. Now 400, and neither stored."""
    name = f"wh-second-{field}"
    d = wheel(name, "1.0", dest=tmp_path / "a")
    other = wheel(name if field == "content" else f"{name}-other", "1.0", dest=tmp_path / "b")
    items = form_items(d, name, "1.0")
    files = [("content", d.filename, d.data)]
    if field == "content":
        files.append(("content", other.filename, other.data))
    else:
        items.insert(3, ("name", f"{name}-other"))
    offset = box.wh.log_mark()
    r = post_form(box, items, files)
    assert r.status_code == 400, describe_response(r)
    assert names_field(r.json().get("message", ""), field), describe_response(r)
    box.assert_not_stored(d, name)
    assert box.files(f"{name}-other") == []
    box.assert_clean_after(offset)


LIST_FIELDS = {
    "classifiers": ["Programming Language :: Python :: 3", "License :: OSI Approved :: MIT License"],
    "requires_dist": ["requests>=2", "idna; extra == 'x'"],
    "provides_extra": ["x", "y"],
    "project_urls": ["Home, https://example.invalid", "Docs, https://example.invalid/docs"],
    "platform": ["linux", "macos"],
    "supported_platform": ["linux-x86_64", "macos-arm64"],
    "dynamic": ["Requires-Dist", "Provides-Extra"],
    "license_file": ["LICENSE", "NOTICE"],
    "requires_external": ["libfoo", "libbar (>=1.0)"],
    "provides_dist": ["wh-lists-extra", "wh-lists-more"],
    "obsoletes_dist": ["wh-old", "wh-older"],
}


def test_list_fields_may_repeat(box, tmp_path):
    """Fields that are lists by nature come once per value, as twine sends them: all of them
    repeated in one form is a 201, the file is served, and its metadata (with the Requires-Dist
    lines the form repeats) and the form's requires_python reach the index."""
    name = "wh-lists"
    meta = "".join(f"Requires-Dist: {v}\n" for v in LIST_FIELDS["requires_dist"])
    meta += "".join(f"Provides-Extra: {v}\n" for v in LIST_FIELDS["provides_extra"])
    d = wheel(name, "1.0", extra_meta=meta, dest=tmp_path)
    extra = [(k, v) for k, values in LIST_FIELDS.items() for v in values]
    items = form_items(d, name, "1.0", [*extra, ("requires_python", ">=3.9")])
    r = post_form(box, items, [("content", d.filename, d.data)])
    assert r.status_code == 201, describe_response(r)
    assert box.files(name) == [d.filename]
    page = box.wh.get(f"{box.lib_url}/simple/{name}/", auth=box.auth, headers={"Accept": JSON_T})
    assert page.status_code == 200, describe_response(page)
    (f,) = page.json()["files"]
    assert f.get("requires-python") == ">=3.9", f
    m = box.wh.get(f"{box.lib_url}/files/{d.sha256}/{d.filename}.metadata", auth=box.auth)
    assert m.status_code == 200, describe_response(m)
    for v in LIST_FIELDS["requires_dist"]:
        assert f"Requires-Dist: {v}".encode() in m.content, m.content


# ---------------------------------------------------------------- finding 7: requires_python

VALID_RP = [">=3.8", ">=3.8,<4", ">=3.8, <4", "~=3.10", "==3.*", "!=3.0.*", ""]
INVALID_RP = ["<script>", "<script>alert(1)</script>", ">=", "3.8", ">=3.8;", "~=3", ">=3.8.*",
              "python>=3.8"]


def packaging_accepts(value: str) -> bool:
    """What the reference implementation (packaging, as pip vendors it) says: keeps the lists
    above honest (a trailing or doubled comma, say, is accepted there, so not listed as bad)."""
    try:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
    except ImportError:
        from pip._vendor.packaging.specifiers import InvalidSpecifier, SpecifierSet
    try:
        SpecifierSet(value)
        return True
    except InvalidSpecifier:
        return False


@pytest.mark.parametrize("value", VALID_RP, ids=[v or "empty" for v in VALID_RP])
def test_valid_requires_python_is_kept(box, tmp_path, value):
    """PEP 440 specifier sets are accepted and served as given; an empty one is no constraint."""
    assert packaging_accepts(value)
    name = f"wh-rp-ok-{VALID_RP.index(value)}"
    d = wheel(name, "1.0", dest=tmp_path)
    r = post_form(box, form_items(d, name, "1.0", [("requires_python", value)]),
                  [("content", d.filename, d.data)])
    assert r.status_code == 201, describe_response(r)
    page = box.wh.get(f"{box.lib_url}/simple/{name}/", auth=box.auth, headers={"Accept": JSON_T})
    (f,) = page.json()["files"]
    assert f.get("requires-python") == (value or None), f


@pytest.mark.parametrize("value", INVALID_RP)
def test_invalid_requires_python_is_400(box, tmp_path, value):
    """`requires_python` is served to every installer (and was served raw in JSON): a value that
    is not a PEP 440 specifier set is refused with a 400 naming the field; nothing is stored."""
    assert not packaging_accepts(value)
    name = f"wh-rp-bad-{INVALID_RP.index(value)}"
    d = wheel(name, "1.0", dest=tmp_path)
    offset = box.wh.log_mark()
    r = post_form(box, form_items(d, name, "1.0", [("requires_python", value)]),
                  [("content", d.filename, d.data)])
    assert r.status_code == 400, describe_response(r)
    assert "requires_python" in r.json().get("message", ""), describe_response(r)
    box.assert_not_stored(d, name)
    box.assert_clean_after(offset)


# ---------------------------------------------------------------- finding 6: deploy tokens

STYLES = ["deploy-token-header", "basic", "private-token", "bearer"]


def dt_headers(token: dict, style: str) -> dict:
    """A deploy token presented in each of the ways the README lists."""
    secret = token["token"]
    return {"deploy-token-header": {"Deploy-Token": secret},
            "basic": {"Authorization": basic(token["username"], secret)},
            "private-token": {"PRIVATE-TOKEN": secret},
            "bearer": {"Authorization": f"Bearer {secret}"}}[style]


def rest_routes_closed_to_deploy_tokens(box: Box) -> list[tuple[str, str, str]]:
    """(method, path under /api/v4, which deploy token) for routes outside the package registry."""
    lib, acme, secret = box.lib["id"], box.groups["acme"]["id"], box.groups["secret"]["id"]
    return [
        ("GET", "groups", "lib_ro"), ("GET", "groups/acme", "lib_ro"),
        ("GET", f"groups/{acme}", "lib_ro"), ("GET", "groups/acme/members", "lib_ro"),
        ("GET", "groups/acme/members/all", "lib_ro"), ("GET", "groups/acme/subgroups", "lib_ro"),
        ("GET", f"projects/{lib}/members/all", "lib_ro"), ("GET", f"projects/{lib}/members", "lib_ro"),
        ("GET", "projects", "lib_ro"), ("GET", f"projects/{lib}", "lib_ro"),
        ("GET", f"projects/{enc('acme/lib')}", "lib_ro"),
        ("GET", f"projects/{lib}/deploy_tokens", "lib_rw"),
        ("GET", "user", "lib_ro"), ("GET", "users", "lib_ro"),
        ("GET", "groups/secret", "secret_ro"), ("GET", f"groups/{secret}", "secret_ro"),
        ("GET", f"groups/{secret}/projects", "secret_ro"), ("GET", "groups/secret/members", "secret_ro"),
        ("GET", f"projects/{box.app['id']}", "secret_ro"),
    ]


@pytest.mark.parametrize("style", STYLES)
def test_deploy_tokens_get_401_outside_the_registry(box, style):
    """GitLab authenticates a deploy token only on the routes that allow one (the package
    registry), so anywhere else it is no credential at all: 401, as for a missing token, not
    403 (which would confirm the token is valid and the resource exists). Each route is checked
    with the owner's personal token too, so the 401 is the deploy token's, not the route's."""
    wrong = []
    for method, path, which in rest_routes_closed_to_deploy_tokens(box):
        owner = box.wh.http.request(method, f"{box.wh.api}/{path}", headers={"PRIVATE-TOKEN": box.tok},
                                    timeout=30)
        assert owner.status_code == 200, f"control: {describe_response(owner)}"
        r = box.wh.http.request(method, f"{box.wh.api}/{path}", headers=dt_headers(box.dt[which], style),
                                timeout=30)
        if r.status_code != 401:
            wrong.append(f"{method} /api/v4/{path} with {which}: {r.status_code} {r.text[:120]}")
    assert not wrong, f"deploy token ({style}) reached REST routes:\n" + "\n".join(wrong)


@pytest.mark.parametrize("style", STYLES)
def test_deploy_tokens_cannot_change_anything_over_rest(box, style):
    """The write side: a deploy token with write_package_registry still cannot change a project
    or create a group through the REST API (401), and nothing changes."""
    h = dt_headers(box.dt["lib_rw"], style)
    before = box.description()
    r = box.wh.http.put(f"{box.wh.api}/projects/{box.lib['id']}", json={"description": f"dt-{style}"},
                        headers=h, timeout=30)
    assert r.status_code == 401, describe_response(r)
    assert box.description() == before
    path = f"dt-{style}-{uuid.uuid4().hex[:6]}"
    r = box.wh.http.post(f"{box.wh.api}/groups", json={"name": path, "path": path}, headers=h, timeout=30)
    assert r.status_code == 401, describe_response(r)
    assert not box.group_exists(path)


@pytest.mark.parametrize("style", STYLES)
def test_deploy_tokens_still_reach_the_registry_and_version(box, style, tmp_path):
    """What a deploy token is for keeps working: the project's and the group's simple index,
    the REST package lists, a download, an upload with write_package_registry, and GET /version
    and /metadata (which clients call to check a token)."""
    lib, secret = box.lib["id"], box.groups["secret"]["id"]
    reads = [
        ("lib_ro", f"{box.lib_url}/simple/"), ("lib_ro", f"{box.lib_url}/simple/wh-base/"),
        ("secret_ro", f"{box.wh.group_url(secret)}/simple/wh-hidden/"),
        ("secret_ro", f"{box.app_url}/simple/wh-hidden/"),
        ("lib_ro", f"{box.wh.api}/projects/{lib}/packages"),
        ("secret_ro", f"{box.wh.api}/groups/{secret}/packages"),
        ("lib_ro", f"{box.wh.api}/version"), ("lib_ro", f"{box.wh.api}/metadata"),
        ("secret_ro", f"{box.wh.api}/version"),
    ]
    wrong = []
    for which, url in reads:
        r = box.wh.http.get(url, headers=dt_headers(box.dt[which], style), timeout=30)
        if r.status_code != 200:
            wrong.append(f"GET {url} with {which}: {r.status_code} {r.text[:120]}")
    assert not wrong, f"deploy token ({style}) refused where it belongs:\n" + "\n".join(wrong)
    r = box.wh.get(f"projects/{lib}/packages", auth=box.auth, params={"package_name": "wh-base"})
    pkg = r.json()[0]
    assert pkg["name"] == "wh-base", describe_response(r)
    links = parse_links(box.wh.http.get(f"{box.lib_url}/simple/wh-base/", timeout=30,
                                        headers=dt_headers(box.dt["lib_ro"], style)).text)
    got = box.wh.http.get(links[0].href.split("#")[0], headers=dt_headers(box.dt["lib_ro"], style),
                          timeout=30)
    assert got.status_code == 200 and got.content[:2] == b"PK", describe_response(got)

    name = f"wh-dt-{style}"
    d = wheel(name, "1.0", dest=tmp_path)
    r = box.wh.upload(None, d.data, d.filename, name=name, version="1.0", url=box.lib_url,
                      headers=dt_headers(box.dt["lib_rw"], style))
    assert r.status_code == 201, describe_response(r)
    assert box.files(name) == [d.filename]
