"""PEP 700's upload-time as clients filter on it: `uv pip compile --exclude-newer` and pip's
`--uploaded-prior-to` around an upload."""
from __future__ import annotations

import datetime
import itertools
import re
import sys
import time

import pytest

from distributions import wheel
from simple_api import get_json, utcnow
from whlib import describe, index_url, upload_ok


_seq = itertools.count(1)


@pytest.fixture(scope="module")
def timed(server, world, tmp_path_factory):
    """wh-ex 1.0, then (2.5 s later) a cut-off timestamp, then (2.5 s later) wh-ex 2.0."""
    d = tmp_path_factory.mktemp("timed")
    p = server.project("flow/ixstd-timed", "private")
    p["url"] = server.project_url(p["id"])
    v1, v2 = wheel("wh-ex", "1.0", dest=d / "1"), wheel("wh-ex", "2.0", dest=d / "2")
    upload_ok(server, p["id"], v1, "wh-ex", "1.0", world.alice)
    time.sleep(2.5)
    cut = utcnow().replace(microsecond=0)
    time.sleep(2.5)
    upload_ok(server, p["id"], v2, "wh-ex", "2.0", world.alice)
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
