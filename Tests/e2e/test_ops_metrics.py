"""Issue 15, metrics: GET /-/metrics in Prometheus' text format (0.0.4) to addresses in
--monitoring-allowlist only (default 127.0.0.0/8 and ::1; anyone else gets the unknown-path 404),
with the spec's names; wheelhouse_http_requests_total counted by route template, method and status
class, moving by exactly the requests a test made; `promtool check metrics` accepts the output; and
a real Prometheus server, started here with a one-second scrape interval, answers an instant query
for wheelhouse_http_requests_total with the counts this test made.

promtool and prometheus come from Debian's `prometheus` package. Without them the Prometheus tests
skip, unless WHEELHOUSE_REQUIRE_PROMETHEUS is set (scripts/test sets it), when they fail."""
from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import time
import urllib.parse

import pytest
import requests

from conftest import poll_until
from distributions import wheel
from server import free_port
from whlib import describe, describe_response, parse_links, upload_ok

pytestmark = pytest.mark.timeout(120)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SIMPLE_ROUTE = "/api/v4/projects/:id/packages/pypi/simple/:package_name"
GROUP_SIMPLE_ROUTE = "/api/v4/groups/:id/-/packages/pypi/simple/:package_name"
FILE_ROUTE = "/api/v4/projects/:id/packages/pypi/files/:sha256/:file_identifier"
UPLOAD_ROUTE = "/api/v4/projects/:id/packages/pypi"

# Every family the spec names; each must be declared (# TYPE) from the start, so that a rate()
# or absent() alert works before the first event of its kind.
FAMILIES = {
    "wheelhouse_http_requests_total": "counter",
    "wheelhouse_http_request_duration_seconds": "histogram",
    "wheelhouse_uploads_total": "counter",
    "wheelhouse_upload_bytes_total": "counter",
    "wheelhouse_downloads_total": "counter",
    "wheelhouse_download_bytes_total": "counter",
    "wheelhouse_replayed_answers_total": "counter",
    "wheelhouse_page_cache_hits_total": "counter",
    "wheelhouse_page_cache_misses_total": "counter",
    "wheelhouse_database_connections_in_use": "gauge",
    "wheelhouse_database_connections_waiting": "gauge",
    "wheelhouse_database_errors_total": "counter",
    "wheelhouse_blob_store_errors_total": "counter",
    "wheelhouse_upstream_fetches_total": "counter",
    "wheelhouse_upstream_hits_total": "counter",
    "wheelhouse_upstream_misses_total": "counter",
    "wheelhouse_upstream_stale_total": "counter",
    "wheelhouse_build_info": "gauge",
    "process_resident_memory_bytes": "gauge",
    "process_virtual_memory_bytes": "gauge",
    "process_open_fds": "gauge",
    "process_max_fds": "gauge",
    "process_cpu_seconds_total": "counter",
    "process_start_time_seconds": "gauge",
}

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$')
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')


class Scrape:
    """One parsed /-/metrics answer: `types` (family -> type) and `samples`
    ((name, frozenset of (label, value))) -> float)."""

    def __init__(self, text: str):
        self.text = text
        self.types: dict[str, str] = {}
        self.samples: dict[tuple[str, frozenset], float] = {}
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            if line.startswith("#"):
                parts = line.split(None, 3)
                if len(parts) >= 4 and parts[1] == "TYPE":
                    self.types[parts[2]] = parts[3].strip()
                continue
            m = _SAMPLE.match(line)
            assert m, f"line {n} is not a sample: {line!r}"
            labels, rest = {}, m.group(3) or ""
            while rest.strip():
                lm = _LABEL.match(rest)
                assert lm, f"line {n}: bad labels {m.group(3)!r}"
                labels[lm.group(1)] = lm.group(2)
                rest = rest[lm.end():]
            key = (m.group(1), frozenset(labels.items()))
            assert key not in self.samples, f"line {n}: duplicate sample {line!r}"
            self.samples[key] = float(m.group(4))

    def names(self) -> set[str]:
        return {name for name, _ in self.samples}

    def series(self, name: str) -> dict[frozenset, float]:
        return {labels: v for (n, labels), v in self.samples.items() if n == name}

    def value(self, name: str, **labels) -> float:
        """The one sample of `name` with exactly these labels (0 when absent)."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def requests_by_label(self) -> dict[tuple[str, str, str], float]:
        out = {}
        for labels, v in self.series("wheelhouse_http_requests_total").items():
            d = dict(labels)
            assert set(d) == {"route", "method", "status"}, d
            out[(d["route"], d["method"], d["status"])] = v
        return out


def scrape(wh, **kw) -> Scrape:
    r = wh.http.get(f"{wh.base}/-/metrics", timeout=10, **kw)
    assert r.status_code == 200, describe_response(r)
    assert r.headers.get("Content-Type") == CONTENT_TYPE, describe_response(r)
    return Scrape(r.text)


def request_deltas(before: Scrape, after: Scrape) -> dict:
    b, a = before.requests_by_label(), after.requests_by_label()
    return {k: a.get(k, 0) - b.get(k, 0) for k in set(a) | set(b)
            if a.get(k, 0) != b.get(k, 0)}


@pytest.fixture
def shop(make_server, tmp_path):
    """A server of its own (nothing else talks to it), a user with a token, a private project
    holding one wheel, and the wheel's file URL."""
    wh = make_server(name="metrics")
    wh.user("alice")
    tok = wh.token("alice", "api")["token"]
    group = wh.group("shop", "private")
    wh.member("alice", "owner", group="shop")
    project = wh.project("shop/lib", "private")
    auth = ("__token__", tok)
    dist = wheel("wh-metered", "1.0", payload=200_000)
    upload_ok(wh, project["id"], dist, "wh-metered", "1.0", auth)
    page = wh.get(f"{wh.project_url(project['id'])}/simple/wh-metered/", auth=auth)
    assert page.status_code == 200, describe_response(page)
    [link] = parse_links(page.text)
    file_url = urllib.parse.urljoin(page.url, link.href)
    return type("Shop", (), dict(wh=wh, auth=auth, tok=tok, project=project, group=group,
                                 dist=dist, file_url=file_url))


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path:
        return path
    why = f"`{tool}` not found (Debian's prometheus package provides prometheus and promtool)"
    if os.environ.get("WHEELHOUSE_REQUIRE_PROMETHEUS"):
        pytest.fail(f"{why}; WHEELHOUSE_REQUIRE_PROMETHEUS is set", pytrace=False)
    pytest.skip(f"{why}; set WHEELHOUSE_REQUIRE_PROMETHEUS to make this a failure")


# ---------------------------------------------------------------- the answer itself

def test_metrics_names_types_and_build_info(shop):
    wh = shop.wh
    s = scrape(wh)
    missing = sorted(f for f in FAMILIES if f not in s.types)
    assert not missing, f"families not declared in /-/metrics: {missing}\n{s.text[:3000]}"
    wrong = {f: s.types[f] for f, t in FAMILIES.items() if s.types[f] != t}
    assert not wrong, f"wrong types (want {[FAMILIES[f] for f in wrong]}): {wrong}"

    version = wh.get("version", headers={"PRIVATE-TOKEN": shop.tok}).json()["version"]
    assert s.series("wheelhouse_build_info") == {frozenset({("version", version)}): 1.0}, \
        s.series("wheelhouse_build_info")
    assert s.value("process_resident_memory_bytes") > 1 << 20
    assert s.value("process_virtual_memory_bytes") >= s.value("process_resident_memory_bytes")
    assert 3 <= s.value("process_open_fds") <= s.value("process_max_fds")
    assert s.value("process_cpu_seconds_total") > 0
    started = s.value("process_start_time_seconds")
    assert time.time() - 600 < started <= time.time() + 1, started
    pools = {dict(lbl).get("pool") for lbl in s.series("wheelhouse_database_connections_in_use")}
    assert pools and pools <= {"read", "write", "shared"}, pools

    # Histogram: per route, cumulative buckets ending in +Inf == _count.
    buckets = s.series("wheelhouse_http_request_duration_seconds_bucket")
    counts = s.series("wheelhouse_http_request_duration_seconds_count")
    assert counts, "no request durations"
    for labels, count in counts.items():
        route = dict(labels)["route"]
        mine = sorted(((float(dict(lbl)["le"]), v) for lbl, v in buckets.items()
                       if dict(lbl).get("route") == route), key=lambda x: x[0])
        assert mine and math.isinf(mine[-1][0]) and mine[-1][1] == count, (route, mine, count)
        assert all(a[1] <= b[1] for a, b in zip(mine, mine[1:])), (route, mine)

    # No raw path, id or file name as a label value: routes are templates.
    for route, _, _ in s.requests_by_label():
        assert route == "unmatched" or route.startswith(("/", "web:")), route
        assert "wh-metered" not in route and str(shop.project["id"]) not in route.split("/"), route


def test_request_counts_move_by_exactly_the_requests_made(shop):
    wh, auth = shop.wh, shop.auth
    pid, gid = shop.project["id"], shop.group["id"]
    before = scrape(wh)
    for _ in range(3):  # three project pages (the second and third may be replayed: still counted)
        r = wh.get(f"{wh.project_url(pid)}/simple/wh-metered/", auth=auth)
        assert r.status_code == 200, describe_response(r)
    r = wh.get(f"{wh.group_url(gid)}/simple/wh-metered/", auth=auth)
    assert r.status_code == 200, describe_response(r)
    for _ in range(2):
        r = wh.get(shop.file_url, auth=auth)
        assert r.status_code == 200 and r.content == shop.dist.data, describe_response(r)
    r = wh.get(f"{wh.project_url(pid)}/simple/wh-nothing-here/", auth=auth)
    assert r.status_code == 404, describe_response(r)
    r = wh.get(f"{wh.project_url(pid)}/simple/wh-metered/")  # anonymous, private project
    assert r.status_code in (401, 404), describe_response(r)
    anon = r.status_code
    second = wheel("wh-metered", "1.1")
    upload_ok(wh, pid, second, "wh-metered", "1.1", auth)
    for path in ("/-/liveness", "/-/readiness", "/-/health", "/api/v4/no/such/thing", "/-/nothing"):
        # (/no/such/thing would be a web page, web:namespace, answering 404)
        wh.http.get(f"{wh.base}{path}", timeout=10)
    after = scrape(wh)

    deltas = request_deltas(before, after)
    scrapes = {k: v for k, v in deltas.items() if k[0] == "/-/metrics"}
    assert scrapes in ({}, {("/-/metrics", "GET", "2xx"): 1.0}), scrapes  # the first scrape
    deltas = {k: v for k, v in deltas.items() if k[0] != "/-/metrics"}
    want = {
        (SIMPLE_ROUTE, "GET", "2xx"): 3.0,
        (SIMPLE_ROUTE, "GET", "4xx"): 2.0,  # the unknown package and the anonymous caller
        (GROUP_SIMPLE_ROUTE, "GET", "2xx"): 1.0,
        (FILE_ROUTE, "GET", "2xx"): 2.0,
        (UPLOAD_ROUTE, "POST", "2xx"): 1.0,
        ("/-/liveness", "GET", "2xx"): 1.0,
        ("/-/readiness", "GET", "2xx"): 1.0,
        ("/-/health", "GET", "2xx"): 1.0,
        ("unmatched", "GET", "4xx"): 2.0,
    }
    assert deltas == want, (f"counts moved by {sorted(deltas.items())}\nwant {sorted(want.items())}"
                            f" (anonymous answer was {anon})")

    # Uploads and downloads with their bytes.
    def moved(name):
        return after.value(name) - before.value(name)
    got = {n: moved(n) for n in ("wheelhouse_uploads_total", "wheelhouse_upload_bytes_total",
                                 "wheelhouse_downloads_total", "wheelhouse_download_bytes_total")}
    assert got == {"wheelhouse_uploads_total": 1, "wheelhouse_upload_bytes_total": len(second.data),
                   "wheelhouse_downloads_total": 2,
                   "wheelhouse_download_bytes_total": 2 * len(shop.dist.data)}, got
    # Durations: one observation per counted request of each route.
    for route in (SIMPLE_ROUTE, FILE_ROUTE, UPLOAD_ROUTE):
        n = sum(v for k, v in want.items() if k[0] == route)
        got = (after.value("wheelhouse_http_request_duration_seconds_count", route=route)
               - before.value("wheelhouse_http_request_duration_seconds_count", route=route))
        assert got == n, (route, got, n)


def test_page_cache_and_replay_counters_move(shop):
    wh, auth, pid = shop.wh, shop.auth, shop.project["id"]
    url = f"{wh.project_url(pid)}/simple/wh-metered/"
    before = scrape(wh)
    for _ in range(5):
        r = wh.get(url, auth=auth)
        assert r.status_code == 200, describe_response(r)
    after = scrape(wh)

    def total(s, name):
        return sum(s.series(name).values())
    served = {n: total(after, n) - total(before, n) for n in
              ("wheelhouse_replayed_answers_total", "wheelhouse_page_cache_hits_total",
               "wheelhouse_page_cache_misses_total")}
    # Five identical pages: the first may be built, the other four come from a cache or a replay.
    reused = served["wheelhouse_replayed_answers_total"] + served["wheelhouse_page_cache_hits_total"]
    assert reused >= 4 and served["wheelhouse_page_cache_misses_total"] < reused, served
    for name in ("wheelhouse_page_cache_hits_total", "wheelhouse_page_cache_misses_total"):
        for labels in after.series(name):
            assert {k for k, _ in labels} == {"cache"}, (name, labels)


# ---------------------------------------------------------------- who may read it

def test_metrics_only_to_the_allowlist(make_server):
    outside = make_server("--monitoring-allowlist", "10.0.0.0/8", name="allow10")
    r = outside.http.get(f"{outside.base}/-/metrics", timeout=10)
    unknown = outside.http.get(f"{outside.base}/-/no-such-page", timeout=10)
    assert r.status_code == 404, describe_response(r)
    assert (r.content, r.headers.get("Content-Type")) == (
        unknown.content, unknown.headers.get("Content-Type")), "the 404 must be any unknown path's"
    # A forwarded-for header does not talk its way in.
    for header in ({"X-Forwarded-For": "10.1.2.3"}, {"X-Real-IP": "10.1.2.3"},
                   {"Forwarded": "for=10.1.2.3"}):
        r = outside.http.get(f"{outside.base}/-/metrics", headers=header, timeout=10)
        assert r.status_code == 404, (header, describe_response(r))
    # The other probes are not restricted.
    assert outside.http.get(f"{outside.base}/-/liveness", timeout=10).status_code == 200

    # The same list from the environment; 127.0.0.1 inside a list with several entries.
    env_out = make_server(name="allow-env", via_env=True)
    env_out.stop()
    env_out.extra_env["WHEELHOUSE_MONITORING_ALLOWLIST"] = "10.0.0.0/8,192.168.0.0/16"
    env_out.start()
    assert env_out.http.get(f"{env_out.base}/-/metrics", timeout=10).status_code == 404
    inside = make_server("--monitoring-allowlist", "10.0.0.0/8,127.0.0.1/32", name="allow127")
    scrape(inside)
    default = make_server(name="allow-default")
    scrape(default)


def test_no_metrics_flag_keeps_build_and_process_metrics_only(make_server):
    wh = make_server("--no-metrics", name="nometrics")
    for _ in range(3):
        wh.http.get(f"{wh.base}/-/liveness", timeout=10)
    s = scrape(wh)
    assert s.value("process_resident_memory_bytes") > 0
    assert len(s.series("wheelhouse_build_info")) == 1
    assert not s.series("wheelhouse_http_requests_total"), s.series("wheelhouse_http_requests_total")


# ---------------------------------------------------------------- Prometheus' own tools

def test_promtool_accepts_the_output(shop):
    promtool = require("promtool")
    wh = shop.wh
    wh.get(shop.file_url, auth=shop.auth)
    wh.http.get(f"{wh.base}/nowhere", timeout=10)
    text = wh.http.get(f"{wh.base}/-/metrics", timeout=10).text
    proc = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and not proc.stdout.strip() and not proc.stderr.strip(), \
        f"{describe(proc)}\n--- metrics ---\n{text[:3000]}"


@pytest.fixture
def prometheus_for(tmp_path):
    """prometheus_for(wh) -> base URL of a Prometheus server scraping wh's /-/metrics every
    second, started for this test (its own data dir and port) and stopped after it."""
    binary = require("prometheus")
    started = []

    def start(wh) -> str:
        d = tmp_path / "prometheus"
        d.mkdir()
        (d / "prometheus.yml").write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: wheelhouse\n    metrics_path: /-/metrics\n"
            f"    static_configs:\n      - targets: ['127.0.0.1:{wh.port}']\n")
        port = free_port()
        log = open(d / "prometheus.log", "wb")
        proc = subprocess.Popen(
            [binary, f"--config.file={d / 'prometheus.yml'}", f"--storage.tsdb.path={d / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=d)
        started.append((proc, log, d))
        base = f"http://127.0.0.1:{port}"

        def ready():
            assert proc.poll() is None, (d / "prometheus.log").read_text()[-3000:]
            try:
                return requests.get(f"{base}/-/ready", timeout=2).status_code == 200
            except requests.RequestException:
                return False
        ok, took = poll_until(ready, 60, interval=0.1)
        assert ok, f"prometheus not ready after {took:.1f}s:\n{(d / 'prometheus.log').read_text()[-3000:]}"
        return base

    yield start
    for proc, log, _ in started:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_a_real_prometheus_scrapes_the_counts_made(shop, prometheus_for):
    wh, auth, pid = shop.wh, shop.auth, shop.project["id"]
    prom = prometheus_for(wh)

    def query(q: str) -> list:
        r = requests.get(f"{prom}/api/v1/query", params={"query": q}, timeout=10)
        assert r.status_code == 200 and r.json()["status"] == "success", r.text
        return r.json()["data"]["result"]

    def target_up():
        return [x["value"][1] for x in query('up{job="wheelhouse"}')] == ["1"]
    ok, took = poll_until(target_up, 30, interval=0.2)
    assert ok, f"Prometheus never scraped Wheelhouse: {query('up')}"

    made = {SIMPLE_ROUTE: 7, FILE_ROUTE: 4}
    before = scrape(wh).requests_by_label()
    for _ in range(made[SIMPLE_ROUTE]):
        assert wh.get(f"{wh.project_url(pid)}/simple/wh-metered/", auth=auth).status_code == 200
    for _ in range(made[FILE_ROUTE]):
        assert wh.get(shop.file_url, auth=auth).status_code == 200
    want = {route: before.get((route, "GET", "2xx"), 0) + n for route, n in made.items()}

    q = ('sum by (route) (wheelhouse_http_requests_total{job="wheelhouse",method="GET",'
         f'status="2xx",route=~"{SIMPLE_ROUTE}|{FILE_ROUTE}"}})')
    seen = {}

    def counted():
        seen.clear()
        seen.update({x["metric"]["route"]: float(x["value"][1]) for x in query(q)})
        return seen == want
    ok, took = poll_until(counted, 30, interval=0.25)
    assert ok, f"Prometheus answers {seen}, want {want}"
    print(f"[metrics] Prometheus saw the counts {took:.1f}s after the requests: {seen}")
    # The scrape is counted under its own route, never as a package page.
    scrapes = query('wheelhouse_http_requests_total{route="/-/metrics"}')
    assert scrapes and float(scrapes[0]["value"][1]) >= 1, scrapes
