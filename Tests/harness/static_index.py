"""A small upstream package index on 127.0.0.1 for tests and benchmarks (standard library only).

Wheelhouse's forwarding fetches from an upstream simple index; this one is the upstream the tests
control completely: what it serves, what it was asked for, and how it misbehaves.

    index = StaticIndex().start()             # a ThreadingHTTPServer on a free port
    index.url                                 # "http://127.0.0.1:PORT/simple/"
    index.add_dist("wh-up", dist, requires_python=">=3.8", yanked="broken")
    index.add_file("wh-up", "wh_up-1.0.tar.gz", b"...", announce_sha256=False)
    index.load_directory(path)                # wheels and sdists in path (or path/<project>/)
    index.hostile("wh-up", "hang", seconds=20)    # see HOSTILE; index.normal("wh-up") undoes it
    index.log; index.requests_to("/files/")   # Request(method, path, headers), in arrival order
    index.clear_log()
    index.stop(); index.start()               # "down" (connections refused), then up on one port

Routes: `/simple/` (every project), `/simple/<name>/` (any spelling of the name; the canonical
one answers, others redirect like the public index does), `/files/<project>/<filename>` and
`<that>.metadata` (PEP 658, for files given core metadata). A page is PEP 691 JSON (api-version
1.1, absolute file URLs) when the Accept header names `application/vnd.pypi.simple.v1+json`,
PEP 503 HTML otherwise (relative file URLs, as static indexes write them); with
`html_only=True` it is always HTML. Pages and files carry an ETag (a digest of the exact bytes)
and Last-Modified, and answer a matching If-None-Match or If-Modified-Since with 304.
"""
from __future__ import annotations

import email.utils
import hashlib
import html
import http.server
import json
import re
import socket
import threading
import time
import urllib.parse
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

HOST = "127.0.0.1"
JSON_T = "application/vnd.pypi.simple.v1+json"
CHUNK = 64 * 1024

# What `hostile(project, kind, **options)` can make a project do, and the requests it affects
# by default (`on=` changes that: any of "page", "file", "metadata").
HOSTILE = {
    # The page announces each file's real sha256, but the bytes served differ in their last
    # byte: same length, wrong digest (a proxy must not store or complete them).
    "wrong_sha256": ("file", "metadata"),
    # The page also lists files whose names hold "/", "..", a control character or a NUL.
    "bad_names": ("page",),
    # The page is not JSON at all, under the JSON media type (or bytes that are no HTML).
    "garbage": ("page",),
    # The page is valid JSON that never stops growing: `size` bytes (default 100 MiB) of file
    # entries, chunked, generated as sent (nothing held in memory).
    "huge": ("page",),
    # 500 Internal Server Error.
    "error500": ("page",),
    # Nothing is answered for `seconds` (default 20) after the request arrives, then a 503
    # (or nothing at all, when the index is stopped meanwhile).
    "hang": ("page",),
    # `hops` (default 3) redirects (302) before the real answer.
    "redirect_chain": ("page",),
    # A redirect to a non-http(s) `location` (default file:///etc/passwd).
    "redirect_scheme": ("page",),
    # The first half of the body, then `seconds` (default 2) of silence, then the rest.
    "slow_file": ("file",),
}

# File names a hostile page lists (bad_names): a path, a parent directory, control characters.
BAD_NAMES = ("../../etc/evil-1.0-py3-none-any.whl", "sub/dir-1.0-py3-none-any.whl",
             "evil\r\nX-Injected: 1-1.0-py3-none-any.whl", "nul\x00byte-1.0-py3-none-any.whl",
             "..", "bell\x07-1.0-py3-none-any.whl")


def normalize(name: str) -> str:
    """PEP 503's normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def project_of(filename: str) -> str:
    """The normalised project name a wheel's or sdist's file name carries."""
    if filename.endswith(".whl"):
        return normalize(filename.split("-", 1)[0])
    stem = re.sub(r"\.(tar\.gz|zip|tar\.bz2|tgz)$", "", filename)
    return normalize(stem.rsplit("-", 1)[0])


def wheel_metadata(path: Path) -> bytes | None:
    """The METADATA member of a wheel on disk (read alone, not the whole archive)."""
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if re.fullmatch(r"[^/]+\.dist-info/METADATA", name):
                return zf.read(name)
    return None


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Request(NamedTuple):
    """One request as it arrived: method, path (with its query, still quoted) and headers
    (names lower-cased)."""
    method: str
    path: str
    headers: dict


@dataclass
class File:
    """One file of a project and what its page says about it."""
    filename: str
    content: bytes | None = None  # in memory, or...
    path: Path | None = None      # ...read from disk as it is sent
    sha256: str = ""
    size: int = 0
    announce_sha256: bool = True  # False: the page gives only an md5 (a proxy must drop it)
    requires_python: str | None = None
    yanked: bool | str = False    # a string is the reason
    metadata: bytes | None = None  # PEP 658 core metadata, served at <file>.metadata
    upload_time: str | None = None  # ISO 8601, e.g. "2024-01-02T03:04:05.000000Z"

    def read_chunks(self):
        if self.content is not None:
            for i in range(0, len(self.content), CHUNK):
                yield self.content[i:i + CHUNK]
            return
        with open(self.path, "rb") as f:
            for block in iter(lambda: f.read(CHUNK), b""):
                yield block


@dataclass
class Project:
    name: str  # normalised
    files: dict = field(default_factory=dict)  # filename -> File
    hostile: tuple | None = None  # (kind, on, options)
    changed: float = field(default_factory=time.time)


class StaticIndex:
    """The upstream index (see the module docstring). Thread-safe: tests register projects and
    switch behaviours while the server answers."""

    def __init__(self, *, port: int | None = None, html_only: bool = False, etags: bool = True):
        self.port = port or 0
        self.html_only = html_only
        self.etags = etags  # False: no ETag / Last-Modified, so revalidation gets whole pages
        self.projects: dict[str, Project] = {}
        self.log: list[Request] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- where it is
    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def url(self) -> str:
        """The simple index's URL, with its trailing slash."""
        return f"{self.base}/simple/"

    def file_url(self, project: str, filename: str) -> str:
        return f"{self.base}/files/{normalize(project)}/{urllib.parse.quote(filename)}"

    # -- lifecycle
    def start(self) -> "StaticIndex":
        """Listens (on the same port as before after a stop) and serves in a thread."""
        if self._httpd is not None:
            return self
        self._stopping.clear()
        handler = type("Handler", (_Handler,), {"index": self})
        httpd = _Server((HOST, self.port), handler)
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"static-index-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops listening and cuts open connections short, hangs included: the index is down
        (connections refused) until start()."""
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.close_connections()
        self._thread.join(5)
        self._httpd = self._thread = None

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- what it serves
    def add_file(self, project: str, filename: str, content: bytes | None = None, *,
                 path: Path | None = None, metadata: bytes | None = None, **attrs) -> File:
        """Registers one file (bytes, or a file on disk read as it is sent); `attrs` are File's
        page fields (requires_python, yanked, announce_sha256, upload_time). Replaces a file of
        the same name."""
        if (content is None) == (path is None):
            raise ValueError("a file has either content or a path")
        if content is not None:
            digest, size = hashlib.sha256(content).hexdigest(), len(content)
        else:
            path = Path(path)
            digest, size = file_sha256(path), path.stat().st_size
        f = File(filename, content, path, digest, size, metadata=metadata, **attrs)
        with self._lock:
            p = self.projects.setdefault(normalize(project), Project(normalize(project)))
            p.files[filename] = f
            p.changed = time.time()
        return f

    def add_dist(self, project: str, dist, **attrs) -> File:
        """Registers a distributions.Dist (its core metadata becomes the .metadata file)."""
        if dist.path is not None:
            return self.add_file(project, dist.filename, path=dist.path, metadata=dist.metadata,
                                 **attrs)
        return self.add_file(project, dist.filename, dist.content, metadata=dist.metadata, **attrs)

    def load_directory(self, root: Path) -> list[File]:
        """Registers every wheel and sdist in `root` (project from the file name), or in
        `root/<project>/` for each sub-directory; wheels get their METADATA as .metadata."""
        root = Path(root)
        added = []
        for entry in sorted(root.iterdir()):
            items = sorted(entry.iterdir()) if entry.is_dir() else [entry]
            for path in items:
                if not path.is_file() or not re.search(r"\.(whl|tar\.gz|zip)$", path.name):
                    continue
                project = entry.name if entry.is_dir() else project_of(path.name)
                meta = wheel_metadata(path) if path.name.endswith(".whl") else None
                added.append(self.add_file(project, path.name, path=path, metadata=meta))
        return added

    def remove_project(self, project: str) -> None:
        with self._lock:
            self.projects.pop(normalize(project), None)

    def touch(self, project: str) -> None:
        """Marks a project changed now (its Last-Modified)."""
        with self._lock:
            self.projects[normalize(project)].changed = time.time()

    # -- how it behaves
    def hostile(self, project: str, kind: str, *, on=None, **options) -> None:
        """Makes `project` misbehave (a kind of HOSTILE) on the requests named by `on`."""
        if kind not in HOSTILE:
            raise ValueError(f"unknown hostile behaviour {kind!r}; one of {sorted(HOSTILE)}")
        with self._lock:
            p = self.projects.setdefault(normalize(project), Project(normalize(project)))
            p.hostile = (kind, tuple(on or HOSTILE[kind]), options)

    def normal(self, project: str | None = None) -> None:
        """Ends the hostile behaviour of `project`, or of every project."""
        with self._lock:
            for p in self.projects.values():
                if project is None or p.name == normalize(project):
                    p.hostile = None

    # -- what it was asked
    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    def requests_to(self, prefix: str = "", method: str | None = None) -> list[Request]:
        """Logged requests whose unquoted path starts with `prefix` (and of `method`)."""
        with self._lock:
            entries = list(self.log)
        return [r for r in entries if urllib.parse.unquote(r.path).startswith(prefix)
                and (method is None or r.method == method)]

    def paths(self) -> list[str]:
        """The unquoted paths of every logged request, in order."""
        with self._lock:
            return [urllib.parse.unquote(r.path) for r in self.log]

    # -- rendering (also used by the handler)
    def _record(self, req: Request) -> None:
        with self._lock:
            self.log.append(req)

    def _snapshot(self, name: str) -> Project | None:
        with self._lock:
            p = self.projects.get(name)
            if p is None:
                return None
            return Project(p.name, dict(p.files), p.hostile, p.changed)

    def _project_names(self) -> list[str]:
        with self._lock:
            return sorted(n for n, p in self.projects.items() if p.files)

    def render_page(self, p: Project, as_json: bool, bad_names: bool = False) -> bytes:
        files = sorted(p.files.values(), key=lambda f: f.filename)
        if as_json:
            entries = [self._json_entry(p.name, f) for f in files]
            if bad_names:
                entries += [self._json_entry(p.name, f) for f in _bad_files()]
            versions = sorted({_version_of(f.filename) for f in files} - {None})
            doc = {"meta": {"api-version": "1.1"}, "name": p.name, "versions": versions,
                   "files": entries}
            return json.dumps(doc, indent=1).encode()
        anchors = [self._anchor(p.name, f) for f in files]
        if bad_names:
            anchors += [self._anchor(p.name, f) for f in _bad_files()]
        return ("<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" "
                f"content=\"1.1\"><title>Links for {p.name}</title></head><body>\n"
                f"<h1>Links for {p.name}</h1>\n" + "".join(anchors) + "</body></html>\n").encode()

    def _json_entry(self, project: str, f: File) -> dict:
        hashes = {"sha256": f.sha256} if f.announce_sha256 else {
            "md5": hashlib.md5(f.content or f.path.read_bytes()).hexdigest()}
        entry = {"filename": f.filename, "url": self.file_url(project, f.filename),
                 "hashes": hashes, "requires-python": f.requires_python, "size": f.size,
                 "yanked": f.yanked}
        if f.upload_time:
            entry["upload-time"] = f.upload_time
        if f.metadata is not None:
            meta = {"sha256": hashlib.sha256(f.metadata).hexdigest()}
            entry["core-metadata"] = entry["dist-info-metadata"] = meta
        return entry

    def _anchor(self, project: str, f: File) -> str:
        href = f"../../files/{project}/{urllib.parse.quote(f.filename)}"
        if f.announce_sha256:
            href += f"#sha256={f.sha256}"
        else:
            href += f"#md5={hashlib.md5(f.content or f.path.read_bytes()).hexdigest()}"
        attrs = [f'href="{html.escape(href)}"']
        if f.requires_python:
            attrs.append(f'data-requires-python="{html.escape(f.requires_python)}"')
        if f.yanked is not False:
            reason = f.yanked if isinstance(f.yanked, str) else ""
            attrs.append(f'data-yanked="{html.escape(reason)}"')
        if f.metadata is not None:
            meta = f"sha256={hashlib.sha256(f.metadata).hexdigest()}"
            attrs += [f'data-core-metadata="{meta}"', f'data-dist-info-metadata="{meta}"']
        return f"<a {' '.join(attrs)}>{html.escape(f.filename)}</a><br/>\n"

    def render_root(self, as_json: bool) -> bytes:
        names = self._project_names()
        if as_json:
            return json.dumps({"meta": {"api-version": "1.1"},
                               "projects": [{"name": n} for n in names]}).encode()
        return ("<!DOCTYPE html>\n<html><body>\n"
                + "".join(f'<a href="{n}/">{n}</a><br/>\n' for n in names)
                + "</body></html>\n").encode()


def _version_of(filename: str) -> str | None:
    parts = filename.split("-")
    if filename.endswith(".whl") and len(parts) >= 5:
        return parts[1]
    m = re.match(r".+-([^-]+)\.(tar\.gz|zip)$", filename)
    return m.group(1) if m else None


def _bad_files() -> list[File]:
    return [File(name, b"hostile", sha256=hashlib.sha256(b"hostile").hexdigest(), size=7)
            for name in BAD_NAMES]


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, *args, **kw):
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(*args, **kw)

    def process_request(self, request, client_address):
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self):
        with self._open_lock:
            conns, self._open = list(self._open), set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(http.server.BaseHTTPRequestHandler):
    index: StaticIndex  # set on the subclass StaticIndex.start makes
    protocol_version = "HTTP/1.1"
    server_version = "StaticIndex/1"

    def log_message(self, format, *args):  # the request log is index.log; stderr stays quiet
        pass

    def do_HEAD(self):
        self._answer(head=True)

    def do_GET(self):
        self._answer(head=False)

    # -- dispatch
    def _answer(self, head: bool):
        idx = self.index
        idx._record(Request(self.command, self.path,
                            {k.lower(): v for k, v in self.headers.items()}))
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        try:
            hop = re.fullmatch(r"/r/(\d+)(/.*)", path)
            if hop:  # a redirect chain's hop: /r/N/<path> sends on to /r/N-1, /r/0 answers
                n, rest = int(hop.group(1)), hop.group(2)
                if n > 0:
                    return self._send_redirect(f"/r/{n - 1}{urllib.parse.quote(rest)}")
                return self._route(rest, head, obey_hostile=False)
            self._route(path, head, obey_hostile=True)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _route(self, path: str, head: bool, obey_hostile: bool):
        if path in ("/simple", "/simple/"):
            return self._send_body(200, self.index.render_root(self._wants_json()),
                                   self._page_type(), head)
        m = re.fullmatch(r"/simple/([^/]+)(/?)", path)
        if m:
            return self._page(m.group(1), bool(m.group(2)), head, obey_hostile)
        m = re.fullmatch(r"/files/([^/]+)/(.+)", path)
        if m:
            return self._file(m.group(1), m.group(2), head, obey_hostile)
        self._send_body(404, b"not found\n", "text/plain", head)

    def _wants_json(self) -> bool:
        return not self.index.html_only and JSON_T in self.headers.get("Accept", "")

    def _page_type(self) -> str:
        return JSON_T if self._wants_json() else "text/html; charset=utf-8"

    def _page(self, raw_name: str, slash: bool, head: bool, obey_hostile: bool):
        name = normalize(raw_name)
        p = self.index._snapshot(name)
        if p is None or (not p.files and p.hostile is None):
            return self._send_body(404, b"no such project\n", "text/plain", head)
        if raw_name != name or not slash:
            return self._send_redirect(f"/simple/{name}/")
        if obey_hostile and self._misbehave(p, "page", head):
            return
        kind = p.hostile[0] if p.hostile and obey_hostile else None
        body = self.index.render_page(p, self._wants_json(), bad_names=kind == "bad_names")
        self._send_validated(body, self._page_type(), p.changed, head)

    def _file(self, project: str, filename: str, head: bool, obey_hostile: bool):
        p = self.index._snapshot(normalize(project))
        if p is not None and not obey_hostile:
            p.hostile = None
        want_meta = filename.endswith(".metadata")
        base = filename[:-len(".metadata")] if want_meta else filename
        f = p.files.get(base) if p else None
        if f is None or (want_meta and f.metadata is None):
            return self._send_body(404, b"no such file\n", "text/plain", head)
        which = "metadata" if want_meta else "file"
        if self._misbehave(p, which, head):
            return
        corrupt = p.hostile is not None and p.hostile[0] == "wrong_sha256" and which in p.hostile[1]
        if want_meta:
            body = f.metadata if not corrupt else f.metadata[:-1] + bytes([f.metadata[-1] ^ 1])
            return self._send_validated(body, "application/octet-stream", p.changed, head)
        slow = None
        if p.hostile is not None and p.hostile[0] == "slow_file" and which in p.hostile[1]:
            slow = float(p.hostile[2].get("seconds", 2))
        self._send_file(f, corrupt, slow, head)

    # -- misbehaving
    def _misbehave(self, p: Project, which: str, head: bool) -> bool:
        """Answers for a hostile project when its behaviour covers `which`; True if it did."""
        if p.hostile is None or which not in p.hostile[1]:
            return False
        kind, _, opts = p.hostile
        if kind == "error500":
            self._send_body(500, b"upstream exploded\n", "text/plain", head)
        elif kind == "garbage":
            body = b"\x00\xff\xfe garbage, not JSON {{{ <<<" * 50
            self._send_body(200, body, self._page_type(), head)
        elif kind == "hang":
            if not self.index._stopping.wait(float(opts.get("seconds", 20))):
                self._send_body(503, b"woke up\n", "text/plain", head)
            self.close_connection = True
        elif kind == "huge":
            self._send_huge(p.name, int(opts.get("size", 100 << 20)), head)
        elif kind == "redirect_chain":
            hops = int(opts.get("hops", 3))
            self._send_redirect(f"/r/{hops - 1}{self.path}")
        elif kind == "redirect_scheme":
            self._send_redirect(opts.get("location", "file:///etc/passwd"))
        else:
            return False  # wrong_sha256, bad_names and slow_file shape the normal answer
        return True

    # -- writing
    def _send_redirect(self, location: str):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send_body(self, status: int, body: bytes, ctype: str, head: bool, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _validators(self, etag: str, changed: float) -> list[tuple[str, str]]:
        if not self.index.etags:
            return []
        return [("ETag", etag), ("Last-Modified", email.utils.formatdate(int(changed), usegmt=True))]

    def _not_modified(self, etag: str, changed: float) -> bool:
        if not self.index.etags:
            return False
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            return etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                return int(changed) <= email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                return False
        return False

    def _send_validated(self, body: bytes, ctype: str, changed: float, head: bool):
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        validators = self._validators(etag, changed)
        if self._not_modified(etag, changed):
            self.send_response(304)
            for k, v in validators:
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send_body(200, body, ctype, head, validators)

    def _send_file(self, f: File, corrupt: bool, slow: float | None, head: bool):
        etag = f'"{f.sha256[:32]}"'
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(f.size))
        for k, v in self._validators(etag, 0):
            self.send_header(k, v)
        self.end_headers()
        if head:
            return
        sent, half = 0, f.size // 2
        chunks = f.read_chunks()
        for chunk in chunks:
            if slow is not None and sent <= half < sent + len(chunk):
                cut = half - sent
                self.wfile.write(chunk[:cut])
                self.wfile.flush()
                if self.index._stopping.wait(slow):
                    return
                chunk = chunk[cut:]
                sent += cut
                slow = None
            if corrupt and sent + len(chunk) == f.size:
                chunk = chunk[:-1] + bytes([chunk[-1] ^ 1])
            self.wfile.write(chunk)
            sent += len(chunk)

    def _send_huge(self, name: str, size: int, head: bool):
        """A JSON page of `size` bytes, generated while it is sent (chunked)."""
        self.send_response(200)
        self.send_header("Content-Type", self._page_type())
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if head:
            return
        head_bytes = ('{"meta": {"api-version": "1.1"}, "name": "%s", "files": [' % name).encode()
        digest = "0" * 64
        sent = 0
        self._chunk(head_bytes)
        sent += len(head_bytes)
        n = 0
        block = []
        while sent < size:
            if self.index._stopping.is_set():
                return
            entry = ('{"filename": "%s-%d.0-py3-none-any.whl", "url": "http://%s/x.whl", '
                     '"hashes": {"sha256": "%s"}},\n' % (name.replace("-", "_"), n, HOST, digest))
            block.append(entry)
            n += 1
            if len(block) >= 256:
                data = "".join(block).encode()
                self._chunk(data)
                sent += len(data)
                block = []
        self._chunk(('{"filename": "%s-end.0-py3-none-any.whl", "url": "http://%s/x.whl", '
                     '"hashes": {"sha256": "%s"}}]}' % (name.replace("-", "_"), HOST, digest)).encode())
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, data: bytes):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
