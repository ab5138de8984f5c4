"""Putting the catalogue in place. The small catalogue is uploaded over HTTP as real wheels and
sdists (Tests/harness/distributions.py); the large one is recorded by `wheelhouse bulk-load` from a
listing made here and streamed to it, one project at a time. The counts the report prints are
kept as the server accepts each file and checked against the REST API's X-Total: nothing here
reads or writes the database behind the server's back."""
from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from distributions import Dist, dist_name, sdist, wheel

from .client import multipart_upload, request, upload_fields
from .common import MiB, BenchError, log
from .wheelhouse import Wheelhouse

# What every benchmark distribution's core metadata says beyond its name and version.
EXTRA_METADATA = "Summary: Wheelhouse benchmark package\nRequires-Python: >=3.8\n"


def bench_wheel(name: str, version: str, **options) -> Dist:
    return wheel(name, version, extra_meta=EXTRA_METADATA, **options)


def bench_sdist(name: str, version: str, **options) -> Dist:
    return sdist(name, version, extra_meta=EXTRA_METADATA, **options)


class Tally:
    """What the registry holds, counted as the server accepts it: packages (distinct names per
    project, as the report counts them), releases (what the REST API's X-Total counts) and files."""

    def __init__(self) -> None:
        self.names: set[tuple[int, str]] = set()
        self.releases: set[tuple[int, str, str]] = set()
        self.files = 0
        self._lock = threading.Lock()  # uploads run 4 at a time

    def add(self, project: int, name: str, version: str) -> None:
        normalized = re.sub(r"[-_.]+", "-", name).lower()
        with self._lock:
            self.names.add((project, normalized))
            self.releases.add((project, normalized, version))
            self.files += 1


@dataclass
class Catalogue:
    """The small catalogue: who uploads, the projects and groups (ids), the big wheel (a Dist on
    disk), and the tally. The pages it yields are counted by the scenarios (`*_links`)."""
    token: str
    main: int
    secret: int
    uploads: int
    corp: int
    fleet: int
    fleet_projects: list[int]
    big_wheel: Dist | None = None
    tally: Tally = field(default_factory=Tally)
    index_links: int = 0
    group_links: int = 0

    @property
    def auth(self) -> str:
        return "Basic " + base64.b64encode(f"__token__:{self.token}".encode()).decode()


def upload(wh: Wheelhouse, cat: Catalogue, project: int, dist: Dist, name: str, version: str,
           timeout: float = 300.0) -> float:
    """Uploads one file as twine does and counts it; returns the seconds it took."""
    status, body, seconds = multipart_upload(wh.port, f"/api/v4/projects/{project}/packages/pypi",
                                             upload_fields(dist, name, version), dist, cat.auth, timeout)
    if status not in (200, 201):
        raise BenchError(f"upload of {dist.filename} to project {project} answered {status}: {body[:300]!r}")
    cat.tally.add(project, name, version)
    return seconds


def upload_all(wh: Wheelhouse, cat: Catalogue, jobs: list[tuple[int, Dist, str, str]]) -> None:
    """jobs: (project id, distribution, name, version); 4 at a time."""
    with ThreadPoolExecutor(4) as pool:
        for _ in pool.map(lambda job: upload(wh, cat, *job, timeout=120), jobs):
            pass


def small_catalogue(wh: Wheelhouse, args, work: Path, pypi_dir: Path) -> Catalogue:
    """A public project of `args.index_packages` packages (a 2-file package, a 500-file package, the
    big wheel, fillers), a private project with the 2-file package, an empty project for the upload
    scenario, a group of `args.group_projects` projects; the public project's files also go to
    `pypi_dir` for pypiserver."""
    log("creating the user, groups and projects")
    wh.user("bench", admin=True)
    token = wh.token("bench", "api", name="bench")["token"]
    corp = wh.group("corp", "public")["id"]
    main = wh.project("corp/main", "public")["id"]
    secret = wh.project("corp/secret", "private")["id"]
    uploads = wh.project("corp/uploads", "public")["id"]
    fleet = wh.group("fleet", "public")["id"]
    fleet_projects = [wh.project(f"fleet/p{i:02d}", "public")["id"] for i in range(args.group_projects)]
    cat = Catalogue(token=token, main=main, secret=secret, uploads=uploads, corp=corp, fleet=fleet,
                    fleet_projects=fleet_projects)

    jobs, main_files = [], []
    for make in (bench_wheel, bench_sdist):
        dist = make("pkg-two", "1.0.1")
        for project in (main, secret):
            jobs.append((project, dist, "pkg-two", "1.0.1"))
        main_files.append(dist)
    for i in range(500):
        dist = bench_wheel("pkg-many", f"1.{i}.1")
        jobs.append((main, dist, "pkg-many", f"1.{i}.1"))
        main_files.append(dist)
    for i in range(args.index_packages - 3):  # + pkg-two, pkg-many and big-wheel
        dist = bench_wheel(f"filler-{i:04d}", "1.0.1")
        jobs.append((main, dist, f"filler-{i:04d}", "1.0.1"))
        main_files.append(dist)
    for p, project in enumerate(fleet_projects):
        for k in range(args.group_packages):
            jobs.append((project, bench_wheel(f"fleet-{p:02d}-{k:02d}", "1.0.1"), f"fleet-{p:02d}-{k:02d}", "1.0.1"))
    for dist in main_files:
        dist.write(pypi_dir)

    log(f"uploading {len(jobs)} small distributions over HTTP")
    started = time.monotonic()
    upload_all(wh, cat, jobs)
    log(f"  {len(jobs)} uploads in {time.monotonic() - started:.1f} s")

    log(f"uploading the {args.download_mib} MiB wheel")
    cat.big_wheel = bench_wheel("big-wheel", "1.0.1", payload=args.download_mib * MiB, dest=work)
    upload(wh, cat, main, cat.big_wheel, "big-wheel", "1.0.1")
    shutil.copyfile(cat.big_wheel.path, pypi_dir / cat.big_wheel.filename)
    return cat


# ---------------------------------------------------------------------------------------------
# The large catalogue


@dataclass
class BulkLoad:
    """What `large_catalogue` recorded: the group and projects it made, the command's own counts
    summed (and the packages, the names in the listings), and how long it took."""
    group: int
    projects: list[int]
    names: int
    releases: int
    files: int
    seconds: float


def listing(project: int, names: list[tuple[str, int]], first_file: int) -> Iterator[dict]:
    """The lines of one project's listing: each (name, file count) as releases 1.0.1, 2.0.1, ...
    of a wheel and an sdist each (the last one a wheel alone when the count is odd). Digests and
    sizes are made up from the file's number, so every file differs; wheels carry core metadata."""
    number = first_file
    for name, files in names:
        stem = dist_name(name)
        for v in range((files + 1) // 2):
            version = f"{v + 1}.0.1"
            for kind in ("wheel", "sdist")[: min(2, files - 2 * v)]:
                seed = number.to_bytes(8, "little")
                line = {
                    "name": name, "version": version,
                    "file_name": f"{stem}-{version}-py3-none-any.whl" if kind == "wheel" else f"{stem}-{version}.tar.gz",
                    "sha256": hashlib.sha256(seed).hexdigest(), "size": 4096 + (number * 7919) % 500_000,
                    "md5": hashlib.md5(seed).hexdigest(),
                    "blake2b_256": hashlib.blake2b(seed, digest_size=32).hexdigest(),
                    "requires_python": ">=3.8",
                }
                if kind == "wheel":
                    line.update(core_metadata_sha256=hashlib.sha256(b"m" + seed).hexdigest(), core_metadata_size=180)
                yield line
                number += 1


def bulk_load(wh: Wheelhouse, project: int, lines: Iterator[dict]) -> tuple[dict, int, int]:
    """Streams `lines` to `wheelhouse bulk-load --project ID --json -` on the server's storage;
    returns its answer ({"packages": new releases, "files": files}) and the lines and distinct
    releases sent, so the caller can hold the one against the others."""
    argv = [str(wh.binary), "bulk-load", "--project", str(project), *wh.storage_args(), "--json", "-"]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        # Output to files, not pipes: whatever the command prints, it can never block on it
        # while this side is still writing the listing.
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=out, stderr=err, env=wh.environment())
        sent, releases, chunk = 0, set(), []
        try:
            for line in lines:
                chunk.append(json.dumps(line, separators=(",", ":")))
                releases.add((line["name"], line["version"]))
                sent += 1
                if len(chunk) == 1000:
                    proc.stdin.write(("\n".join(chunk) + "\n").encode())
                    chunk.clear()
            proc.stdin.write(("\n".join(chunk) + "\n").encode() if chunk else b"")
            proc.stdin.close()
        except BrokenPipeError:
            pass  # it stopped reading: its exit code and stderr say why
        code = proc.wait(timeout=3600)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if code != 0:
        raise BenchError(f"`{' '.join(argv)}` failed ({code}): {stderr.strip()[-2000:]}")
    try:
        answer = json.loads(stdout)
    except ValueError:
        raise BenchError(f"`wheelhouse bulk-load` printed no JSON: {stdout[-500:]!r}") from None
    return answer, sent, len(releases)


def large_catalogue(wh: Wheelhouse, add_names: int, add_files: int, per_project: int = 1000) -> BulkLoad:
    """A public group `bulk` of projects of `per_project` packages each, `add_names` packages and
    `add_files` files in all, spread as evenly as the numbers allow."""
    count = -(-add_names // per_project)
    log(f"scenario 6: creating {count} projects, then loading {add_names:,} packages and {add_files:,} files")
    group = wh.group("bulk", "public")["id"]
    projects = [wh.project(f"bulk/p{i:03d}", "public")["id"] for i in range(count)]
    base, extra = divmod(add_files, add_names)
    started = time.monotonic()
    name_index = first_file = releases = files = 0
    for p, project in enumerate(projects):
        names = []
        for i in range(min(per_project, add_names - name_index)):
            names.append((f"bulk{p:03d}-pkg-{i:05d}", base + (1 if name_index < extra else 0)))
            name_index += 1
        answer, sent, distinct = bulk_load(wh, project, listing(project, names, first_file))
        if answer.get("files") != sent or answer.get("packages") != distinct:
            raise BenchError(f"bulk-load of project {project} recorded {answer}, but {sent} files "
                             f"in {distinct} releases were sent")
        first_file += sent
        releases += answer["packages"]
        files += answer["files"]
    return BulkLoad(group=group, projects=projects, names=name_index, releases=releases, files=files,
                    seconds=time.monotonic() - started)


def rest_total(wh: Wheelhouse, cat: Catalogue, path: str) -> int:
    """X-Total of a REST list (read as the admin, so private projects count too)."""
    status, headers, body = request(wh.port, "GET", f"/api/v4/{path}?per_page=1", {"PRIVATE-TOKEN": cat.token})
    if status != 200 or "x-total" not in headers:
        raise BenchError(f"GET /api/v4/{path} answered {status} without X-Total: {body[:200]!r}")
    return int(headers["x-total"])


def check_releases(wh: Wheelhouse, cat: Catalogue, groups: list[int], expected: int) -> None:
    """The registry's releases, as the REST API counts them over every group, must be what was
    uploaded and bulk-loaded: else the report would print counts the server does not hold."""
    total = sum(rest_total(wh, cat, f"groups/{group}/packages") for group in groups)
    if total != expected:
        raise BenchError(f"the REST API counts {total:,} releases, the loaders {expected:,}")
