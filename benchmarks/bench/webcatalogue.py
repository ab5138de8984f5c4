"""What `benchmarks/run pages` measures the web interface on, put in place over HTTP as twine
would (real wheels and sdists from Tests/harness/distributions.py, the form's summary and
description beside the files' own core metadata), and the signed-in visitor's session cookie.

- `web/app` (public): `wide-wheels`, one release of 500 wheels (8 Python tags x 66 platform
  tags: the files table at its longest), and `long-history`, 100 releases of an sdist and 4
  wheels (the versions list at its longest; 3 of them yanked with a reason). Every file carries
  the same ~20 KiB Markdown README (headings, a table, code, lists, links, badges, raw HTML).
- Search: 2,000 packages of one release each, `<topic>-<role>` for 100 topics x 20 roles, dealt
  round-robin over `catalog/core`, `catalog/web`, `tools/cli` (public) and `catalog/internal`
  (private: the visitor is a developer there, anonymous visitors do not see it). Each summary
  names its role, its topic and one of 10 domain words, so a topic matches 20 names and a
  domain word about 200 summaries; `expected_matches` counts what a search must find, by the
  spec's rule, for the check that the page measured is the page meant.

The visitor (`visitor`, not an administrator) is a maintainer of `web/app`, so its package pages
carry the maintainer's actions, and signs in through the sign-in form once (`sign_in`).
"""
from __future__ import annotations

import base64
import http.client
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlencode

from distributions import Dist, dist_name, sdist, wheel

from .client import multipart_upload, request, upload_fields
from .common import HOST, BenchError, log
from .wheelhouse import Wheelhouse

PAGE_PROJECT = "web/app"
WIDE, DEEP = "wide-wheels", "long-history"
WIDE_SUMMARY = "Compiled kernels for numeric work, with a wheel for every platform"
DEEP_SUMMARY = "An HTTP toolkit with a long history of releases"
VISITOR, VISITOR_PASSWORD = "visitor", "bench-visitor-password"
SESSION_COOKIE, CSRF_COOKIE = "_wheelhouse_session", "_wheelhouse_csrf"

SEARCH_PROJECTS = [("catalog/core", True), ("catalog/web", True), ("tools/cli", True), ("catalog/internal", False)]
TOPICS = (
    "async http json yaml toml xml csv parquet arrow redis kafka rabbit grpc oauth ldap smtp imap "
    "docker helm terraform ansible nginx celery flask django fastapi pydantic numpy pandas scipy "
    "torch jax sklearn spacy nltk opencv pillow matplotlib plotly bokeh dash streamlit jupyter "
    "pytest tox nox mypy ruff black isort sphinx mkdocs click typer rich textual prompt curses "
    "boto azure gcloud minio webdav ftp ssh paramiko fabric invoke salt consul vault etcd zookeeper "
    "prometheus grafana sentry otel jaeger zipkin statsd influx mongo cassandra neo4j elastic solr "
    "sqlite duckdb clickhouse snowflake bigquery spark dask ray airflow luigi dagster prefect "
    "mlflow optuna"
).split()
ROLES = ("client server utils tools core cli sdk api lib plugin auth cache stream schema metrics "
         "queue store parser adapter testing").split()
DOMAINS = "billing telemetry logistics inventory payroll ledger shipping warehousing forecasting onboarding".split()

# 8 Python/ABI tags x 66 platform tags = 528 wheel names; `wide-wheels` takes the first 500.
PYTHON_TAGS = [("cp39", "cp39"), ("cp310", "cp310"), ("cp311", "cp311"), ("cp312", "cp312"),
               ("cp313", "cp313"), ("cp313", "cp313t"), ("pp310", "pypy310_pp73"), ("pp311", "pypy311_pp73")]
ARCHES = ("x86_64", "aarch64", "i686", "ppc64le", "s390x", "armv7l")
PLATFORM_TAGS = (
    [f"manylinux_2_17_{a}.manylinux2014_{a}" for a in ARCHES] + [f"manylinux_2_28_{a}" for a in ARCHES]
    + [f"manylinux_2_34_{a}" for a in ARCHES]
    + [f"musllinux_1_1_{a}" for a in ARCHES] + [f"musllinux_1_2_{a}" for a in ARCHES]
    + [f"macosx_{v}_{a}" for v in ("10_9", "10_12", "10_13", "10_14", "10_15", "11_0", "12_0", "13_0", "14_0", "15_0")
       for a in ("x86_64", "arm64", "universal2")]
    + ["win32", "win_amd64", "win_arm64", "ios_13_0_arm64_iphoneos", "ios_13_0_arm64_iphonesimulator",
       "ios_13_0_x86_64_iphonesimulator"]
)
DEEP_WHEEL_TAGS = ["cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64", "cp312-cp312-manylinux_2_17_aarch64",
                   "cp312-cp312-macosx_11_0_arm64", "cp312-cp312-win_amd64"]
DEEP_YANKED = {"3.4.0": "broke the public API; use 3.5.0", "2.0.0": "wrong wheel tags", "1.9.0": "security: see 1.10.0"}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def readme(name: str, kib: int = 20) -> str:
    """A README as a real project's: badges, a table of contents, install and quick-start code,
    a feature list, an option table, an API reference, an FAQ in raw HTML, a changelog; sections
    are added until it holds `kib` KiB."""
    title = name.replace("-", " ").title()
    parts = [f"""# {title}

[![CI](https://ci.example.com/{name}/badge.svg)](https://ci.example.com/{name})
[![Coverage](https://cov.example.com/{name}.svg)](https://cov.example.com/{name})
[![Docs](https://docs.example.org/{name}/badge.svg)](https://docs.example.org/{name}/)

**{title}** is a toolkit for building *fast*, **typed** services in Python. It takes care of the
plumbing (configuration, retries, connection pools, structured logging) so that the code you
write is about your problem. See the [documentation](https://docs.example.org/{name}/) for a
tour, or read on for the short version.

> **Note**
> Version 5 drops Python 3.8. Pin `{name}<5` if you still need it.

## Contents

- [Installation](#installation)
- [Quick start](#quick-start)
- [Features](#features)
- [Configuration](#configuration)
- [API reference](#api-reference)
- [FAQ](#faq)
- [Changelog](#changelog)

## Installation

```console
$ python -m pip install {name}
$ python -m pip install "{name}[cli]"   # with the command-line tools
```

## Quick start

```python
from {dist_name(name)} import App, Settings

app = App(Settings.from_env(prefix="APP_"))

@app.route("/items/{{item_id}}")
async def get_item(item_id: int) -> dict:
    return {{"id": item_id, "name": await app.store.name_of(item_id)}}

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=8000)
```

## Features

- **Typed settings**: every option is validated at start-up, with a clear message.
  - environment variables, `.env` files and TOML are read in that order;
  - secrets can come from files (`*_FILE` variables).
- **Retries with back-off** for every outgoing call, with jitter and a budget.
- **Structured logs** in JSON or logfmt, with request ids carried across tasks.
- **Graceful shutdown**: in-flight requests finish, new ones get `503`.
- Works with `asyncio` and `trio`; ~~no longer needs~~ no extra event loop package.

## Configuration

| Option | Environment | Default | Description |
|:-------|:------------|--------:|:------------|
"""]
    for i in range(24):
        parts.append(f"| `option_{i}` | `APP_OPTION_{i}` | `{i * 10}` | What option {i} changes, and when to raise it. |\n")
    parts.append("\n## API reference\n\n")
    section = 0
    body = lambda: sum(len(p) for p in parts)
    while body() < kib * 1024 * 0.8:
        parts.append(f"""### `function_{section}(source, *, timeout=None, retries=3)`

Reads from `source` and returns a `Result`. `timeout` is in seconds (`None` waits for ever);
`retries` counts the attempts after the first. Raises `SourceError` when every attempt failed, with
the last error as its `__cause__`. See [retries](https://docs.example.org/{name}/retries#function-{section}).

```python
result = function_{section}("s3://bucket/key", timeout=2.5)
print(result.value, result.attempts)
```

""")
        section += 1
    parts.append("""## FAQ

<details>
<summary>Does it work on Windows?</summary>

Yes: wheels are built for Windows on x86-64 and ARM64.

</details>

<details>
<summary>Why another framework?</summary>

It is not one: it is the parts every service needs, kept small.

</details>

## Changelog

""")
    release = 0
    while body() < kib * 1024:
        parts.append(f"""### 5.{19 - release % 20}.0 (2025-{12 - release % 12:02d}-01)

- Fixed a race in the connection pool when a request was cancelled during the handshake (#{1200 - release}).
- `Settings.from_env` now reads `*_FILE` variables for secrets.
- Dropped the `legacy` extra.

""")
        release += 1
    parts.append("## License\n\nMIT. See [LICENSE](https://git.example.com/acme/{name}/-/blob/main/LICENSE).\n")
    return "".join(parts)


def core_metadata_fields(name: str, summary: str, description: str) -> str:
    """What the files' METADATA says after name and version: the fields a package page shows,
    then the README as the body."""
    classifiers = ["Development Status :: 5 - Production/Stable", "Intended Audience :: Developers",
                   "License :: OSI Approved :: MIT License", "Operating System :: OS Independent",
                   "Programming Language :: Python :: 3", "Programming Language :: Python :: 3.11",
                   "Programming Language :: Python :: 3.12", "Programming Language :: Python :: 3.13",
                   "Topic :: Software Development :: Libraries", "Typing :: Typed"]
    lines = [f"Summary: {summary}", f"Home-page: https://git.example.com/acme/{name}", "Author: Acme Developers",
             "Author-email: dev@example.com", "License: MIT", "Requires-Python: >=3.9",
             f"Project-URL: Documentation, https://docs.example.org/{name}/",
             f"Project-URL: Source, https://git.example.com/acme/{name}",
             f"Project-URL: Issues, https://git.example.com/acme/{name}/-/issues",
             "Requires-Dist: httpx>=0.27", "Requires-Dist: pydantic<3,>=2.6",
             'Requires-Dist: tomli>=1.1; python_version < "3.11"', 'Requires-Dist: rich>=13; extra == "cli"',
             'Requires-Dist: typer>=0.12; extra == "cli"', "Provides-Extra: cli"]
    lines += [f"Classifier: {c}" for c in classifiers]
    lines.append("Description-Content-Type: text/markdown")
    return "\n".join(lines) + "\n\n" + description


@dataclass
class Upload:
    """One file to upload: where, the distribution, and the form's name, version, summary and
    description (what twine sends beside the file)."""
    project: int
    dist: Dist
    name: str
    version: str
    summary: str
    description: str


@dataclass
class SearchEntry:
    name: str
    summary: str
    project: str
    public: bool


@dataclass
class PackagePage:
    """A measured package page: its URL, and how many files and releases it must list."""
    name: str
    path: str
    files: int
    releases: int
    yanked: int


@dataclass
class WebCatalogue:
    token: str
    auth: str
    page_project: int
    pages: list[PackagePage]
    simple_page: str  # the simple index page of `wide-wheels`: the reference the web page is held to
    search: list[SearchEntry] = field(default_factory=list)  # every package a search may find
    visitor_password_set: bool = False
    uploads: int = 0
    upload_seconds: float = 0.0
    readme_bytes: int = 0

    def expected_matches(self, query: str, signed_in: bool) -> int:
        """Packages a search for `query` must find, by the spec's rule: the normalised name
        contains the normalised query, or the summary contains every word of it (case-insensitive);
        anonymous visitors see the public projects only, the visitor the private one too."""
        q, words = normalize(query.strip()), query.lower().split()
        return sum(1 for e in self.search if (e.public or signed_in)
                   and (q in normalize(e.name) or (words and all(w in e.summary.lower() for w in words))))


def upload_one(wh: Wheelhouse, auth: str, job: Upload) -> None:
    fields = upload_fields(job.dist, job.name, job.version) + [
        ("summary", job.summary), ("description", job.description), ("description_content_type", "text/markdown")]
    status, body, _ = multipart_upload(wh.port, f"/api/v4/projects/{job.project}/packages/pypi", fields, job.dist,
                                       auth, timeout=120)
    if status not in (200, 201):
        raise BenchError(f"upload of {job.dist.filename} to project {job.project} answered {status}: {body[:300]!r}")


def upload_jobs(wh: Wheelhouse, auth: str, jobs: list[Upload]) -> None:
    """4 at a time, as the other scenarios' catalogues are uploaded."""
    with ThreadPoolExecutor(4) as pool:
        for _ in pool.map(lambda job: upload_one(wh, auth, job), jobs):
            pass


def page_jobs(project: int, readme_kib: int) -> tuple[list[Upload], int]:
    """The uploads of `wide-wheels` and `long-history`, and the README's size in bytes."""
    jobs = []
    text = readme(WIDE, readme_kib)
    summary = WIDE_SUMMARY
    extra = core_metadata_fields(WIDE, summary, text)
    tags = [f"{py}-{abi}-{plat}" for py, abi in PYTHON_TAGS for plat in PLATFORM_TAGS][:500]
    for tag in tags:
        dist = wheel(WIDE, "2.1.0", filename=f"{dist_name(WIDE)}-2.1.0-{tag}.whl", extra_meta=extra)
        jobs.append(Upload(project, dist, WIDE, "2.1.0", summary, text))
    text = readme(DEEP, readme_kib)
    summary = DEEP_SUMMARY
    extra = core_metadata_fields(DEEP, summary, text)
    for i in range(100):
        version = f"{1 + i // 20}.{i % 20}.0"
        stem = f"{dist_name(DEEP)}-{version}"
        jobs.append(Upload(project, sdist(DEEP, version, extra_meta=extra), DEEP, version, summary, text))
        for tag in DEEP_WHEEL_TAGS:
            dist = wheel(DEEP, version, filename=f"{stem}-{tag}.whl", extra_meta=extra)
            jobs.append(Upload(project, dist, DEEP, version, summary, text))
    return jobs, len(text.encode())


def search_entries(count: int) -> list[SearchEntry]:
    entries = []
    for i in range(count):
        topic, role = TOPICS[(i // len(ROLES)) % len(TOPICS)], ROLES[i % len(ROLES)]
        # A topic's 20 names, and a role's 100, are spread over the four projects alike.
        project, public = SEARCH_PROJECTS[(i + i // len(ROLES)) % len(SEARCH_PROJECTS)]
        domain = DOMAINS[(i // len(SEARCH_PROJECTS)) % len(DOMAINS)]  # every domain in every project
        suffix = "" if i < len(TOPICS) * len(ROLES) else f"-{i // (len(TOPICS) * len(ROLES))}"
        entries.append(SearchEntry(name=f"{topic}-{role}{suffix}", project=project, public=public,
                                   summary=f"A {role} for {topic} in the {domain} platform"))
    return entries


def create_visitor(wh: Wheelhouse) -> bool:
    """`visitor` with a password (`user create --password-stdin`, else `user password` after a
    plain `user create`); False when the binary has no passwords yet (the signed-in rows are then
    n/a)."""
    done = wh.cli("user", "create", VISITOR, "--password-stdin", "--json", input=VISITOR_PASSWORD + "\n")
    if done.returncode == 0:
        return True
    wh.cli_json("user", "create", VISITOR)
    return wh.cli("user", "password", VISITOR, input=VISITOR_PASSWORD + "\n").returncode == 0


def seed(wh: Wheelhouse, search_packages: int, readme_kib: int) -> WebCatalogue:
    log("creating the users, groups and projects")
    wh.user("bench", admin=True)
    token = wh.token("bench", "api", name="bench")["token"]
    auth = "Basic " + base64.b64encode(f"__token__:{token}".encode()).decode()
    password_set = create_visitor(wh)
    for group in ("web", "catalog", "tools"):
        wh.group(group, "public")
    page_project = wh.project(PAGE_PROJECT, "public")["id"]
    project_ids = {path: wh.project(path, "public" if public else "private")["id"]
                   for path, public in SEARCH_PROJECTS}
    wh.member(VISITOR, "maintainer", project=PAGE_PROJECT)
    wh.member(VISITOR, "developer", project="catalog/internal")

    jobs, readme_bytes = page_jobs(page_project, readme_kib)
    entries = search_entries(search_packages)
    for e in entries:
        description = (f"# {e.name}\n\n{e.summary}.\n\n```console\n$ pip install {e.name}\n```\n\n"
                       f"See the [docs](https://docs.example.org/{e.name}/).\n")
        dist = wheel(e.name, "1.0.0", extra_meta=core_metadata_fields(e.name, e.summary, description))
        jobs.append(Upload(project_ids[e.project], dist, e.name, "1.0.0", e.summary, description))
    log(f"uploading {len(jobs):,} distributions over HTTP (the 600 package-page files carry a "
        f"{readme_bytes / 1024:.0f} KiB README each)")
    started = time.monotonic()
    upload_jobs(wh, auth, jobs)
    seconds = time.monotonic() - started
    log(f"  {len(jobs):,} uploads in {seconds:.1f} s")
    for version, reason in DEEP_YANKED.items():
        status, _, body = request(wh.port, "PUT", f"/api/v4/projects/{page_project}/packages/pypi/yank",
                                  {"Authorization": auth, "Content-Type": "application/json"},
                                  body=json.dumps({"name": DEEP, "version": version, "reason": reason}))
        if status != 200:
            raise BenchError(f"yanking {DEEP} {version} answered {status}: {body[:200]!r}")
    pages = [PackagePage(WIDE, f"/{PAGE_PROJECT}/-/packages/{WIDE}", files=500, releases=1, yanked=0),
             PackagePage(DEEP, f"/{PAGE_PROJECT}/-/packages/{DEEP}", files=5, releases=100, yanked=len(DEEP_YANKED))]
    # The package pages' two packages are found by a search too.
    searched = entries + [SearchEntry(WIDE, WIDE_SUMMARY, PAGE_PROJECT, True),
                          SearchEntry(DEEP, DEEP_SUMMARY, PAGE_PROJECT, True)]
    return WebCatalogue(token=token, auth=auth, page_project=page_project, pages=pages,
                        simple_page=f"/api/v4/projects/{page_project}/packages/pypi/simple/{WIDE}/",
                        search=searched, visitor_password_set=password_set, uploads=len(jobs),
                        upload_seconds=seconds, readme_bytes=readme_bytes)


# ---------------------------------------------------------------------------------------------
# Signing in


class SignInError(Exception):
    """The sign-in form did not give a session (the binary has no web interface yet, say)."""


def _exchange(port: int, method: str, path: str, headers: dict, body: bytes | None = None):
    """(status, every Set-Cookie as name -> value, body): `client.request` keeps one header of each
    name, and a sign-in answer may set two cookies."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        cookies = {}
        for header in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            cookies[name.strip()] = rest.split(";", 1)[0]
        return resp.status, cookies, data
    finally:
        conn.close()


def form_token(page: bytes) -> str | None:
    """The value of the form's hidden `authenticity_token`, whatever the attributes' order."""
    for tag in re.findall(rb"<input\b[^>]*>", page):
        if re.search(rb'name="authenticity_token"', tag):
            value = re.search(rb'value="([^"]*)"', tag)
            return value.group(1).decode() if value else None
    return None


def sign_in(port: int, login: str = VISITOR, password: str = VISITOR_PASSWORD) -> str:
    """Signs in through the form, as a browser does (GET the form and its CSRF cookie, POST it
    back), once; returns the session cookie's value, reused by every signed-in request."""
    status, cookies, page = _exchange(port, "GET", "/users/sign_in", {})
    if status != 200:
        raise SignInError(f"GET /users/sign_in answered {status}")
    token = form_token(page)
    if token is None:
        raise SignInError("the sign-in form has no authenticity_token")
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    body = urlencode({"login": login, "password": password, "authenticity_token": token, "redirect_to": "/"}).encode()
    status, cookies, page = _exchange(port, "POST", "/users/sign_in", {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}, body)
    if status != 303 or not cookies.get(SESSION_COOKIE):
        raise SignInError(f"POST /users/sign_in answered {status} without a {SESSION_COOKIE} cookie: {page[:200]!r}")
    return cookies[SESSION_COOKIE]
