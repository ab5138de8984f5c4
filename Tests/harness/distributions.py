"""Real wheels and sdists for Wheelhouse's end-to-end tests and benchmarks (standard library only).

The one builder for both: Tests/e2e imports it through pytest.ini's `pythonpath`, benchmarks/ with
`sys.path.insert(0, <repo>/Tests/harness)`. Every knob exists because a test or a benchmark needs a
distribution the server must accept, refuse, or survive:

    wheel("wh-demo", "1.0")                          # in memory: .filename, .data, .metadata
    wheel("wh-demo", "1.0", dest=tmp_path)           # written to tmp_path/<file name>: also .path
    wheel("wh-big", "1.0", payload=100 << 20, dest=d)  # 100 MiB of random bytes streamed to disk
    wheel("wh-x", "1.0", meta_version="2.0")         # METADATA that lies about the version
    wheel("wh-x", "1.0", extra_meta="Requires-Python: >=3.8\\n")
    sdist("wh-x", "1.0", pkg_info=False)             # an sdist without PKG-INFO
    sdist("wh-x", "1.0", filename="evil-1.0.tar.gz") # any file name, as given

Wheels are pure Python (py3-none-any) and installable: pip and uv import `<module>.VALUE` (the
version) from them. Every build also carries a random token, so two builds of one name and version
have different bytes (the duplicate-file tests rely on it). A payload is always stored, never
deflated, so its bytes appear verbatim in the file.

`write_project` and `start_build` make a source tree and build it for real with `python -m build`;
they need `build`, setuptools and wheel in the running interpreter (the e2e venv has them).
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import uuid
import zipfile
from pathlib import Path
from typing import BinaryIO

MiB = 1 << 20
# Fixed member dates, so only the random token and payload make two builds differ.
ZIP_DATE = (2023, 11, 14, 0, 0, 0)
TAR_MTIME = 1_700_000_000


class Dist:
    """One distribution file: its name, its bytes (held in memory, or in a file at `path`), and the
    core metadata built into it: the bytes the index must serve at `<file url>.metadata`, or None
    when the file has none (a wheel built with omit_metadata, an sdist without PKG-INFO)."""

    def __init__(self, filename: str, content: bytes | None = None, *, path: Path | None = None,
                 metadata: bytes | None = None):
        if (content is None) == (path is None):
            raise ValueError("a Dist has either content or a path")
        self.filename, self.content, self.metadata = filename, content, metadata
        self.path = Path(path) if path is not None else None
        self._digests: dict[str, str] | None = None

    @classmethod
    def at(cls, path: Path, metadata: bytes | None = None) -> "Dist":
        """A distribution file that already exists on disk (made by `python -m build`, say)."""
        return cls(Path(path).name, path=Path(path), metadata=metadata)

    def __repr__(self):
        return f"Dist({self.filename!r}, {self.size} bytes{f', at {self.path}' if self.path else ''})"

    @property
    def data(self) -> bytes:
        """All the bytes; read from the file each time for a Dist on disk."""
        return self.content if self.content is not None else self.path.read_bytes()

    @property
    def size(self) -> int:
        return len(self.content) if self.content is not None else self.path.stat().st_size

    @property
    def filetype(self) -> str:
        """The upload form's `filetype`: bdist_wheel or sdist."""
        return "bdist_wheel" if self.filename.endswith(".whl") else "sdist"

    def open(self) -> BinaryIO:
        return io.BytesIO(self.content) if self.content is not None else open(self.path, "rb")

    def hexdigests(self) -> dict[str, str]:
        """sha256, blake2_256 and md5 of the bytes (what an upload form carries), read once in
        4 MiB blocks, so a large file on disk is never held in memory."""
        if self._digests is None:
            hashes = {"sha256": hashlib.sha256(), "blake2_256": hashlib.blake2b(digest_size=32),
                      "md5": hashlib.md5()}
            with self.open() as f:
                while block := f.read(4 * MiB):
                    for h in hashes.values():
                        h.update(block)
            self._digests = {k: h.hexdigest() for k, h in hashes.items()}
        return self._digests

    @property
    def sha256(self) -> str:
        return self.hexdigests()["sha256"]

    def write(self, dest: Path) -> "Dist":
        """This distribution as a file in `dest` (created if needed), under its own file name."""
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        path = dest / self.filename
        with self.open() as src, open(path, "wb") as out:
            while block := src.read(4 * MiB):
                out.write(block)
        return Dist.at(path, self.metadata)


def dist_name(name: str) -> str:
    """A project name as it is spelled in file names and dist-info directories (PEP 427)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def core_metadata(name: str, version: str, extra: str = "", metadata_version: str = "2.1") -> bytes:
    """A METADATA / PKG-INFO file: the three required fields, then `extra` (whole lines) as given."""
    return f"Metadata-Version: {metadata_version}\nName: {name}\nVersion: {version}\n{extra}".encode()


def random_bytes(size: int):
    """`size` random bytes in blocks of at most 1 MiB."""
    while size > 0:
        block = os.urandom(min(MiB, size))
        size -= len(block)
        yield block


def _record_line(path: str, data: bytes | None = None, digest: bytes | None = None, size: int = 0) -> str:
    if data is not None:
        digest, size = hashlib.sha256(data).digest(), len(data)
    return f"{path},sha256={base64.urlsafe_b64encode(digest).rstrip(b'=').decode()},{size}\n"


def _finish(filename: str, buf: io.BytesIO | None, path: Path | None, metadata: bytes | None) -> Dist:
    if path is not None:
        return Dist(filename, path=path, metadata=metadata)
    return Dist(filename, buf.getvalue(), metadata=metadata)


def _target(dest: Path | None, filename: str) -> tuple[io.BytesIO | None, Path | None]:
    if dest is None:
        return io.BytesIO(), None
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    return None, dest / filename


def wheel(name: str, version: str, *, dest: Path | None = None, filename: str | None = None,
          module: str | None = None, meta_name: str | None = None, meta_version: str | None = None,
          extra_meta: str = "", metadata: bytes | None = None, omit_metadata: bool = False,
          payload: bytes | int = b"", members: dict[str, bytes] | None = None,
          compression: int = zipfile.ZIP_STORED) -> Dist:
    """A pure-Python wheel, in memory, or written to `dest` when given.

    METADATA says `meta_name` / `meta_version` (default: the real ones) plus `extra_meta`;
    `metadata` replaces it byte for byte; `omit_metadata` leaves it out. `payload` (bytes, or a
    size for that many random bytes, streamed to the file when `dest` is given) is stored as
    `<module>/payload.bin`. `members` are added as given (any name, even one escaping the
    archive). RECORD lists every member with its sha256 and size. `compression` applies to
    every member but the payload: stored by default, as the suite's wheels always were (the
    wheels `python -m build` makes are deflated, so the suite reads both)."""
    stem = dist_name(name)
    module = module or stem
    info = f"{stem}-{version}.dist-info"
    filename = filename or f"{stem}-{version}-py3-none-any.whl"
    if metadata is None:
        metadata = core_metadata(meta_name or name, meta_version or version, extra_meta)
    small = {f"{module}/__init__.py": f"VALUE = {version!r}\nTOKEN = {uuid.uuid4().hex!r}\n".encode()}
    if not omit_metadata:
        small[f"{info}/METADATA"] = metadata
    small[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: wheelhouse-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    small.update(members or {})
    buf, path = _target(dest, filename)
    record = ""
    with zipfile.ZipFile(path or buf, "w") as zf:
        if payload:
            record += _write_payload(zf, f"{module}/payload.bin", payload)
        for member, data in small.items():
            zi = zipfile.ZipInfo(member, ZIP_DATE)
            zi.compress_type = compression
            zf.writestr(zi, data)
            record += _record_line(member, data)
        zi = zipfile.ZipInfo(f"{info}/RECORD", ZIP_DATE)
        zi.compress_type = compression
        zf.writestr(zi, record + f"{info}/RECORD,,\n")
    return _finish(filename, buf, path, None if omit_metadata else metadata)


def _write_payload(zf: zipfile.ZipFile, member: str, payload: bytes | int) -> str:
    """Stores the payload (streamed block by block when it is a size); returns its RECORD line."""
    if isinstance(payload, bytes):
        zi = zipfile.ZipInfo(member, ZIP_DATE)
        zf.writestr(zi, payload)  # ZipInfo's default compress_type: stored
        return _record_line(member, payload)
    zi = zipfile.ZipInfo(member, ZIP_DATE)
    zi.file_size = payload  # lets zipfile choose zip64 up front when the size needs it
    digest = hashlib.sha256()
    with zf.open(zi, "w") as f:
        for block in random_bytes(payload):
            digest.update(block)
            f.write(block)
    return _record_line(member, digest=digest.digest(), size=payload)


class _RandomReader(io.RawIOBase):
    """`size` random bytes, made as they are read (tarfile streams a member from a file object)."""

    def __init__(self, size: int):
        self.left = size

    def readable(self):
        return True

    def readinto(self, b):
        k = min(len(b), self.left, MiB)
        b[:k] = os.urandom(k)
        self.left -= k
        return k


def sdist(name: str, version: str, *, dest: Path | None = None, filename: str | None = None,
          meta_name: str | None = None, meta_version: str | None = None, extra_meta: str = "",
          pkg_info: bool = True, payload: bytes | int = b"") -> Dist:
    """A .tar.gz sdist, in memory, or written to `dest` when given: `<stem>/PKG-INFO` (Metadata-Version
    2.2, as PEP 643 gives sdists; left out when `pkg_info` is false), pyproject.toml and mod.py, and
    `payload` (bytes, or a size for that many random bytes, streamed) as `<stem>/payload.bin`."""
    stem = f"{dist_name(name)}-{version}"
    filename = filename or f"{stem}.tar.gz"
    metadata = core_metadata(meta_name or name, meta_version or version, extra_meta, "2.2") if pkg_info else None
    files = {"pyproject.toml": f'[project]\nname = "{name}"\nversion = "{version}"\n'.encode(),
             "mod.py": f"MARKER = {uuid.uuid4().hex!r}\n".encode()}
    if metadata is not None:
        files = {"PKG-INFO": metadata, **files}
    buf, path = _target(dest, filename)
    with tarfile.open(name=path, fileobj=buf, mode="w:gz") as tar:
        for rel, data in files.items():
            _add(tar, f"{stem}/{rel}", len(data), io.BytesIO(data))
        if isinstance(payload, bytes) and payload:
            _add(tar, f"{stem}/payload.bin", len(payload), io.BytesIO(payload))
        elif isinstance(payload, int) and payload:
            _add(tar, f"{stem}/payload.bin", payload, _RandomReader(payload))
    return _finish(filename, buf, path, metadata)


def _add(tar: tarfile.TarFile, member: str, size: int, fileobj) -> None:
    info = tarfile.TarInfo(member)
    info.size, info.mtime = size, TAR_MTIME
    tar.addfile(info, fileobj)


# ---------------------------------------------------------------- built for real

def write_project(root: Path, name: str, version: str, module: str, value: str,
                  deps=(), requires_python=">=3.8") -> Path:
    """A setuptools project of one module whose VALUE is `value` (and which imports its `deps`)."""
    root.mkdir(parents=True)
    deps_toml = ", ".join(json.dumps(d) for d in deps)
    (root / "pyproject.toml").write_text(
        "[build-system]\nrequires = [\"setuptools\", \"wheel\"]\n"
        "build-backend = \"setuptools.build_meta\"\n\n"
        f"[project]\nname = \"{name}\"\nversion = \"{version}\"\n"
        f"description = \"Wheelhouse e2e fixture\"\nrequires-python = \"{requires_python}\"\n"
        f"dependencies = [{deps_toml}]\n\n[tool.setuptools]\npy-modules = [\"{module}\"]\n")
    imports = "".join(f"import {d.split('>')[0].split('=')[0].replace('-', '_')}\n" for d in deps)
    (root / f"{module}.py").write_text(f"{imports}VALUE = {value!r}\n")
    return root


def start_build(src: Path, outdir: Path, env: dict) -> subprocess.Popen:
    """`python -m build --no-isolation --sdist --wheel` of `src` into `outdir`, started, not waited for."""
    return subprocess.Popen(
        [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel",
         "--outdir", str(outdir), str(src)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=src)
