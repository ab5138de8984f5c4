"""The upstream index of scenario 7: nginx serving a closure of real wheels, downloaded once from the
public index, under PEP 503 HTML and PEP 691 JSON project pages written here (sha256 hashes,
requires-python, size, upload-time, and core metadata extracted from each wheel, PEP 658/714), plus
a few wheels made here for the page and download loads. Every proxy under test is pointed at it,
so what they are measured on is their own work, not the public index's weather.

The public index is reached only by `pip download`, with pip's own default index or PIP_INDEX_URL:
no address of it is written here."""
from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from email.parser import HeaderParser
from pathlib import Path

from distributions import wheel
from server import free_port

from .common import HOST, JSON_ACCEPT, MiB, BenchError, log
from .processes import PROCS, wait_http

# What is installed: top-level requirements whose closure is about 35 wheels for CPython 3.11 on
# Linux (Sphinx and its sphinxcontrib-*, Flask, rich, httpx; one file of 11 MiB, babel).
CLOSURE = ("sphinx", "flask", "rich", "httpx")
# One upload time for every file: the pages must not change from one run to the next.
UPLOAD_TIME = "2025-01-01T00:00:00.000000Z"
NGINX_NAME = "upstream nginx"


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class UpstreamFile:
    path: Path
    name: str  # the project's normalised name
    version: str
    sha256: str
    size: int
    requires_python: str | None
    metadata_sha256: str | None


@dataclass
class StaticUpstream:
    """The docroot nginx serves and the files in it, by project."""
    docroot: Path
    port: int
    projects: dict[str, list[UpstreamFile]] = field(default_factory=dict)
    closure: list[str] = field(default_factory=list)  # the projects a closure install brings in

    @property
    def simple_url(self) -> str:
        return f"http://{HOST}:{self.port}/simple/"

    def file(self, project: str) -> UpstreamFile:
        return self.projects[project][0]


def download_closure(cache: Path) -> list[Path]:
    """The closure's wheels, fetched with pip into `cache` once and reused while CLOSURE is what
    they were fetched for. pip's find-links and config files are left out, so that only the public
    index (pip's default, or PIP_INDEX_URL) is asked."""
    wheels, stamp = cache / "wheels", cache / "requirements.txt"
    wanted = "\n".join(CLOSURE) + "\n"
    if stamp.exists() and stamp.read_text() == wanted and any(wheels.glob("*.whl")):
        found = sorted(wheels.glob("*.whl"))
        log(f"closure: {len(found)} wheels reused from {wheels}")
        return found
    wheels.mkdir(parents=True, exist_ok=True)
    for old in wheels.glob("*"):
        old.unlink()
    env = {k: v for k, v in os.environ.items() if k != "PIP_FIND_LINKS"}
    env["PIP_CONFIG_FILE"] = os.devnull
    argv = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--only-binary=:all:",
            "--dest", str(wheels), *CLOSURE]
    log(f"closure: pip download {' '.join(CLOSURE)} (once, into {wheels})")
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise BenchError(f"pip download of the closure failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    stamp.write_text(wanted)
    found = sorted(wheels.glob("*.whl"))
    log(f"closure: {len(found)} wheels, {sum(p.stat().st_size for p in found) / MiB:.1f} MiB")
    return found


def wheel_metadata(path: Path) -> bytes:
    """The METADATA of a wheel's .dist-info, as PEP 658 serves it."""
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
        if len(names) != 1:
            raise BenchError(f"{path.name} has {len(names)} .dist-info/METADATA members")
        return zf.read(names[0])


def add_file(upstream: StaticUpstream, path: Path) -> UpstreamFile:
    """Puts a wheel and its METADATA under files/ and records what its pages say about it."""
    metadata = wheel_metadata(path)
    headers = HeaderParser().parsestr(metadata.decode("utf-8", errors="replace"))
    files = upstream.docroot / "files"
    files.mkdir(parents=True, exist_ok=True)
    target = files / path.name
    if not target.exists():
        try:
            os.link(path, target)
        except OSError:  # another file system
            shutil.copyfile(path, target)
    (files / f"{path.name}.metadata").write_bytes(metadata)
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(MiB):
            digest.update(block)
    entry = UpstreamFile(path=target, name=normalize(headers["Name"]), version=headers["Version"],
                         sha256=digest.hexdigest(), size=path.stat().st_size,
                         requires_python=headers.get("Requires-Python"),
                         metadata_sha256=hashlib.sha256(metadata).hexdigest())
    upstream.projects.setdefault(entry.name, []).append(entry)
    return entry


def build(work: Path, closure: list[Path], many_files: int, big_mib: int) -> StaticUpstream:
    """The docroot: the closure, a project of `many_files` small wheels (`bench-versions`, for
    the page load) and one `big_mib` MiB wheel (`big-upstream`, for the download load); their
    twins for Wheelhouse's local side are made by the scenario, not here."""
    docroot = work / "upstream"
    upstream = StaticUpstream(docroot=docroot, port=free_port())
    made = work / "upstream-made"
    for path in closure:
        upstream.closure.append(add_file(upstream, path).name)
    for i in range(many_files):
        add_file(upstream, wheel("bench-versions", f"1.{i}.0", dest=made,
                                 extra_meta="Requires-Python: >=3.8\n").path)
    add_file(upstream, wheel("big-upstream", "1.0.0", payload=big_mib * MiB, dest=made).path)
    write_pages(upstream)
    return upstream


def write_pages(upstream: StaticUpstream) -> None:
    """simple/index.{html,json} and simple/<project>/index.{html,json}; nginx picks one by Accept."""
    simple = upstream.docroot / "simple"
    files_url = f"http://{HOST}:{upstream.port}/files/"
    names = sorted(upstream.projects)
    write(simple, {"meta": {"api-version": "1.1"}, "projects": [{"name": n} for n in names]},
          "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.1\">"
          "<title>Simple index</title></head><body>\n"
          + "".join(f'<a href="{n}/">{n}</a><br/>\n' for n in names) + "</body></html>\n")
    for name in names:
        files = sorted(upstream.projects[name], key=lambda f: f.path.name)
        rows, anchors = [], []
        for f in files:
            row = {"filename": f.path.name, "url": files_url + f.path.name, "hashes": {"sha256": f.sha256},
                   "size": f.size, "upload-time": UPLOAD_TIME, "yanked": False,
                   "core-metadata": {"sha256": f.metadata_sha256},
                   "data-dist-info-metadata": {"sha256": f.metadata_sha256}}
            attrs = (f' data-dist-info-metadata="sha256={f.metadata_sha256}"'
                     f' data-core-metadata="sha256={f.metadata_sha256}"')
            if f.requires_python:
                row["requires-python"] = f.requires_python
                attrs = f' data-requires-python="{html.escape(f.requires_python)}"' + attrs
            rows.append(row)
            anchors.append(f'<a href="{files_url}{f.path.name}#sha256={f.sha256}"{attrs}>{f.path.name}</a><br/>\n')
        versions = sorted({f.version for f in files})
        write(simple / name, {"meta": {"api-version": "1.1"}, "name": name, "versions": versions, "files": rows},
              "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.1\">"
              f"<title>Links for {name}</title></head><body><h1>Links for {name}</h1>\n"
              + "".join(anchors) + "</body></html>\n")


def write(directory: Path, page: dict, page_html: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "index.json").write_text(json.dumps(page, separators=(",", ":")))
    (directory / "index.html").write_text(page_html)


def start_nginx(nginx: str, work: Path, upstream: StaticUpstream):
    """nginx on the upstream's port: one worker per core, sendfile, and PEP 691 negotiation (a
    JSON page for an Accept naming it, HTML otherwise, Vary: Accept). Requests are logged to
    upstream-access.log, so the report can say how many each install made upstream."""
    prefix = work / "upstream-nginx"
    prefix.mkdir(exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(f"""
{'user root;' if os.geteuid() == 0 else ''}
worker_processes {len(os.sched_getaffinity(0))};
daemon off;
master_process on;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    log_format upstream '$request_method $uri $status $body_bytes_sent';
    access_log {work}/upstream-access.log upstream buffer=64k flush=1s;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    client_body_temp_path {prefix}/body;
    types {{
        text/html html;
        {JSON_ACCEPT} json;
        application/octet-stream whl metadata;
    }}
    default_type application/octet-stream;
    map $http_accept $simple_page {{
        default index.html;
        "~application/vnd\\.pypi\\.simple\\.v1\\+json" index.json;
    }}
    server {{
        listen {HOST}:{upstream.port};
        root {upstream.docroot};
        location /simple/ {{
            index $simple_page;
            add_header Vary Accept;
        }}
        location / {{ }}
    }}
}}
""")
    help_text = subprocess.run([nginx, "-h"], capture_output=True, text=True, timeout=30).stderr
    argv = [nginx, "-p", f"{prefix}/", "-c", str(conf)] + (["-e", str(prefix / "error.log")] if " -e " in help_text else [])
    proc = PROCS.start(NGINX_NAME, argv, work / "upstream-nginx.log")
    wait_http(proc, upstream.port, "/simple/", timeout=30)
    return proc


def access_log(work: Path) -> tuple[int, int]:
    """(requests, body bytes) the upstream has logged so far; nginx flushes its log buffer
    within a second, so a caller waits that long after the traffic it counts."""
    requests = sent = 0
    try:
        with open(work / "upstream-access.log", "rb") as f:
            for line in f:
                requests += 1
                sent += int(line.split()[-1])
    except FileNotFoundError:
        pass
    return requests, sent
