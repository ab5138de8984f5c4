"""Issue 12's one test against the real public index: `requests` and its closure installed
through a group index in cache mode, with pip and with uv, then again from the cache alone with
the upstream pointed at a closed local port.

The public index's URL is pip's own default (or PIP_INDEX_URL when set), so no host name is
written here. The test skips, saying why, only when pip itself cannot reach that index."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from server import free_port
from whlib import Clients, describe, describe_response, index_url

pytestmark = pytest.mark.timeout(600)
CLOSURE = ("requests", "urllib3", "idna", "certifi", "charset_normalizer")


def public_index_url() -> str:
    url = os.environ.get("PIP_INDEX_URL")
    if not url:
        from pip._internal.models.index import PyPI
        url = PyPI.simple_url
    return url.rstrip("/") + "/"


@pytest.fixture(scope="module")
def public_index(tmp_path_factory) -> str:
    """The public index's URL, once pip has shown it can reach it (else the module skips)."""
    url = public_index_url()
    clients = Clients(tmp_path_factory.mktemp("probe"))
    proc = clients.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary",
                        ":all:", "--index-url", url, "--dest", clients.target(), "idna"],
                       timeout=120)
    if proc.returncode != 0:
        pytest.skip("pip cannot reach the public index from this machine (`pip download idna` "
                    f"failed with exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
    return url


def venv(clients: Clients, name: str) -> Path:
    """A fresh, empty virtual environment (made by uv: no network, no pip inside)."""
    where = clients.scratch / name
    proc = clients.run([*clients.uv, "venv", "--python", sys.executable, where])
    assert proc.returncode == 0, describe(proc)
    return where / "bin" / "python"


def install(clients: Clients, tool: str, idx: str, python: Path):
    if tool == "pip":
        cmd = [sys.executable, "-m", "pip", "--python", python, "install", "--no-cache-dir",
               "--only-binary", ":all:", "--index-url", idx, "requests"]
    else:
        cmd = [*clients.uv, "pip", "install", "--no-cache", "--python", python,
               "--default-index", idx, "requests"]
    proc = clients.run(cmd, timeout=300)
    assert proc.returncode == 0, describe(proc)
    check = clients.run([python, "-c", f"import {', '.join(CLOSURE)}; print(requests.__version__)"])
    assert check.returncode == 0 and check.stdout.strip(), describe(check)


def test_requests_through_a_group_index_then_from_the_cache_alone(public_index, make_server,
                                                                   tmp_path):
    wh = make_server(name="public")
    wh.user("root", admin=True)
    root = wh.token("root", "api")["token"]
    wh.user("alice")
    tok = wh.token("alice", "api")["token"]
    gid = wh.group("acme", "private")["id"]
    wh.member("alice", "owner", group="acme")
    wh.project("acme/app", "private")

    def configure(**fields):
        r = wh.http.put(f"{wh.api}/application/settings", json=fields,
                        headers={"PRIVATE-TOKEN": root}, timeout=30)
        assert r.status_code == 200, describe_response(r)

    configure(pypi_upstream_url=public_index, pypi_package_requests_forwarding=True,
              pypi_package_requests_forwarding_mode="cache")
    idx = index_url(wh.group_url(gid), tok)
    clients = Clients(tmp_path / "clients")
    for tool in ("pip", "uv"):
        install(clients, tool, idx, venv(clients, f"online-{tool}"))

    configure(pypi_upstream_url=f"http://127.0.0.1:{free_port()}/simple/")
    for tool in ("pip", "uv"):
        install(clients, tool, idx, venv(clients, f"offline-{tool}"))
