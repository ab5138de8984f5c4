"""What a person does through the web interface's forms (issue 14), over plain HTTP: a maintainer
yanks (with a reason) and unyanks a release, deletes a file and a release, each after a
confirmation page, and the PyPI API then says the same; a developer or reporter who posts the
same forms gets a 403 page and an outsider a 404, with nothing changed; and the personal access
token page lists, creates (the secret shown once, working against the API) and revokes one's own
tokens, and nobody else's.

conftest's `web` fixture is this module's server; every test uploads packages of its own to
acme/lib (mia maintainer, dave developer, rita reporter, otto outsider)."""
from __future__ import annotations

import datetime
import itertools
import urllib.parse

import pytest

from browser import Page, WebClient, describe, location_path, visitor
from distributions import sdist, wheel
from whlib import upload_ok

TOKENS = "/-/user_settings/personal_access_tokens"
JSON_T = "application/vnd.pypi.simple.v1+json"
_seq = itertools.count(1)


def publish(web, stem: str, versions=("1.0",), with_sdist=True) -> tuple[str, dict]:
    """A package of its own in acme/lib: `versions`, each a wheel (and an sdist); returns its
    name and {version: [dists]}."""
    name = f"wh-{stem}-{next(_seq)}"
    out = {}
    for v in versions:
        dists = [wheel(name, v)] + ([sdist(name, v)] if with_sdist else [])
        for d in dists:
            upload_ok(web.server, web.pid("acme/lib"), d, name, v, web.alice)
        out[v] = dists
    return name, out


def page_path(name, version=None):
    return f"/acme/lib/-/packages/{name}" + (f"/{version}" if version else "")


def index_files(web, name) -> dict[str, object] | None:
    """filename -> yanked (False or the reason) on the project's JSON simple page; None if 404."""
    wh = web.server
    r = wh.get(f"{wh.project_url(web.pid('acme/lib'))}/simple/{name}", auth=web.alice,
               headers={"Accept": JSON_T})
    if r.status_code == 404:
        return None
    assert r.status_code == 200, describe(r)
    return {f["filename"]: f.get("yanked") for f in r.json()["files"]}


def confirm_page(c: WebClient, href: str, *, reason: bool) -> Page:
    page = c.page(href)
    form = page.one("form#confirm")
    assert (form.get("method") or "").lower() == "post", form
    action = form.get("action") or href
    assert urllib.parse.urlsplit(urllib.parse.urljoin(page.url, action)).path == href, form
    assert page.form_token("form#confirm")
    page.one("form#confirm button#confirm-button")
    assert page.has("form#confirm textarea[name=reason]") == reason, page.describe()
    assert page.response.headers.get("Cache-Control") == "no-store"
    return page


def file_row(page: Page, filename: str):
    rows = [tr for tr in page.all("table#files tbody tr")
            if tr.select_one("td.filename a").stripped == filename]
    assert len(rows) == 1, (filename, page.all("table#files tbody tr"))
    return rows[0]


# ---------------------------------------------------------------- maintainers

@pytest.mark.parametrize("who", ["mia", "alice"])  # a project maintainer; the group's owner
def test_a_maintainer_yanks_with_a_reason_and_unyanks(web, who):
    name, dists = publish(web, "yank")
    files = {d.filename for d in dists["1.0"]}
    c = visitor(web, who)
    version_page = page_path(name, "1.0")
    page = c.page(version_page)
    assert not page.has("a#unyank")
    href = page.one("a#yank").get("href")
    assert href == f"{version_page}/yank", href
    confirm = confirm_page(c, href, reason=True)
    assert index_files(web, name) == {f: False for f in files}, "the GET of the form yanked"
    r = c.submit(confirm, "form#confirm", {"reason": "bad wheel, use 1.1"})
    assert r.status_code == 303 and location_path(r) == version_page, describe(r)
    assert index_files(web, name) == {f: "bad wheel, use 1.1" for f in files}
    page = c.page(version_page)
    (li,) = [li for li in page.all("ul#versions li") if li.select_one("a").stripped == "1.0"]
    assert li.select_one("span.yanked").stripped == "yanked"
    assert li.select_one("span.yank-reason").stripped == "bad wheel, use 1.1"
    assert not page.has("a#yank")

    href = page.one("a#unyank").get("href")
    assert href == f"{version_page}/unyank", href
    confirm = confirm_page(c, href, reason=False)
    r = c.submit(confirm, "form#confirm")
    assert r.status_code == 303 and location_path(r) == version_page, describe(r)
    assert index_files(web, name) == {f: False for f in files}
    page = c.page(version_page)
    assert page.has("a#yank") and not page.has("span.yanked"), page.describe()


def test_a_maintainer_deletes_a_file(web):
    name, dists = publish(web, "delfile")
    whl, sd = dists["1.0"]
    mia = visitor(web, "mia")
    version_page = page_path(name, "1.0")
    page = mia.page(version_page)
    assert len(page.all("a.delete-file")) == 2
    href = file_row(page, sd.filename).select_one("a.delete-file").get("href")
    assert href.startswith(f"{version_page}/files/") and href.endswith("/delete"), href
    confirm = confirm_page(mia, href, reason=False)
    assert sd.filename in confirm.text, "the confirmation does not say which file"
    r = mia.submit(confirm, "form#confirm")
    assert r.status_code == 303 and location_path(r) == version_page, describe(r)
    page = mia.page(version_page)
    assert [tr.select_one("td.filename a").stripped for tr in page.all("table#files tbody tr")] == \
        [whl.filename]
    assert index_files(web, name) == {whl.filename: False}
    wh = web.server
    gone = wh.get(f"{wh.project_url(web.pid('acme/lib'))}/files/{sd.sha256}/{sd.filename}",
                  auth=web.alice)
    assert gone.status_code == 404, describe(gone)
    assert mia.post(href, data={"authenticity_token": page.form_token("form#sign-out")}).status_code == 404


def test_a_maintainer_deletes_releases_down_to_the_last(web):
    name, dists = publish(web, "delrel", versions=("1.0", "2.0"), with_sdist=False)
    mia = visitor(web, "mia")
    page = mia.page(page_path(name, "2.0"))
    href = page.one("a#delete-release").get("href")
    assert href == f"{page_path(name, '2.0')}/delete", href
    r = mia.submit(confirm_page(mia, href, reason=False), "form#confirm")
    assert r.status_code == 303, describe(r)
    assert location_path(r) in (page_path(name), page_path(name, "1.0")), describe(r)
    assert set(index_files(web, name)) == {d.filename for d in dists["1.0"]}
    mia.page(page_path(name, "2.0"), status=404)
    assert mia.page(page_path(name)).one("span#package-version").stripped == "1.0"

    href = mia.page(page_path(name, "1.0")).one("a#delete-release").get("href")
    r = mia.submit(confirm_page(mia, href, reason=False), "form#confirm")
    assert r.status_code == 303 and location_path(r) == "/acme/lib", \
        f"the last release went: the project page is where to go\n{describe(r)}"
    assert index_files(web, name) is None
    mia.page(page_path(name), status=404)
    assert page_path(name) not in {a.get("href") for a in mia.page("/acme/lib").all("ul#packages li a")}


# ---------------------------------------------------------------- everyone else

def actions_of(web, name, dists) -> list[tuple[str, dict]]:
    alice = visitor(web, "alice")
    page = alice.page(page_path(name, "1.0"))
    file_href = file_row(page, dists["1.0"][1].filename).select_one("a.delete-file").get("href")
    v = page_path(name, "1.0")
    return [(f"{v}/yank", {"reason": "not mine to yank"}), (f"{v}/unyank", {}), (f"{v}/delete", {}),
            (file_href, {})]


@pytest.mark.parametrize("who,status", [("dave", 403), ("rita", 403), ("otto", 404)])
def test_who_may_not_maintain_gets_no_links_and_changes_nothing(web, who, status):
    name, dists = publish(web, "guard")
    actions = actions_of(web, name, dists)
    before = index_files(web, name)
    c = visitor(web, who)
    if status == 403:
        page = c.page(page_path(name, "1.0"))
        for css in ("a#yank", "a#unyank", "a#delete-release", "a.delete-file"):
            assert not page.has(css), f"{who} sees {css}"
    token = c.page(TOKENS).form_token("form#new-token")  # a valid form token of theirs
    for path, data in actions:
        r = c.post(path, data={**data, "authenticity_token": token})
        assert r.status_code == status, f"{who}: {path}\n{describe(r)}"
        assert r.headers.get("Content-Type", "").startswith("text/html"), describe(r)
    assert index_files(web, name) == before
    assert visitor(web, "alice").page(page_path(name, "1.0")).has("table#files tbody tr")


def test_anonymous_posts_change_nothing(web):
    name, dists = publish(web, "anon")
    before = index_files(web, name)
    for path, data in actions_of(web, name, dists):
        r = WebClient(web.server.base).post(path, data=data,
                                            headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code in (403, 404), describe(r)
    assert index_files(web, name) == before


# ---------------------------------------------------------------- personal access tokens

def token_rows(page: Page) -> dict[str, object]:
    """name -> the row of each active token."""
    out = {}
    for tr in page.all("table#active-tokens tbody tr[data-token-id]"):
        out[tr.select("td")[0].stripped] = tr
    return out


def api_as(web, secret):
    return web.server.get("user", headers={"PRIVATE-TOKEN": secret})


def test_the_token_form(web):
    page = visitor(web, "mia").page(TOKENS)
    form = page.one("form#new-token")
    assert (form.get("method") or "").lower() == "post" and form.get("action") == TOKENS, form
    page.one("form#new-token input[name=name]")
    for scope in ("api", "read_api"):
        assert page.one(f"form#new-token input[name=scopes][value={scope}]").get("type") == "checkbox"
    assert page.one("form#new-token input[name=expires_at]").get("type") == "date"
    page.one("form#new-token #create-token")
    assert page.form_token("form#new-token")


def test_a_token_is_created_shown_once_used_and_revoked(web):
    mia = visitor(web, "mia")
    expires = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    r = mia.submit(mia.page(TOKENS), "form#new-token",
                   {"name": "made-on-the-page", "scopes": ["api"], "expires_at": expires})
    made = Page(r)
    assert made.status == 200, made.describe()
    assert made.response.headers.get("Cache-Control") == "no-store"
    field = made.one("input#new-token-value")
    assert "readonly" in field.attrs, field
    secret = field.get("value")
    assert secret and len(secret) >= 20, field

    me = api_as(web, secret)
    assert me.status_code == 200 and me.json()["username"] == "mia", describe(me)
    name = f"wh-by-web-token-{next(_seq)}"
    d = wheel(name, "1.0")
    up = web.server.upload(web.pid("acme/lib"), d.data, d.filename, name=name, version="1.0",
                           auth=("__token__", secret))
    assert up.status_code == 201, describe(up)

    again = mia.page(TOKENS)
    assert secret not in again.text, "the secret is shown again"
    assert not again.has("input#new-token-value")
    row = token_rows(again)["made-on-the-page"]
    assert "api" in row.stripped and expires in row.stripped, row

    r = mia.submit(again, f"tr[data-token-id={row.get('data-token-id')}] form.revoke")
    assert r.status_code == 303 and location_path(r) == TOKENS, describe(r)
    assert "made-on-the-page" not in token_rows(mia.page(TOKENS))
    assert api_as(web, secret).status_code == 401


def test_a_read_api_token_from_the_page_reads_but_cannot_upload(web):
    rita = visitor(web, "rita")
    r = rita.submit(rita.page(TOKENS), "form#new-token", {"name": "reader", "scopes": ["read_api"]})
    secret = Page(r).one("input#new-token-value").get("value")
    wh = web.server
    read = wh.get(f"{wh.project_url(web.pid('acme/lib'))}/simple/", auth=("__token__", secret))
    assert read.status_code == 200, describe(read)
    d = wheel("wh-read-only", "1.0")
    up = wh.upload(web.pid("acme/lib"), d.data, d.filename, name="wh-read-only", version="1.0",
                   auth=("__token__", secret))
    assert up.status_code == 403, describe(up)
    assert "read_api" in token_rows(rita.page(TOKENS))["reader"].stripped


def test_nobody_sees_or_revokes_anothers_token(web):
    wh = web.server
    ottos = wh.token("otto", "api", name="ottos-own")
    mia = visitor(web, "mia")
    page = mia.page(TOKENS)
    ids = {tr.get("data-token-id") for tr in page.all("table#active-tokens tbody tr[data-token-id]")}
    assert str(ottos["id"]) not in ids and "ottos-own" not in page.text, page.describe()
    r = mia.post(f"{TOKENS}/{ottos['id']}/revoke",
                 data={"authenticity_token": page.form_token("form#new-token")})
    assert r.status_code in (403, 404), describe(r)
    assert api_as(web, ottos["token"]).status_code == 200, "mia revoked otto's token"
    otto = visitor(web, "otto")
    assert "ottos-own" in token_rows(otto.page(TOKENS))


@pytest.mark.xfail(reason="spec: a token's row shows when it was created; the page has name, "
                          "scopes and expiry only (reported to the lead)", strict=False)
def test_a_tokens_row_says_when_it_was_created(web):
    wh = web.server
    wh.token("rita", "api", name="dated")
    row = token_rows(visitor(web, "rita").page(TOKENS))["dated"]
    today = {datetime.date.today().isoformat(),
             datetime.datetime.now(datetime.timezone.utc).date().isoformat()}
    assert any(d in row.stripped for d in today), f"no created date in the row: {row.stripped!r}"
