"""The README's "A first session" and its "Publish and install" commands, read from README.md
itself and run as written, so that what a newcomer types and what the README says cannot drift.

Each block runs in bash (`set -euo pipefail`) in a fresh directory where
`.build/release/wheelhouse` is a link to the binary under test, with a newcomer's environment (no
WHEELHOUSE_*, PIP_*, UV_* or TWINE_* settings), so every `$wh` command takes its defaults, data in
./wheelhouse-data, as the server does. What they made is then checked through the REST API.

In PostgreSQL mode (WHEELHOUSE_E2E_DATABASE=postgres) these tests still run, and on SQLite: the
README's commands name no database, so they use the default one in ./wheelhouse-data, and every
server started here is put on that data dir too rather than on the suite's database. Nothing
here depends on which database the rest of the suite uses, so nothing is marked sqlite_only.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import urllib.parse
from pathlib import Path
from types import SimpleNamespace

import pytest

from distributions import sdist, wheel
from s3_server import Forwarder, S3NotFound, S3Server
from static_index import StaticIndex
from whlib import REPO, Clients, Wheelhouse, describe, describe_response, index_url, sha256

README = REPO / "README.md"
SECTION = "## A first session"
FIRST_LINE = 'wh=".build/release/wheelhouse"'
PUBLISH_PROSE = "Publish and install"
README_PORT = 8080  # what "The two commands" and the publish commands name
FORWARDING = "## One index URL for private and public packages"
OBJECT_STORAGE = "## Blobs in an S3-compatible bucket"


# ---------------------------------------------------------------- the README's blocks

def section_lines(heading: str) -> list[str]:
    lines = README.read_text().splitlines()
    if heading not in lines:
        pytest.fail(f"{README} has no line {heading!r}: this test runs the commands under it",
                    pytrace=False)
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]


def sh_blocks(lines: list[str]) -> list[tuple[str, str]]:
    """The section's ```sh blocks, each as (the prose paragraph just before it, its text)."""
    blocks, prose, i = [], [], 0
    while i < len(lines):
        line = lines[i].strip()
        if line == "```sh":
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "```"), None)
            if end is None:
                pytest.fail(f"{README}: a ```sh block under {SECTION!r} is never closed",
                            pytrace=False)
            blocks.append((" ".join(prose), "\n".join(lines[i + 1:end]) + "\n"))
            prose, i = [], end + 1
            continue
        if line:  # a line after a blank one starts the next paragraph
            prose = prose + [line] if i > 0 and lines[i - 1].strip() else [line]
        i += 1
    return blocks


def readme_block(which: str, matches, section: str = SECTION) -> str:
    found = [text for prose, text in sh_blocks(section_lines(section)) if matches(prose, text)]
    if len(found) != 1:
        pytest.fail(f"{README}: expected one ```sh block for {which} under {section!r}, "
                    f"found {len(found)}", pytrace=False)
    return found[0]


def first_session_block() -> str:
    return readme_block(f"the first session (starting with {FIRST_LINE})",
                        lambda prose, text: text.splitlines()[0] == FIRST_LINE)


def publish_block() -> str:
    return readme_block(f"publishing (after the paragraph starting {PUBLISH_PROSE!r})",
                        lambda prose, text: prose.startswith(PUBLISH_PROSE))


def run_as_written(block: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    """The block in bash, strict, naming the command that failed if one does."""
    script = ("set -euo pipefail\n"
              "trap 'echo \"README command failed with exit $?: $BASH_COMMAND\" >&2' ERR\n" + block)
    return subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)


def newcomer_env(scratch: Path, **extra) -> dict:
    """Clients' clean environment (no settings of ours or of the clients, a scratch HOME) with
    this venv's pip, twine and uv first on PATH, as they are for someone who installed them."""
    env = Clients(scratch).env
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def printed_secrets(stdout: str) -> list[str]:
    """The secrets the CLI printed: each is shown once, alone on its line (every other line is
    a sentence)."""
    return [ln.strip() for ln in stdout.splitlines() if re.fullmatch(r"[A-Za-z0-9_-]{20,}", ln.strip())]


def personal_secret(wh: Wheelhouse, proc: subprocess.CompletedProcess) -> str:
    """Of the secrets the first session printed, the one `token create` made: $TOKEN."""
    personal = [t for t in printed_secrets(proc.stdout)
                if wh.get("user", headers={"PRIVATE-TOKEN": t}).status_code == 200]
    assert len(personal) == 1, describe(proc)
    return personal[0]


# ---------------------------------------------------------------- the first session

@pytest.fixture(scope="module")
def first_session(wheelhouse_bin, tmp_path_factory):
    """The first session run as written, with a server running on ./wheelhouse-data (the README
    says "with the server running"); SQLite whatever the suite's mode, as the README has it."""
    root = tmp_path_factory.mktemp("readme")
    workdir, scratch = root / "newcomer", root / "scratch"
    (workdir / ".build" / "release").mkdir(parents=True)
    (workdir / ".build" / "release" / "wheelhouse").symlink_to(wheelhouse_bin)
    scratch.mkdir()
    server = Wheelhouse(wheelhouse_bin, workdir / "wheelhouse-data", scratch / "server.log",
                        database_url=None).start()
    proc = run_as_written(first_session_block(), workdir, newcomer_env(scratch))
    session = SimpleNamespace(workdir=workdir, scratch=scratch, server=server, proc=proc)
    yield session
    session.server.stop()


def test_first_session_runs_as_written(first_session):
    s = first_session
    assert s.proc.returncode == 0, describe(s.proc)
    assert sorted(p.name for p in s.workdir.iterdir()) == [".build", "wheelhouse-data"], \
        "the CLI wrote outside ./wheelhouse-data"


def test_first_session_made_what_it_says(first_session):
    s, wh = first_session, first_session.server
    assert s.proc.returncode == 0, describe(s.proc)
    wh.user("readme-root", admin=True)
    root = {"PRIVATE-TOKEN": wh.token("readme-root", "api")["token"]}

    def get(path, headers=root):
        r = wh.get(path, headers=headers)
        assert r.status_code == 200, describe_response(r)
        return r.json()

    [alice] = get("users?username=alice")
    assert alice["is_admin"] is False, alice
    [laptop] = get(f"personal_access_tokens?user_id={alice['id']}")
    assert (laptop["name"], laptop["scopes"], laptop["active"]) == ("laptop", ["api"], True), laptop

    acme, tools = get("groups/acme"), get("groups/acme%2Ftools")
    assert (acme["visibility"], acme["parent_id"]) == ("internal", None), acme
    assert (tools["visibility"], tools["parent_id"]) == ("internal", acme["id"]), tools
    # The publish commands name the project by id 1 as well as by path.
    lib = get("projects/1")
    assert (lib["path_with_namespace"], lib["visibility"]) == ("acme/tools/lib", "private"), lib
    member = get(f"groups/{acme['id']}/members/{alice['id']}")
    assert member["access_level"] == 30, member  # developer
    [ci] = get("projects/1/deploy_tokens")
    assert (ci["name"], ci["scopes"]) == ("ci", ["read_package_registry"]), ci

    # The secrets printed once work: alice's for the API, the deploy token's for the index.
    secrets = printed_secrets(s.proc.stdout)
    assert len(secrets) == 2, describe(s.proc)
    personal = personal_secret(wh, s.proc)
    assert get("user", {"PRIVATE-TOKEN": personal})["username"] == "alice"
    [deploy] = set(secrets) - {personal}
    r = wh.get(f"{wh.project_url(1)}/simple", headers={"Deploy-Token": deploy})
    assert r.status_code == 200, describe_response(r)


# ---------------------------------------------------------------- publish and install

class ReadmeServer(Wheelhouse):
    """`wheelhouse serve` with no flags, as "The two commands" starts it: 127.0.0.1:8080, data in
    ./wheelhouse-data of the directory it is started from."""

    def serve_command(self) -> tuple[list[str], dict]:
        return [".build/release/wheelhouse", "serve"], self.environment()


def require_free(port: int, named_by: str = "publish and install commands"):
    """Fails (never skips) when something listens on the port the README names."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
        try:
            s.bind(("127.0.0.1", port))
            return
        except OSError as e:
            error = e
    pytest.fail(f"127.0.0.1:{port} is taken ({error}). The README's {named_by} "
                f"name that port, so this test needs it free: stop what listens there "
                f"(`ss -ltnp 'sport = :{port}'`) and run again.", pytrace=False)


def test_publish_and_install_run_as_written(first_session, wheelhouse_bin, monkeypatch):
    s = first_session
    assert s.proc.returncode == 0, describe(s.proc)
    block = publish_block()
    assert s.server.stop() == 0, s.server.log_tail()
    require_free(README_PORT)

    # What the block expects to find: dist/ with a wheel and an sdist of `lib`.
    wheel("lib", "1.0.0", dest=s.workdir / "dist")
    sdist("lib", "1.0.0", dest=s.workdir / "dist")
    # The installs go where the newcomer's environment would be, never into this test's venv:
    # pip into PIP_TARGET, uv into the virtual environment VIRTUAL_ENV names.
    pip_target, venv = s.scratch / "pip-target", s.scratch / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)

    monkeypatch.chdir(s.workdir)  # serve's defaults are relative to where it starts
    server = ReadmeServer(wheelhouse_bin, s.workdir / "wheelhouse-data", s.scratch / "readme-server.log",
                          port=README_PORT, database_url=None)
    server.start()
    try:
        token = personal_secret(server, s.proc)
        env = newcomer_env(s.scratch, TOKEN=token, PIP_TARGET=str(pip_target), VIRTUAL_ENV=str(venv))
        proc = run_as_written(block, s.workdir, env)
        assert proc.returncode == 0, describe(proc)

        auth = {"PRIVATE-TOKEN": token}
        r = server.get("projects/1/packages", headers=auth)
        assert r.status_code == 200, describe_response(r)
        [package] = r.json()
        assert (package["name"], package["version"]) == ("lib", "1.0.0"), package
        r = server.get(f"projects/1/packages/{package['id']}/package_files", headers=auth)
        assert sorted(f["file_name"] for f in r.json()) == [
            "lib-1.0.0-py3-none-any.whl", "lib-1.0.0.tar.gz"], describe_response(r)
    finally:
        assert server.stop() == 0, server.log_tail()

    assert Clients(s.scratch).imported(pip_target, "lib") == "1.0.0"  # pip, from project 1
    uv_installed = subprocess.run([str(venv / "bin" / "python"), "-I", "-c",
                                   "import lib; print(lib.VALUE)"],
                                  capture_output=True, text=True, timeout=60)
    assert uv_installed.stdout.strip() == "1.0.0", describe(uv_installed)  # uv, from group acme


# ---------------------------------------------------------------- one index URL (forwarding)

def test_forwarding_runs_as_written(first_session, wheelhouse_bin, monkeypatch):
    """The forwarding section's two blocks, as written: the settings commands (with `$wh` as the
    first session set it, and UPSTREAM a local upstream index holding a `requests` that needs
    `idna`), then the one-URL install of the private `lib` and the public `requests`."""
    s = first_session
    assert s.proc.returncode == 0, describe(s.proc)
    blocks = [text for _, text in sh_blocks(section_lines(FORWARDING))]
    assert len(blocks) == 2, f"{README}: expected the settings block and the install block under {FORWARDING!r}"
    settings_block, install_block = blocks
    assert "pip install" in install_block, install_block

    with StaticIndex() as upstream:
        upstream.add_dist("requests", wheel("requests", "2.99.0", extra_meta="Requires-Dist: idna>=3\n"))
        upstream.add_dist("idna", wheel("idna", "3.99"))
        env = newcomer_env(s.scratch, UPSTREAM=upstream.url)
        proc = run_as_written('wh=".build/release/wheelhouse"\n' + settings_block, s.workdir, env)
        assert proc.returncode == 0, describe(proc)
        assert f"pypi_upstream_url: {upstream.url}" in proc.stdout, describe(proc)
        assert "pypi_package_requests_forwarding: true" in proc.stdout, describe(proc)

        require_free(README_PORT)
        monkeypatch.chdir(s.workdir)
        server = ReadmeServer(wheelhouse_bin, s.workdir / "wheelhouse-data", s.scratch / "forwarding-server.log",
                              port=README_PORT, database_url=None)
        server.start()
        pip_target = s.scratch / "forwarding-target"
        try:
            token = personal_secret(server, s.proc)
            auth = {"PRIVATE-TOKEN": token}
            # `lib` is the package the README published above; publish it here if that test did not run.
            if not server.get("projects/1/packages", headers=auth).json():
                lib = wheel("lib", "1.0.0")
                r = server.upload(1, lib.data, lib.filename, name="lib", version="1.0.0", auth=("__token__", token))
                assert r.status_code == 201, describe_response(r)
            env = newcomer_env(s.scratch, TOKEN=token, PIP_TARGET=str(pip_target))
            proc = run_as_written(install_block, s.workdir, env)
            assert proc.returncode == 0, describe(proc)
        finally:
            assert server.stop() == 0, server.log_tail()
        fetched = upstream.paths()
        assert any(p.startswith("/simple/requests") for p in fetched), fetched
        assert any(p.startswith("/simple/idna") for p in fetched), fetched
        assert not any(p.startswith("/simple/lib") for p in fetched), "a local name was forwarded"
    clients = Clients(s.scratch)
    assert clients.imported(pip_target, "lib") == "1.0.0"
    assert clients.imported(pip_target, "requests") == "2.99.0"
    assert clients.imported(pip_target, "idna") == "3.99"


# ---------------------------------------------------------------- blobs in a bucket

COPY_SUMMARY = re.compile(r"copied (\d+) blobs \((\d+) bytes\), skipped 0 already present, 0 failed")


def options(argv: list[str]) -> dict[str, str]:
    """`--name value` pairs of a command line (every option of the README's lines takes one)."""
    flags = [i for i, a in enumerate(argv) if a.startswith("--")]
    found = {argv[i]: argv[i + 1] for i in flags if i + 1 < len(argv)}
    if len(found) != len(flags) or any(v.startswith("--") for v in found.values()):
        pytest.fail(f"{README}: expected `--option value` pairs in {shlex.join(argv)!r}", pytrace=False)
    return found


def object_storage_block() -> SimpleNamespace:
    """The section's one ```sh block, taken apart: `export` lines first, a `$wh blobs copy` from
    the first session's file store into a bucket, and last the `$wh serve` on that bucket. The
    bucket, endpoint and directories the test sets up are read from the block, so what it runs is
    what the README says; a block of another shape fails here."""
    blocks = [text for _, text in sh_blocks(section_lines(OBJECT_STORAGE))]
    if len(blocks) != 1:
        pytest.fail(f"{README}: expected one ```sh block under {OBJECT_STORAGE!r}, found {len(blocks)}",
                    pytrace=False)
    lines = [ln for ln in blocks[0].splitlines() if ln.strip()]
    shape = ("export lines, then one `$wh blobs copy` line, then the `$wh serve` line")
    argvs = [shlex.split(ln) for ln in lines]
    exports = [a for a in argvs if a[0] == "export"]
    copies = [a for a in argvs if a[:3] == ["$wh", "blobs", "copy"]]
    if (len(argvs) < 3 or argvs[-1][:2] != ["$wh", "serve"] or len(copies) != 1
            or argvs[:-2] != exports or argvs[-2] != copies[0]
            or any("=" not in v for a in exports for v in a[1:])):
        pytest.fail(f"{README}: the block under {OBJECT_STORAGE!r} is no longer {shape}:\n{blocks[0]}",
                    pytrace=False)
    exported = dict(v.split("=", 1) for a in exports for v in a[1:])
    if not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= exported.keys():
        pytest.fail(f"{README}: the block under {OBJECT_STORAGE!r} exports no credentials: {exported}",
                    pytrace=False)
    copy, serve = options(copies[0][3:]), options(argvs[-1][2:])
    if not copy.get("--from", "").startswith("file:") or not copy.get("--to", "").startswith("s3://"):
        pytest.fail(f"{README}: the copy under {OBJECT_STORAGE!r} is no longer from file: to s3://: "
                    f"{lines[-2]}", pytrace=False)
    if (serve.get("--blob-store"), serve.get("--s3-endpoint")) != (copy["--to"], copy.get("--s3-endpoint")):
        pytest.fail(f"{README}: the serve under {OBJECT_STORAGE!r} does not name the bucket and "
                    f"endpoint the copy filled:\n{blocks[0]}", pytrace=False)
    endpoint = urllib.parse.urlsplit(copy.get("--s3-endpoint", ""))
    if (endpoint.scheme, endpoint.hostname) != ("http", "127.0.0.1") or not endpoint.port:
        pytest.fail(f"{README}: the endpoint under {OBJECT_STORAGE!r} is not http://127.0.0.1:PORT, "
                    f"where this test can start a store: {copy.get('--s3-endpoint')!r}", pytrace=False)
    store = urllib.parse.urlsplit(copy["--to"])
    prefix = store.path.strip("/")
    return SimpleNamespace(text=blocks[0], head="\n".join(lines[:-1]) + "\n", serve_argv=argvs[-1],
                           exported=exported, source=Path(copy["--from"][len("file:"):]),
                           bucket=store.netloc, keys=f"{prefix}/sha256/" if prefix else "sha256/",
                           port=endpoint.port)


class ReadmeS3(S3Server):
    """Tests/harness's S3 server (moto) where the README's endpoint names it: its forwarder
    listens on that port instead of a free one. Signatures are not checked: the README's keys
    are made up, so moto (which would check them against IAM keys it made) must take any."""

    def __init__(self, port: int, bucket: str):
        super().__init__(bucket=bucket, check_signatures=False, forwarder=False)
        self.readme_port = port

    def start(self, timeout: float = 30.0) -> "ReadmeS3":
        super().start(timeout)  # moto on a free port, with the bucket
        try:
            self.forwarder = Forwarder(self.moto_port, port=self.readme_port).up()
        except OSError:
            self.stop()
            raise
        return self


class ReadmeCommandServer(ReadmeServer):
    """The README's own serve line (`$wh` as the first session sets it), with the variables the
    block exported, and no AWS_* setting of this process's: what the newcomer's shell runs."""

    def __init__(self, argv: list[str], exported: dict, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.argv, self.exported = argv, exported

    def serve_command(self) -> tuple[list[str], dict]:
        env = {k: v for k, v in self.environment().items() if not k.startswith("AWS_")}
        env.update(self.exported)
        return list(self.argv), env


@pytest.mark.file_store_only("the README copies ./wheelhouse-data/blobs, where the first session's "
                             "files are only when the suite keeps blobs in directories")
def test_object_storage_runs_as_written(first_session, wheelhouse_bin, monkeypatch):
    """The object storage block, as written: the first session's blobs copied into a bucket of a
    store on the README's endpoint (moto, on that port), then the README's serve line on the
    bucket, and pip installing `lib` through it. The local blob directory is moved aside while
    that server runs, so the installed bytes can only have come from the bucket."""
    s = first_session
    assert s.proc.returncode == 0, describe(s.proc)
    block = object_storage_block()
    wh_path = shlex.split(FIRST_LINE)[0].split("=", 1)[1]
    serve_argv = [wh_path if a == "$wh" else a for a in block.serve_argv]
    assert s.server.stop() == 0, s.server.log_tail()  # a no-op when an earlier test stopped it
    require_free(README_PORT)
    monkeypatch.chdir(s.workdir)  # serve's defaults are relative to where it starts

    # `lib` is the package the README published above; publish it here if that test did not run.
    server = ReadmeServer(wheelhouse_bin, s.workdir / "wheelhouse-data", s.scratch / "object-storage-publish.log",
                          port=README_PORT, database_url=None)
    server.start()
    try:
        token = personal_secret(server, s.proc)
        auth = {"PRIVATE-TOKEN": token}
        if not server.get("projects/1/packages", headers=auth).json():
            lib = wheel("lib", "1.0.0")
            r = server.upload(1, lib.data, lib.filename, name="lib", version="1.0.0", auth=("__token__", token))
            assert r.status_code == 201, describe_response(r)
        r = server.get("projects/1/packages", headers=auth)
        assert r.status_code == 200, describe_response(r)
        [package] = [p for p in r.json() if p["name"] == "lib"]
        r = server.get(f"projects/1/packages/{package['id']}/package_files", headers=auth)
        assert r.status_code == 200, describe_response(r)
        lib_files = {f["file_name"]: f["file_sha256"] for f in r.json()}
        assert "lib-1.0.0-py3-none-any.whl" in lib_files, lib_files
    finally:
        assert server.stop() == 0, server.log_tail()  # the copy runs with no server, as written

    require_free(block.port, named_by="object storage commands")
    blobs = s.workdir / block.source
    assert blobs.is_dir(), f"{blobs} (the copy's --from) does not exist"
    try:
        s3 = ReadmeS3(block.port, block.bucket).start()
    except S3NotFound as e:
        pytest.fail(f"this test needs moto and boto3: {e}", pytrace=False)
    try:
        env = {k: v for k, v in newcomer_env(s.scratch).items() if not k.startswith("AWS_")}
        proc = run_as_written(FIRST_LINE + "\n" + block.head, s.workdir, env)
        assert proc.returncode == 0, describe(proc)
        summary = [COPY_SUMMARY.fullmatch(ln.strip()) for ln in proc.stdout.splitlines() if ln.strip()]
        assert summary and summary[-1], describe(proc)
        copied, nbytes = int(summary[-1].group(1)), int(summary[-1].group(2))
        assert copied >= 1, describe(proc)
        secret = block.exported["AWS_SECRET_ACCESS_KEY"]
        assert secret not in proc.stdout + proc.stderr, "the copy printed the secret key"

        # The bucket was empty: what the copy says it copied is exactly what is there, each
        # object named by the sha256 of its bytes, `lib`'s files among them.
        objects = s3.objects(block.keys)
        assert (len(objects), sum(objects.values())) == (copied, nbytes), (objects, proc.stdout)
        for key in objects:
            assert sha256(s3.get_bytes(key)) == key.rsplit("/", 1)[-1], key
        for name, digest in lib_files.items():
            assert f"{block.keys}{digest}" in objects, (name, digest, sorted(objects))

        moved = blobs.with_name(blobs.name + ".moved")
        blobs.rename(moved)
        try:
            require_free(README_PORT)
            server = ReadmeCommandServer(serve_argv, block.exported, wheelhouse_bin,
                                         s.workdir / "wheelhouse-data",
                                         s.scratch / "object-storage-server.log",
                                         port=README_PORT, database_url=None)
            server.start()
            target = s.scratch / "object-storage-target"
            try:
                clients = Clients(s.scratch)
                proc = clients.pip_install(index_url(server.project_url(1), token),
                                           "lib", target=target)
                assert proc.returncode == 0, describe(proc)
            finally:
                assert server.stop() == 0, server.log_tail()
            assert secret not in s.scratch.joinpath("object-storage-server.log").read_text(), \
                "the server logged the secret key"
            assert clients.imported(target, "lib") == "1.0.0"  # the wheel's bytes, from the bucket
            if blobs.exists():  # the server on the bucket may make the directory, but no blob in it
                written = [p for p in blobs.rglob("*") if p.is_file()]
                assert not written, f"the server on the bucket wrote to {blobs}: {written}"
        finally:
            if blobs.exists() and not any(p.is_file() for p in blobs.rglob("*")):
                shutil.rmtree(blobs)
            moved.rename(blobs)  # fails, keeping both, if the server wrote blobs there
    finally:
        s3.stop()


# ---------------------------------------------------------------- operations

OPERATIONS = "## Operations"


@pytest.mark.file_store_only("the README's fsck and backup read ./wheelhouse-data/blobs, where the first "
                             "session's files are only when the suite keeps blobs in directories")
def test_operations_run_as_written(first_session, wheelhouse_bin, monkeypatch):
    """The Operations section's commands, as written, against the server "The two commands" start
    (127.0.0.1:8080 on ./wheelhouse-data): the readiness probe, the metrics grep, audit, fsck, a backup of
    the running registry and its restore. Each must exit 0 (bash runs them strict, `pipefail`
    included, so a grep that finds nothing fails), and what they made is checked: the probe's
    JSON, the build info line, a backup with its manifest, and a restored data dir holding the
    same users and files, clean by fsck."""
    s = first_session
    assert s.proc.returncode == 0, describe(s.proc)
    blocks = [text for _, text in sh_blocks(section_lines(OPERATIONS))]
    assert len(blocks) == 1, f"{README}: expected one ```sh block under {OPERATIONS!r}"
    backup, restored = s.workdir / "wheelhouse-backup", s.workdir / "wheelhouse-restored"
    for made in (backup, restored):
        assert made.name in blocks[0], f"{README}: the Operations block no longer names {made.name}"
    require_free(README_PORT, named_by="Operations commands")
    monkeypatch.chdir(s.workdir)
    server = ReadmeServer(wheelhouse_bin, s.workdir / "wheelhouse-data", s.scratch / "operations-server.log",
                          port=README_PORT, database_url=None)
    server.start()
    try:
        token = personal_secret(server, s.proc)
        auth = {"PRIVATE-TOKEN": token}
        if not server.get("projects/1/packages", headers=auth).json():  # something for fsck and backup to cover
            lib = wheel("lib", "1.0.0")
            r = server.upload(1, lib.data, lib.filename, name="lib", version="1.0.0", auth=("__token__", token))
            assert r.status_code == 201, describe_response(r)
        package = server.get("projects/1/packages", headers=auth).json()[0]["id"]
        files = sorted(f["file_sha256"] for f in server.get(f"projects/1/packages/{package}/package_files", headers=auth).json())
        proc = run_as_written(blocks[0], s.workdir, newcomer_env(s.scratch))
    finally:
        assert server.stop() == 0, server.log_tail()
    try:
        assert proc.returncode == 0, describe(proc)
        assert '"status":"ok"' in proc.stdout and '"blob_store":"ok"' in proc.stdout, describe(proc)
        assert re.search(r'wheelhouse_build_info\{version="[^"]+"\} 1(\.0)?$', proc.stdout, re.M), describe(proc)
        assert re.search(r"checked \d+ files, \d+ metadata blobs: 0 problems", proc.stdout), describe(proc)
        # The first session's changes are audit events: `audit --limit 5` lists the newest five.
        assert re.search(r"^ID +TIME +AUTHOR", proc.stdout, re.M), describe(proc)
        events = re.findall(r"^\d+ +\d{4}-\d\d-\d\dT\S+ +.* [a-z]+(?:_[a-z]+)+ ", proc.stdout, re.M)
        assert len(events) == 5, describe(proc)
        assert (backup / "manifest.json").is_file(), sorted(p.name for p in backup.iterdir())

        # The restored registry is the same registry: start it and read what the first one had.
        copy = Wheelhouse(wheelhouse_bin, restored, s.scratch / "restored-server.log", database_url=None).start()
        try:
            r = copy.get("user", headers=auth)
            assert r.status_code == 200 and r.json()["username"] == "alice", describe_response(r)
            listed = copy.get(f"projects/1/packages/{package}/package_files", headers=auth).json()
            assert sorted(f["file_sha256"] for f in listed) == files, listed
        finally:
            assert copy.stop() == 0, copy.log_tail()
    finally:
        shutil.rmtree(backup, ignore_errors=True)
        shutil.rmtree(restored, ignore_errors=True)
