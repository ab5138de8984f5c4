"""The benchmark behind `benchmarks/run` (compare.py is its entry point), one module per job:

    common      constants, the log, the benchmark's error
    processes   every helper process in a session of its own, stopped on exit; waiting for one
    client      HTTP on the standard library: requests, streamed twine-shaped uploads, page links
    wheelhouse  the server under test: Tests/harness/server.py's Server, tracked for clean-up
    peers       what it is compared with and loaded by: nginx, pypiserver, wrk (and wrk's figures)
    loaders     putting the catalogue in place: uploads over HTTP, `wheelhouse bulk-load`, counts
    scenarios   what is measured and how: the six scenarios, in rounds, each server's median kept
    reporting   the table, its ratios and targets, the header, the JSON of raw figures

and scenario 7, run alone (`benchmarks/run upstream`), caching an upstream index:

    upstream         the scenario, its table, its entry point
    static_upstream  the closure downloaded once, nginx serving it with PEP 503/691 pages
    proxies          devpi-server and proxpi pointed at that upstream
    installs         timed uv and pip installs into fresh venvs, without client caches

Wheels, sdists and the server process come from Tests/harness, shared with the end-to-end suite;
it is put on sys.path here, before any module of this package imports from it.
"""
import sys
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[2] / "Tests" / "harness"
if str(HARNESS) not in sys.path:
    sys.path.insert(0, str(HARNESS))
