"""The web interface's pages (issue 14), read over plain HTTP: the headers every page carries and
the resources it may load, the home page, search, group, project and package pages (what a
package page says of a real wheel uploaded with twine: its Markdown README, dependencies with
extras and markers, project URLs, classifiers, license, requires-python, every version with its
yank, every file with size and sha256, install snippets whose index URL pip then installs from),
and private things staying 404 for visitors who may not read them.

conftest's `web` fixture is this module's server and users; `many` adds 21 public packages (for
search's pages and the home page's 20) and one private package uploaded after them."""
from __future__ import annotations

import datetime
import re
import urllib.parse

import pytest

from browser import Page, WebClient, describe, location_path, visitor, wait_until
from distributions import sdist, wheel
from whlib import Clients, describe as describe_proc, enc, upload_ok

CSP = ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; report-uri /-/csp-report")
TOKENS = "/-/user_settings/personal_access_tokens"
RICH = "/acme/lib/-/packages/wh-rich-docs"
# The display name: METADATA says Wh_Rich.Docs, twine's form field says Wh-Rich.Docs (pkg_resources'
# safe_name, as Warehouse registers it); a page may show either.
RICH_NAMES = {"Wh_Rich.Docs", "Wh-Rich.Docs"}


@pytest.fixture(scope="module")
def many(web):
    """wh-many-01 .. wh-many-21 in pub/open (public), uploaded in that order, then wh-late in
    acme/lib (private): the newest upload of all."""
    wh = web.server
    names = [f"wh-many-{i:02d}" for i in range(1, 22)]
    for i, name in enumerate(names, 1):
        d = wheel(name, "1.0", extra_meta=f"Summary: Many fixture number {i}\n")
        upload_ok(wh, web.pid("pub/open"), d, name, "1.0", web.alice,
                  fields={"summary": f"Many fixture number {i}"})
    late = wheel("wh-late", "1.0", extra_meta="Summary: Late private fixture\n")
    upload_ok(wh, web.pid("acme/lib"), late, "wh-late", "1.0", web.alice)
    return names


# ---------------------------------------------------------------- helpers

def index_urls(wh, *, project=None, group=None, pid=None, gid=None) -> set[str]:
    """The spellings of a project's or group's simple index URL a page may show: by id or by
    the URL-encoded full path."""
    if project:
        return {f"{wh.project_url(pid)}/simple", f"{wh.project_url(enc(project))}/simple"}
    return {f"{wh.group_url(gid)}/simple", f"{wh.group_url(enc(group))}/simple"}


def without_userinfo(url: str) -> str:
    p = urllib.parse.urlsplit(url)
    host = p.netloc.rsplit("@", 1)[-1]
    return urllib.parse.urlunsplit((p.scheme, host, p.path.rstrip("/"), p.query, p.fragment))


def urls_in(text: str) -> list[str]:
    return [u.rstrip("'\".,;)") for u in re.findall(r"https?://[^\s\"'<>]+", text)]


def assert_names_url(text: str, accepted: set[str], what: str):
    found = [without_userinfo(u) for u in urls_in(text)]
    assert any(u in accepted for u in found), f"{what}: none of {found} is one of {sorted(accepted)}"


def iso(value: str) -> datetime.datetime:
    t = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert t.tzinfo is not None, f"no time zone in {value!r}"
    return t


def recent(t: datetime.datetime, within=datetime.timedelta(hours=1)) -> bool:
    now = datetime.datetime.now(datetime.timezone.utc)
    return now - within <= t <= now + datetime.timedelta(minutes=1)


def size_matches(text: str, size: int) -> bool:
    """A file size as a page may print it: the exact bytes, or rounded in kB/KiB/MB/MiB."""
    t = text.replace(",", "").replace("\u00a0", " ").strip()
    m = re.fullmatch(r"([\d.]+)\s*(B|bytes?|kB|KB|KiB|MB|MiB|GB|GiB)?", t)
    if not m:
        return False
    value, unit = float(m.group(1)), (m.group(2) or "B")
    scales = {"B": [1], "byte": [1], "bytes": [1], "kB": [1000], "KB": [1000, 1024], "KiB": [1024],
              "MB": [10**6, 1 << 20], "MiB": [1 << 20], "GB": [10**9, 1 << 30], "GiB": [1 << 30]}[unit]
    if scales == [1]:
        return value == size
    decimals = len(m.group(1).split(".", 1)[1]) if "." in m.group(1) else 0
    return any(abs(value * k - size) <= 0.5 * 10 ** -decimals * k + 1 for k in scales)


def page_not_found(page: Page, anonymous: bool, path: str):
    assert page.status == 404, page.describe()
    assert page.one("main h1").stripped == "Page not found", page.describe()
    prompt = page.all("a#sign-in-prompt")
    if anonymous:
        assert len(prompt) == 1, page.describe()
        href = urllib.parse.urlsplit(prompt[0].get("href", ""))
        assert href.path == "/users/sign_in", prompt
        assert urllib.parse.parse_qs(href.query).get("redirect_to") == [path], prompt
    else:
        assert not prompt, page.describe()


# ---------------------------------------------------------------- headers and resources

ANON_PAGES = [("/", 200), ("/-/search?q=wh", 200), ("/pub", 200), ("/pub/open", 200),
              ("/pub/open/-/packages/wh-public", 200), ("/pub/open/-/packages/wh-public/1.0", 200),
              ("/users/sign_in", 200), ("/no-such-group", 404), ("/acme", 404),
              ("/acme/lib/-/packages/wh-rich-docs", 404), ("/-/search?q=" + "x" * 201, 400)]
SIGNED_IN_PAGES = [("/", 200), (TOKENS, 200), ("/acme", 200), ("/acme/lib", 200), (RICH, 200),
                   (f"{RICH}/1.2.0", 200), (f"{RICH}/1.2.0/yank", 200), ("/-/search?q=rich", 200),
                   ("/acme/nothing-here", 404)]


def assert_page_headers(r):
    h = r.headers
    assert h.get("Content-Type") == "text/html; charset=utf-8", describe(r)
    assert h.get("Content-Security-Policy") == CSP, describe(r)
    assert h.get("X-Frame-Options") == "DENY", describe(r)
    assert h.get("X-Content-Type-Options") == "nosniff", describe(r)
    assert h.get("Referrer-Policy") == "same-origin", describe(r)
    assert h.get("Cache-Control") == "no-store", describe(r)


def assert_self_contained(page: Page):
    """What the CSP allows and nothing more: scripts and styles only as same-origin files, no
    inline script, style or event handler, every resource from this server."""
    for tag, attrs in page.start_tags:
        a = dict(attrs)
        assert not any(k.startswith("on") for k in a), f"event handler in <{tag} {a}>"
        assert "style" not in a, f"inline style in <{tag} {a}> (the CSP blocks it)"
        assert tag != "style", "a <style> element (the CSP blocks it)"
        if tag == "script":
            assert (a.get("src") or "").startswith("/-/static/"), f"inline or foreign script {a}"
        for k in ("src", "srcset", "poster", "data"):
            if a.get(k):
                assert a[k].startswith("/") and not a[k].startswith("//"), f"<{tag} {k}={a[k]}>"
        if tag == "link" and a.get("href"):
            assert a["href"].startswith("/-/static/"), f"<link {a}> loads from elsewhere"


def assert_layout(page: Page, signed_in_as: str | None):
    page.one("header")
    page.one("main")
    assert page.one("header a#home").get("href") == "/"
    form = page.one("header form#header-search")
    assert form.get("action") == "/-/search" and (form.get("method") or "get").lower() == "get"
    page.one("form#header-search input[name=q]")
    if signed_in_as is None:
        assert urllib.parse.urlsplit(page.one("a#sign-in").get("href")).path == "/users/sign_in"
        assert not page.has("span#current-user") and not page.has("form#sign-out")
    else:
        assert page.one("span#current-user").stripped == signed_in_as
        assert page.one("a#tokens-link").get("href") == TOKENS
        assert page.one("form#sign-out").get("action") == "/users/sign_out"
        page.one("form#sign-out button#sign-out-button")
        assert not page.has("a#sign-in")


@pytest.mark.parametrize("path,status", ANON_PAGES, ids=[p for p, _ in ANON_PAGES])
def test_every_anonymous_page_has_the_security_headers(web, path, status):
    page = WebClient(web.server.base).page(path, status=status)
    assert_page_headers(page.response)
    assert_self_contained(page)
    assert_layout(page, None)


@pytest.mark.parametrize("path,status", SIGNED_IN_PAGES, ids=[p for p, _ in SIGNED_IN_PAGES])
def test_every_signed_in_page_has_the_security_headers(web, alice, path, status):
    page = alice.page(path, status=status)
    assert_page_headers(page.response)
    assert_self_contained(page)
    assert_layout(page, "alice")


def test_the_403_page_has_the_security_headers(web):
    dave = visitor(web, "dave")
    token = dave.page(TOKENS).form_token("form#new-token")
    r = dave.post(f"{RICH}/1.2.0/yank", data={"authenticity_token": token, "reason": "no"})
    page = Page(r)
    assert page.status == 403, page.describe()
    assert_page_headers(r)
    assert_self_contained(page)
    assert_layout(page, "dave")


@pytest.fixture(scope="module")
def alice(web):
    return visitor(web, "alice")


def test_static_files_are_local_and_typed(web):
    c = WebClient(web.server.base)
    css = c.get("/-/static/wheelhouse.css")
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css"), describe(css)
    assert css.headers.get("X-Content-Type-Options") == "nosniff", describe(css)
    assert "prefers-color-scheme" in css.text, "no dark (or light) scheme in the stylesheet"
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", css.text), "external resource in CSS"
    js = c.get("/-/static/wheelhouse.js")
    assert js.status_code == 200, describe(js)
    assert re.match(r"(text|application)/javascript", js.headers["Content-Type"]), describe(js)
    assert js.headers.get("X-Content-Type-Options") == "nosniff", describe(js)
    assert "clipboard" in js.text and "Copied" in js.text, js.text[:2000]
    assert not re.search(r"https?://", js.text), "the script names an outside URL"
    assert c.get("/-/static/nothing.js").status_code == 404
    assert c.get("/-/static/../wheelhouse.sqlite3").status_code in (400, 404)


def test_csp_reports_are_taken_and_logged(web):
    wh = web.server
    mark = wh.log_mark()
    report = {"csp-report": {"document-uri": f"{wh.base}/", "violated-directive": "script-src",
                             "blocked-uri": "inline"}}
    r = WebClient(wh.base).post("/-/csp-report", json=report,
                                headers={"Content-Type": "application/csp-report"})
    assert r.status_code == 204, describe(r)
    wait_until(lambda: any("content security policy violation" in line
                           for line in wh.log_since(mark)), timeout=5,
               message="no 'content security policy violation' in the server's log")
    big = WebClient(wh.base).post("/-/csp-report", data=b"{" + b" " * (64 * 1024 + 1) + b"}",
                                  headers={"Content-Type": "application/csp-report"})
    assert 400 <= big.status_code < 500, describe(big)


# ---------------------------------------------------------------- home

def recent_items(page: Page):
    items = page.all("section#recent li.package")
    out = []
    for li in items:
        a = li.select_one("a")
        out.append(dict(name=a.stripped, href=a.get("href"), version=li.select_one(".version").stripped,
                        summary=li.select_one(".summary").stripped,
                        time=iso(li.select_one("time").get("datetime"))))
    return out


def test_home_shows_what_an_anonymous_visitor_may_read(web, many):
    page = WebClient(web.server.base).page("/")
    page.one("form#search input[name=q]")
    items = recent_items(page)
    assert len(items) == 20, items
    assert items[0]["name"] == "wh-many-21" and items[-1]["name"] == "wh-many-02", items
    assert items[0]["href"] == "/pub/open/-/packages/wh-many-21", items[0]
    assert items[0]["version"] == "1.0" and items[0]["summary"] == "Many fixture number 21", items[0]
    times = [i["time"] for i in items]
    assert times == sorted(times, reverse=True) and all(recent(t) for t in times), times
    groups = {a.get("href") for a in page.all("section#groups li a")}
    projects = {a.get("href") for a in page.all("section#projects li a")}
    assert "/pub" in groups and not groups & {"/acme", "/acme/sub"}, groups
    assert "/pub/open" in projects, projects
    assert not projects & {"/pub/secret", "/acme/lib", "/alice/mine", "/acme/sub/deep"}, projects


def test_home_shows_a_member_their_private_packages(web, many, alice):
    items = recent_items(alice.page("/"))
    assert items[0]["name"] == "wh-late" and items[0]["href"] == "/acme/lib/-/packages/wh-late", items
    assert len(items) == 20
    page = alice.page("/")
    groups = {a.get("href") for a in page.all("section#groups li a")}
    projects = {a.get("href") for a in page.all("section#projects li a")}
    assert {"/acme", "/pub"} <= groups, groups
    assert {"/acme/lib", "/pub/open", "/pub/secret", "/alice/mine"} <= projects, projects
    otto = visitor(web, "otto")
    assert recent_items(otto.page("/"))[0]["name"] == "wh-many-21"
    projects = {a.get("href") for a in otto.page("/").all("section#projects li a")}
    assert "/pub/open" in projects and not projects & {"/acme/lib", "/pub/secret"}, projects


# ---------------------------------------------------------------- search

def results(page: Page):
    out = []
    for li in page.all("ul#results > li.result"):
        a = li.select_one("a.name")
        out.append(dict(name=a.stripped, href=a.get("href"), version=li.select_one(".version").stripped,
                        summary=li.select_one(".summary").stripped,
                        project=li.select_one(".project").stripped,
                        uploaded=iso(li.select_one("time.uploaded").get("datetime"))))
    return out


def search(c: WebClient, q: str, **params):
    """The search page for `q` (spaces sent as %20; test_search_reads_a_form_encoded_query is the
    one about `+`)."""
    query = urllib.parse.urlencode({"q": q, **params}, quote_via=urllib.parse.quote)
    return c.page(f"/-/search?{query}")


def all_results(c: WebClient, q: str) -> list[dict]:
    out, page = [], 1
    while True:
        got = results(search(c, q, page=page))
        out += got
        if len(got) < 20:
            return out
        page += 1


@pytest.mark.parametrize("q", ["rich", "WH_RICH.docs", "rich-do", "rich_DO", "h-rich-docs",
                               "readme web", "Web README", "PAGES readme"])
def test_search_finds_by_name_part_or_summary_words(web, alice, q):
    found = {r["name"]: r for r in results(search(alice, q)) if r["name"] in RICH_NAMES}
    assert len(found) == 1, (q, results(search(alice, q)))
    (r,) = found.values()
    assert r["href"] == RICH and r["version"] == "1.10.0", r  # 1.10.0 > 1.2.0 in PEP 440
    assert r["summary"] == "Rich fixture 1.10.0 with a readme for the web pages", r
    assert r["project"] == "acme/lib" and recent(r["uploaded"]), r


def test_search_reads_a_form_encoded_query(web, alice):
    """What the search form sends for "readme web": application/x-www-form-urlencoded, the space
    as `+`."""
    page = alice.page("/-/search?q=readme+web")
    assert page.one("main input[name=q]").get("value") == "readme web", page.first("main input[name=q]")
    assert RICH_NAMES & {r["name"] for r in results(page)}, results(page)


@pytest.mark.parametrize("q", ["readme banana", "rich-docs-x", "docs rich x"])
def test_search_needs_every_word_or_the_whole_name_part(web, alice, q):
    assert not RICH_NAMES & {r["name"] for r in results(search(alice, q))}, q


def test_search_shows_the_latest_release_not_yanked(web, alice):
    (r,) = [x for x in results(search(alice, "wh-yanked")) if x["name"] == "wh-yanked"]
    assert r["version"] == "1.0", r


def test_search_never_finds_what_the_visitor_may_not_read(web, alice):
    for who in (WebClient(web.server.base), visitor(web, "otto"), visitor(web, "rita")):
        for q in ("zebra", "wh-hidden", "classified"):
            page = search(who, q)
            assert not results(page), (q, results(page))
            assert page.one("p#result-count").stripped == "0 packages"
    for q in ("zebra", "wh-hidden"):
        assert [r["name"] for r in results(search(alice, q))] == ["wh-hidden"]
        assert search(alice, q).one("p#result-count").stripped == "1 packages" or \
            search(alice, q).one("p#result-count").stripped == "1 package"
    anon = {r["name"] for r in all_results(WebClient(web.server.base), "fixture")}
    assert "wh-public" in anon and not anon & (RICH_NAMES | {"wh-yanked", "wh-deep", "wh-mine"}), anon


def test_search_pages_twenty_at_a_time(web, many):
    c = WebClient(web.server.base)
    first = search(c, "wh-many")
    assert first.one("p#result-count").stripped == "21 packages"
    one = results(first)
    two = results(search(c, "wh-many", page=2))
    assert len(one) == 20 and len(two) == 1, (len(one), len(two))
    assert {r["name"] for r in one + two} == set(many)


def test_search_without_a_query_is_just_the_form_and_a_long_one_is_400(web):
    c = WebClient(web.server.base)
    for path in ("/-/search", "/-/search?q="):
        page = c.page(path)
        page.one("main form input[name=q]")
        assert not page.has("li.result"), page.describe()
    c.page("/-/search?" + urllib.parse.urlencode({"q": "é" * 100}))  # 200 bytes
    page = c.page("/-/search?" + urllib.parse.urlencode({"q": "é" * 100 + "x"}), status=400)
    assert_page_headers(page.response)


# ---------------------------------------------------------------- group and project pages

def test_group_page(web, alice):
    wh = web.server
    page = alice.page("/acme")
    assert "acme" in page.one("main h1").stripped.lower()
    assert "/acme/sub" in {a.get("href") for a in page.all("ul#subgroups li a")}
    assert "/acme/lib" in {a.get("href") for a in page.all("ul#projects li a")}
    packages = {a.get("href") for a in page.all("ul#packages li a")}
    assert {RICH, "/acme/lib/-/packages/wh-yanked"} <= packages, packages
    url = page.one("code#group-index-url").stripped
    assert url in index_urls(wh, group="acme", gid=web.gid("acme")), url
    assert url in {b.get("data-copy") for b in page.all("button.copy")}, page.all("button.copy")
    listing = wh.get(url, auth=web.alice)
    assert listing.status_code == 200 and "wh-rich-docs" in listing.text, describe(listing)
    sub = alice.page("/acme/sub")
    assert "/acme/sub/deep" in {a.get("href") for a in sub.all("ul#projects li a")}
    anon = WebClient(wh.base).page("/pub")
    assert {a.get("href") for a in anon.all("ul#projects li a")} == {"/pub/open"}
    names = {a.stripped for a in anon.all("ul#packages li a")}
    assert "wh-public" in names and "wh-hidden" not in names, names


def test_project_page(web):
    wh = web.server
    rita = visitor(web, "rita")
    page = rita.page("/acme/lib")
    assert "lib" in page.one("main h1").stripped
    hrefs = [a.get("href") for a in page.all("ul#packages li a")]
    assert hrefs.count(RICH) == 1 and "/acme/lib/-/packages/wh-yanked" in hrefs, hrefs
    project = page.one("code#project-index-url").stripped
    group = page.one("code#group-index-url").stripped
    assert project in index_urls(wh, project="acme/lib", pid=web.pid("acme/lib")), project
    assert group in index_urls(wh, group="acme", gid=web.gid("acme")), group
    copies = {b.get("data-copy") for b in page.all("button.copy")}
    assert {project, group} <= copies, copies
    mine = visitor(web, "alice").page("/alice/mine")
    assert mine.one("code#project-index-url").stripped in index_urls(
        wh, project="alice/mine", pid=web.pid("alice/mine"))
    assert not mine.has("code#group-index-url"), "a personal namespace has no group index"


# ---------------------------------------------------------------- the package page

def test_package_page_shows_the_release_like_warehouse(web):
    rita = visitor(web, "rita")
    page = rita.page(RICH)
    assert page.one("h1#package-name").stripped in RICH_NAMES
    assert page.one("span#package-version").stripped == "1.10.0"
    assert page.one("p#summary").stripped == "Rich fixture 1.10.0 with a readme for the web pages"
    assert recent(iso(page.one("time#uploaded").get("datetime")))
    readme = page.one("div#readme")
    assert readme.select_one("h1").stripped == "Wh Rich Docs", readme
    assert readme.select_one("h2").stripped == "Usage", readme
    assert readme.select_one("strong").stripped == "rich"
    assert readme.select_one("em").stripped == "package page"
    assert "import wh_rich_docs" in readme.select_one("pre code").text
    assert [li.stripped for li in readme.select("ul li")] == ["item one", "item two"]
    (doc,) = readme.select("a[href='https://docs.example.org/rich']")
    assert {"nofollow", "noopener"} <= set(doc.get("rel", "").split()), doc
    assert ">=3.9" in page.one("#requires-python").stripped
    assert [li.stripped for li in page.all("ul#dependencies li")] == list(web.rich.deps)
    links = {(a.stripped, a.get("href")) for a in page.all("ul#project-urls li a")}
    assert set(web.rich.urls) <= links, links
    assert "MIT" in page.one("#license").stripped
    assert set(web.rich.classifiers) <= {li.stripped for li in page.all("ul#classifiers li")}
    for css in ("a#yank", "a#unyank", "a#delete-release", "a.delete-file"):
        assert not page.has(css), f"a reporter sees {css}"


def test_package_page_lists_every_version_newest_first_with_yanks(web, alice):
    page = alice.page(RICH)
    versions = page.all("ul#versions li")
    hrefs = [li.select_one("a").get("href") for li in versions]
    assert hrefs == [f"{RICH}/1.10.0", f"{RICH}/1.2.0"], hrefs
    for li in versions:
        assert recent(iso(li.select_one("time").get("datetime")))
        assert not li.select("span.yanked")
    yanked = alice.page("/acme/lib/-/packages/wh-yanked/1.0")
    rows = {li.select_one("a").stripped: li for li in yanked.all("ul#versions li")}
    assert set(rows) == {"1.0", "2.0"}, rows
    assert rows["2.0"].select_one("span.yanked").stripped == "yanked"
    assert rows["2.0"].select_one("span.yank-reason").stripped == "broken build"
    assert not rows["1.0"].select("span.yanked")


def test_package_page_lists_every_file_with_size_and_sha256(web):
    rita = visitor(web, "rita")
    for version in ("1.10.0", "1.2.0"):
        page = rita.page(f"{RICH}/{version}")
        assert page.one("span#package-version").stripped == version
        assert page.one("p#summary").stripped == f"Rich fixture {version} with a readme for the web pages"
        want = {d.filename: d for d in web.files["rich"][version]}
        rows = page.all("table#files tbody tr")
        assert len(rows) == len(want), rows
        for tr in rows:
            a = tr.select_one("td.filename a")
            d = want[a.stripped]
            assert tr.select_one("td.sha256 code").stripped == d.sha256
            assert size_matches(tr.select_one("td.size").stripped, d.size), (tr.select_one("td.size"), d.size)
            assert recent(iso(tr.select_one("time").get("datetime")))
            got = rita.get(urllib.parse.urljoin(page.url, a.get("href")))
            assert got.status_code == 200 and got.content == d.data, describe(got)
    # the visitor's session is what downloads: without it the private file is not served
    got = WebClient(web.server.base).get(urllib.parse.urljoin(page.url, a.get("href")))
    assert got.status_code in (401, 404), describe(got)


def test_install_snippets_name_this_projects_index(web, alice):
    wh = web.server
    page = alice.page(RICH)
    project = index_urls(wh, project="acme/lib", pid=web.pid("acme/lib"))
    for css in ("pre#install-pip", "pre#install-uv", "pre#install-poetry"):
        text = page.one(css).text
        assert_names_url(text, project, css)
        assert "wh-rich-docs==1.10.0" in re.sub(r"[-_.]+(?=[a-z])", "-", text.lower()), text
        assert web.tok["alice"] not in text, "the page shows the visitor's own token"
    assert_names_url(page.one("pre#install-pip-group").text,
                     index_urls(wh, group="acme", gid=web.gid("acme")), "pre#install-pip-group")


def test_pip_installs_from_the_url_in_the_snippet(web, tmp_path):
    """What a visitor copies is an index pip really installs from."""
    page = WebClient(web.server.base).page("/pub/open/-/packages/wh-public")
    (url,) = {without_userinfo(u) for u in urls_in(page.one("pre#install-pip").text)}
    clients = Clients(tmp_path / "clients")
    target = clients.target()
    proc = clients.pip_install(url, "wh-public==1.0", target=target)
    assert proc.returncode == 0, describe_proc(proc)
    assert clients.imported(target, "wh_public") == "1.0"


def test_details_the_upload_form_sent_show_where_the_file_has_no_metadata(web, tmp_path):
    wh = web.server
    d = sdist("wh-formonly", "1.0", pkg_info=False, dest=tmp_path)
    upload_ok(wh, web.pid("pub/open"), d, "wh-formonly", "1.0", web.alice, fields={
        "summary": "Only the form says so", "description": "# Form README\n\nfrom the *form*",
        "description_content_type": "text/markdown", "requires_python": ">=3.10",
        "requires_dist": ["attrs>=22", 'colorama; sys_platform == "win32"'],
        "project_urls": ["Changelog, https://example.org/formonly/changes"],
        "classifiers": ["Topic :: Software Development"], "license": "Apache-2.0"})
    page = WebClient(wh.base).page("/pub/open/-/packages/wh-formonly")
    assert page.one("p#summary").stripped == "Only the form says so"
    assert page.one("div#readme h1").stripped == "Form README"
    assert page.one("div#readme em").stripped == "form"
    assert ">=3.10" in page.one("#requires-python").stripped
    assert [li.stripped for li in page.all("ul#dependencies li")] == \
        ["attrs>=22", 'colorama; sys_platform == "win32"']
    assert ("Changelog", "https://example.org/formonly/changes") in \
        {(a.stripped, a.get("href")) for a in page.all("ul#project-urls li a")}
    assert "Topic :: Software Development" in {li.stripped for li in page.all("ul#classifiers li")}
    assert "Apache-2.0" in page.one("#license").stripped


def test_plain_text_readme_is_preformatted(web, tmp_path):
    wh = web.server
    text = "Plain *not emphasis*\n  indented line\n<b>not bold</b>"
    d = wheel("wh-plain", "1.0", extra_meta="Summary: plain\n\n" + text, dest=tmp_path)
    upload_ok(wh, web.pid("pub/open"), d, "wh-plain", "1.0", web.alice)
    page = WebClient(wh.base).page("/pub/open/-/packages/wh-plain")
    readme = page.one("div#readme")
    pre = readme.select_one("pre")
    assert pre is not None and "indented line" in pre.text and "<b>not bold</b>" in pre.text, readme
    assert not readme.select("b") and not readme.select("em"), readme


def test_names_are_normalised_by_redirect_and_unknown_versions_are_404(web, alice):
    for asked, want in (("/acme/lib/-/packages/Wh_Rich.Docs", RICH),
                        ("/acme/lib/-/packages/WH-RICH_DOCS", RICH),
                        ("/acme/lib/-/packages/wh.rich.docs/1.2.0", f"{RICH}/1.2.0")):
        r = alice.get(asked)
        assert r.status_code == 301 and location_path(r) == want, describe(r)
    page_not_found(alice.page(f"{RICH}/9.9.9", status=404), False, f"{RICH}/9.9.9")
    page_not_found(alice.page("/acme/lib/-/packages/wh-nothing", status=404), False, "")


# ---------------------------------------------------------------- private stays private

PRIVATE = ["/acme", "/acme/sub", "/acme/lib", RICH, f"{RICH}/1.2.0", "/acme/sub/deep",
           "/pub/secret", "/pub/secret/-/packages/wh-hidden", "/alice/mine",
           "/alice/mine/-/packages/wh-mine"]


@pytest.mark.parametrize("path", PRIVATE)
def test_private_pages_are_404_for_anonymous_visitors_with_a_sign_in_prompt(web, path):
    page_not_found(WebClient(web.server.base).page(path, status=404), True, path)


def test_a_private_page_and_a_missing_one_look_the_same(web):
    c = WebClient(web.server.base)
    private, missing = c.page("/acme/lib", status=404), c.page("/acme/nope", status=404)
    assert private.text.replace("%2Facme%2Flib", "P").replace("/acme/lib", "P") == \
        missing.text.replace("%2Facme%2Fnope", "P").replace("/acme/nope", "P")


@pytest.mark.parametrize("path", PRIVATE)
def test_private_pages_are_404_for_a_signed_in_outsider(web, path):
    page_not_found(visitor(web, "otto").page(path, status=404), False, path)


def test_members_read_their_pages_and_only_theirs(web, alice):
    for path in PRIVATE:
        alice.page(path)
    rita = visitor(web, "rita")
    for path in ("/acme/lib", RICH, f"{RICH}/1.2.0"):
        rita.page(path)
    for path in ("/acme/sub/deep", "/pub/secret", "/alice/mine"):
        page_not_found(rita.page(path, status=404), False, path)


@pytest.fixture(scope="module")
def internal(web):
    """corp (internal group) with corp/tools (internal) holding wh-corp 1.0."""
    wh = web.server
    wh.group("corp", "internal")
    wh.member("alice", "owner", group="corp")
    p = wh.project("corp/tools", "internal")
    upload_ok(wh, p["id"], wheel("wh-corp", "1.0", extra_meta="Summary: Internal tooling\n"),
              "wh-corp", "1.0", web.alice, fields={"summary": "Internal tooling"})
    return p


def test_internal_pages_are_for_any_signed_in_user(web, internal):
    anon = WebClient(web.server.base)
    otto = visitor(web, "otto")
    for path in ("/corp", "/corp/tools", "/corp/tools/-/packages/wh-corp"):
        page_not_found(anon.page(path, status=404), True, path)
        otto.page(path)
    assert [r["name"] for r in results(search(otto, "internal tooling"))] == ["wh-corp"]
    assert not results(search(anon, "internal tooling"))


def test_reserved_paths_stay_the_servers_own(web):
    """/api/, /-/ and /users/ are never group paths, even when a group is called so."""
    wh = web.server
    for name in ("api", "users"):
        made = wh.cli("group", "create", name, "--visibility", "public", "--json")
        if made.returncode == 0:
            wh.cli("project", "create", f"{name}/v4" if name == "api" else f"{name}/sign_in",
                   "--visibility", "public", "--json")
    version = WebClient(wh.base).get("/api/v4/version", headers={"PRIVATE-TOKEN": web.tok["otto"]})
    assert version.status_code == 200 and "version" in version.json(), describe(version)
    WebClient(wh.base).page("/users/sign_in").one("form#sign-in")
    WebClient(wh.base).page("/-/static/wheelhouse.css", status=200)
