"""`GET /`: the web interface's home page, which names the server and its version, so that whoever
opens the registry's address in a browser learns what answers there. A path that names no group,
project or page is a 404 page."""
import time

import pytest

from rawhttp import connect, head, parse_head, read_until_closed
from whlib import describe_response


@pytest.fixture(scope="module")
def version(server) -> str:
    """The version as the API reports it (GitLab's `GET /version` wants a signed-in caller)."""
    server.user("landing-admin", admin=True)
    token = server.token("landing-admin", "api")["token"]
    r = server.get("version", headers={"PRIVATE-TOKEN": token})
    assert r.status_code == 200, describe_response(r)
    return r.json()["version"]


def exchange(port: int, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """One request on a connection of its own, read to the server's close: the status, the
    headers (names lowercased) and every byte after the head, so a HEAD's stray body shows."""
    with connect(port) as s:
        s.sendall(head(method, path, {"Connection": "close"}, host=f"127.0.0.1:{port}"))
        closed_at, data = read_until_closed(s, time.monotonic() + 10)
    assert closed_at is not None, f"not closed after Connection: close (got {data[:500]!r})"
    raw_head, sep, rest = data.partition(b"\r\n\r\n")
    assert sep, f"no complete head in {data[:500]!r}"
    status, headers = parse_head(raw_head)
    return status, headers, rest


def test_root_is_the_home_page_naming_the_server_and_its_version(server, version):
    r = server.http.get(f"{server.base}/", timeout=30, allow_redirects=False)
    assert r.status_code == 200, describe_response(r)
    assert r.headers["Content-Type"] == "text/html; charset=utf-8", describe_response(r)
    for text in ("Wheelhouse", version, 'action="/-/search"'):
        assert text in r.text, f"{text!r} is not on the page\n{describe_response(r)}"


def test_head_root_answers_the_same_head_and_no_body(server):
    get_status, get_headers, get_body = exchange(server.port, "GET", "/")
    head_status, head_headers, head_body = exchange(server.port, "HEAD", "/")
    assert (get_status, head_status) == (200, 200), (get_headers, get_body[:500])
    # The only headers that may differ: the date, and each request's own id.
    for headers in (get_headers, head_headers):
        headers.pop("date"), headers.pop("x-request-id")
    assert head_headers == get_headers
    assert int(get_headers["content-length"]) == len(get_body), get_headers
    assert head_body == b"", head_body[:500]


def test_other_paths_outside_the_api_are_still_not_found(server):
    r = server.http.get(f"{server.base}/nope", timeout=30, allow_redirects=False)
    assert r.status_code == 404, describe_response(r)
    assert r.headers["Content-Type"] == "text/html; charset=utf-8", describe_response(r)
    r = server.http.get(f"{server.base}/-/nope", timeout=30, allow_redirects=False)
    assert r.status_code == 404, describe_response(r)
