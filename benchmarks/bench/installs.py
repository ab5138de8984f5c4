"""Timed installs of scenario 7: `uv pip install` or `pip install` of the closure into a fresh venv
through one index URL, with the client's own cache off (uv --no-cache, pip --no-cache-dir) and no
configuration of the machine's (no pip or uv config files, no PIP_* or UV_* variables: this
machine's find-links would otherwise feed pip wheels from beside the index)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .common import BenchError
from .static_upstream import normalize

UV, PIP = "uv", "pip"


def client_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "VIRTUAL_ENV"))}
    env.update(PIP_CONFIG_FILE=os.devnull, UV_NO_CONFIG="1", UV_PYTHON_DOWNLOADS="never")
    return env


def fresh_venv(path: Path) -> Path:
    """A venv without pip (pip runs from the benchmark's venv with --python): its python."""
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, timeout=120)
    return path / "bin" / "python"


def installed(venv: Path) -> set[str]:
    """The normalised names of the distributions in a venv's site-packages."""
    names = set()
    for info in venv.glob("lib/python*/site-packages/*.dist-info"):
        names.add(normalize(info.name.removesuffix(".dist-info").rsplit("-", 1)[0]))
    return names


def install(client: str, index_url: str, requirements: list[str], venv: Path, expect: set[str]) -> float:
    """Seconds the install took; its venv must then hold exactly the distributions `expect` names."""
    python = fresh_venv(venv)
    if client == UV:
        argv = [str(Path(sys.executable).parent / "uv"), "pip", "install", "--no-cache", "--python", str(python),
                "--index-url", index_url, *requirements]
    else:
        argv = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-cache-dir",
                "--disable-pip-version-check", "--no-input", "--index-url", index_url, *requirements]
    started = time.monotonic()
    done = subprocess.run(argv, env=client_env(), capture_output=True, text=True, timeout=900)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise BenchError(f"{client} install through {index_url} failed ({done.returncode}):\n"
                         f"{done.stdout[-3000:]}{done.stderr[-3000:]}")
    got = installed(venv)
    shutil.rmtree(venv, ignore_errors=True)
    if got != expect:
        raise BenchError(f"{client} through {index_url} installed {sorted(got ^ expect)} other than expected")
    return seconds
