"""The upload form on the wire: what clients really send, awkward bytes, big files, races."""
import concurrent.futures
import os

import pytest

from distributions import sdist, wheel
from whlib import describe, describe_response, encode_multipart, parse_links, sha256


def listed(server, p, name, auth):
    r = server.get(f"{p['url']}/simple/{name}", auth=auth)
    return [] if r.status_code == 404 else [(x.text, x.href.split("#sha256=")[-1])
                                            for x in parse_links(r.text)]


def test_repeated_and_unknown_fields_are_accepted(server, world, fresh_project, tmp_path):
    p = fresh_project()
    d = wheel("wh-fields", "1.0.0", dest=tmp_path)
    extra = {
        "classifiers": ["Programming Language :: Python :: 3", "License :: OSI Approved"],
        "requires_dist": ["requests>=2", "idna; extra == 'x'"],
        "project_urls": ["Home, https://example.invalid"],
        "summary": "ünïcödé summary", "description": "x" * 20000,
        "description_content_type": "text/markdown", "requires_python": "",
        "gpg_signature": "", "attestations": "[]", "some_future_field": "ignored",
    }
    r = server.upload(p["id"], d.data, d.filename, name="wh-fields", version="1.0.0",
                      auth=world.alice, fields=extra)
    assert r.status_code == 201, describe_response(r)
    assert listed(server, p, "wh-fields", world.alice) == [(d.filename, d.sha256)]


def test_upload_url_with_trailing_slash(server, world, fresh_project, tmp_path):
    p = fresh_project()
    d = wheel("wh-slash", "1.0.0", dest=tmp_path)
    r = server.upload(p["id"], d.data, d.filename, name="wh-slash", version="1.0.0",
                      auth=world.alice, url=p["url"] + "/")
    assert r.status_code == 201, describe_response(r)
    assert r.headers.get("Location") is None and not r.is_redirect


def test_chunked_upload_without_content_length(server, world, fresh_project, tmp_path):
    p = fresh_project()
    d = wheel("wh-chunked", "1.0.0", payload=os.urandom(300_000), dest=tmp_path)
    r = server.upload(p["id"], d.data, d.filename, name="wh-chunked", version="1.0.0",
                      auth=world.alice, chunked=True)
    assert r.status_code == 201, describe_response(r)
    assert listed(server, p, "wh-chunked", world.alice) == [(d.filename, d.sha256)]


@pytest.mark.parametrize("case", ["no_content", "no_name", "no_version", "empty_file",
                                  "not_multipart"])
def test_malformed_form_is_400(server, world, fresh_project, tmp_path, case):
    p = fresh_project()
    d = sdist("wh-form", "1.0", dest=tmp_path)
    if case == "not_multipart":
        r = server.http.post(p["url"], data=d.data, auth=world.alice, timeout=30,
                             headers={"Content-Type": "application/octet-stream"})
    elif case == "no_content":
        body, ctype = encode_multipart([("name", "wh-form"), ("version", "1.0")], [])
        r = server.http.post(p["url"], data=body, auth=world.alice, timeout=30,
                             headers={"Content-Type": ctype})
    else:
        data = b"" if case == "empty_file" else d.data
        drop = {"no_name": ("name",), "no_version": ("version",)}.get(case, ())
        r = server.upload(p["id"], data, d.filename, name="wh-form", version="1.0",
                          auth=world.alice, drop=drop, digests=case != "empty_file")
    assert r.status_code == 400, describe_response(r)
    assert "message" in r.json(), describe_response(r)
    assert listed(server, p, "wh-form", world.alice) == []


def test_content_that_looks_like_a_boundary_survives(server, world, fresh_project, tmp_path):
    """The parser must only split on the full delimiter: bytes that almost match stay data."""
    p = fresh_project()
    boundary = "wheelhouse-e2e-boundary-0123456789"
    tricky = b"".join([
        b"\r\n--" + boundary[:-1].encode() + b"X\r\n",  # differs in the last byte
        b"\r\n--" + boundary.encode()[:10],
        b"\r\n\r\n--\r\n", b"\r" * 300 + b"x",
        b"\n--" + boundary.encode(),  # LF without CR: not a delimiter
        b"x--" + boundary.encode() + b"--",  # no line break at all: not a delimiter
        b"\r\n-" + boundary.encode(),  # one dash short
    ]) * 50
    d = wheel("wh-tricky", "1.0.0", payload=tricky + os.urandom(70_000) + tricky, dest=tmp_path)
    # A real delimiter (CRLF "--" boundary) must never occur inside the content (RFC 2046).
    assert b"\r\n--" + boundary.encode() not in d.data
    r = server.upload(p["id"], d.data, d.filename, name="wh-tricky", version="1.0.0",
                      auth=world.alice, boundary=boundary)
    assert r.status_code == 201, describe_response(r)
    got = server.get(f"{p['url']}/files/{d.sha256}/{d.filename}", auth=world.alice)
    assert got.status_code == 200 and sha256(got.content) == d.sha256, describe_response(got)


def test_large_wheel_round_trips_through_twine_and_pip(server, world, fresh_project, clients,
                                                       tmp_path):
    p = fresh_project()
    d = wheel("wh-large", "1.0.0", payload=os.urandom(24 * 1024 * 1024), dest=tmp_path)
    proc = clients.twine_upload(p["url"], world.tok["alice"], d.path)
    assert proc.returncode == 0, describe(proc)
    got = server.get(f"{p['url']}/files/{d.sha256}/{d.filename}", auth=world.alice)
    assert got.status_code == 200, describe_response(got)
    assert int(got.headers["Content-Length"]) == len(d.data) and sha256(got.content) == d.sha256


def test_concurrent_uploads_of_one_file_name(server, world, fresh_project, tmp_path):
    """CI jobs racing: identical bytes all succeed; different bytes, exactly one wins."""
    p = fresh_project()
    same = wheel("wh-race", "1.0.0", payload=os.urandom(200_000), dest=tmp_path)

    def up(d, version="1.0.0"):
        return server.upload(p["id"], d.data, d.filename, name="wh-race", version=version,
                             auth=world.alice)

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        codes = [r.status_code for r in ex.map(up, [same] * 8)]
    assert all(200 <= c < 300 for c in codes), codes
    assert listed(server, p, "wh-race", world.alice) == [(same.filename, same.sha256)]

    variants = []
    for i in range(8):
        sub = tmp_path / f"v{i}"
        sub.mkdir()
        variants.append(wheel("wh-race", "2.0.0", payload=os.urandom(200_000), dest=sub))
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        responses = list(ex.map(lambda d: up(d, "2.0.0"), variants))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [400] * 7, [describe_response(r) for r in responses]
    winner = next(v for v, r in zip(variants, responses) if r.status_code == 201)
    files = [f for f in listed(server, p, "wh-race", world.alice) if "2.0.0" in f[0]]
    assert files == [(winner.filename, winner.sha256)], files
