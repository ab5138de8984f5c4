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
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from distributions import sdist, wheel
from static_index import StaticIndex
from whlib import REPO, Clients, Wheelhouse, describe, describe_response

README = REPO / "README.md"
SECTION = "## A first session"
FIRST_LINE = 'wh=".build/release/wheelhouse"'
PUBLISH_PROSE = "Publish and install"
README_PORT = 8080  # what "The two commands" and the publish commands name
FORWARDING = "## One index URL for private and public packages"


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


def require_free(port: int):
    """Fails (never skips) when something listens on the port the README names."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
        try:
            s.bind(("127.0.0.1", port))
            return
        except OSError as e:
            error = e
    pytest.fail(f"127.0.0.1:{port} is taken ({error}). The README's publish and install commands "
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
