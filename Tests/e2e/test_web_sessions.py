"""The web interface's sessions (issue 14), over plain HTTP: the sign-in form and its double-submit
CSRF cookie, the session cookie's attributes (Secure behind an https --external-url), a new
session id on every sign-in, sign-out ending the session on the server, sessions kept in the
database as a digest (they work across instances and expire after a day idle or a week in all:
the tests move the clock by editing the session's row), CSRF and Origin checks on every form,
sign-in throttling per account and per address with answers that never tell whether a user
exists, and redirect_to only ever to a local path.

conftest's `web` fixture is this module's own server and users; the throttling tests start a
server each (they use up the address's allowance)."""
from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import re
import time
import urllib.parse

import pytest

from browser import (CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE, Page, WebClient, describe,
                     db_rows, give_password, location_path, set_cookie, visitor,
                     wait_until)
from distributions import wheel
from whlib import Wheelhouse, set_password

FORM_TOKEN_MESSAGE = "Invalid or missing form token: reload the page and try again."
INVALID = "Invalid login or password."
TOKENS = "/-/user_settings/personal_access_tokens"
FORM = "application/x-www-form-urlencoded"
# The schema keeps every timestamp in microseconds since the epoch.
HOUR_US = 3600 * 1_000_000
DAY_US = 24 * HOUR_US


# ---------------------------------------------------------------- the database under the server

def digests_of(cookie: str) -> set[str]:
    """The sha256 hex a session table may keep for this cookie: of the cookie's text, or of the
    32 bytes it encodes."""
    raw = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))
    return {hashlib.sha256(cookie.encode()).hexdigest(), hashlib.sha256(raw).hexdigest()}


def session_digest(wh: Wheelhouse, cookie: str) -> str:
    """The id_digest of this cookie's row, which must exist."""
    have = {row[0] for row in db_rows(wh, "SELECT id_digest FROM web_sessions")}
    found = digests_of(cookie) & have
    assert len(found) == 1, (f"no web_sessions row whose id_digest is the sha256 of the cookie "
                             f"{cookie!r}; rows: {sorted(have)}")
    return found.pop()


def age_session(wh: Wheelhouse, cookie: str, *, created_ago_us: int, seen_ago_us: int):
    """Move the session's clock: created_at and last_seen_at set that long before now."""
    digest = session_digest(wh, cookie)
    now = int(time.time() * 1_000_000)
    (row,) = db_rows(wh, f"SELECT created_at FROM web_sessions WHERE id_digest = '{digest}'")
    assert abs(int(row[0]) - now) < HOUR_US, \
        f"created_at {row[0]} is not microseconds since the epoch (now: {now})"
    db_rows(wh, f"UPDATE web_sessions SET created_at = {now - created_ago_us}, "
                f"last_seen_at = {now - seen_ago_us} WHERE id_digest = '{digest}'")
    (row,) = db_rows(wh, f"SELECT created_at, last_seen_at FROM web_sessions "
                         f"WHERE id_digest = '{digest}'")
    assert int(row[0]) == now - created_ago_us and int(row[1]) == now - seen_ago_us, row


def is_signed_in(base: str, cookie: str, as_user: str) -> bool:
    """Whether a fresh client holding only this session cookie is `as_user` on the home page,
    and may open the token page (an anonymous visitor is sent to sign in): both, or neither."""
    c = WebClient(base)
    c.set_session_cookie(cookie)
    who = c.signed_in_as()
    tokens = c.get(TOKENS)
    if who is None:
        assert tokens.status_code == 303, describe(tokens)
        assert location_path(tokens).startswith("/users/sign_in"), describe(tokens)
        return False
    assert who == as_user, f"signed in as {who!r}, expected {as_user!r}"
    assert tokens.status_code == 200, describe(tokens)
    return True


def opens_token_page(base: str, cookie: str) -> bool:
    """Whether a client holding only this session cookie may open the token page (one request:
    for polling an instance whose cached lookup may go stale between two)."""
    c = WebClient(base)
    c.set_session_cookie(cookie)
    r = c.get(TOKENS)
    assert r.status_code in (200, 303), describe(r)
    return r.status_code == 200


# ---------------------------------------------------------------- the form and the cookies

def test_sign_in_form_has_its_fields_and_a_double_submit_csrf_cookie(web):
    c = WebClient(web.server.base)
    page = c.page("/users/sign_in?redirect_to=%2Facme%2Flib")
    form = page.one("form#sign-in")
    assert (form.get("method") or "").lower() == "post", form
    assert form.get("action") in ("/users/sign_in", None, ""), form
    page.one("form#sign-in input[name=login]")
    assert page.one("form#sign-in input[name=password]").get("type") == "password"
    assert page.one("form#sign-in input[name=redirect_to]").get("value") == "/acme/lib"
    page.one("button#sign-in-button")
    field = page.form_token("form#sign-in")
    cookie = set_cookie(page.response, CSRF_COOKIE)
    assert cookie is not None, page.describe()
    assert cookie.value == field and len(field) >= 22, (cookie.raw, field)
    assert cookie.has("httponly") and cookie.attrs.get("samesite", "").lower() == "lax", cookie.raw
    assert page.response.headers.get("Cache-Control") == "no-store", page.describe()
    assert set_cookie(page.response, SESSION_COOKIE) is None, page.describe()
    other = WebClient(web.server.base).page("/users/sign_in").form_token("form#sign-in")
    assert other != field, "two visitors were given the same form token"


def test_sign_in_sets_a_session_cookie_with_safe_attributes(web):
    c = WebClient(web.server.base)
    r = c.sign_in("alice", web.password["alice"])
    assert location_path(r) == "/", describe(r)
    cookie = set_cookie(r, SESSION_COOKIE)
    assert cookie is not None, describe(r)
    assert re.fullmatch(r"[0-9a-f]{64}", cookie.value), cookie.raw  # 32 random bytes, hex
    assert cookie.attrs.get("path") == "/", cookie.raw
    assert cookie.has("httponly"), cookie.raw
    assert cookie.attrs.get("samesite", "").lower() == "lax", cookie.raw
    assert not cookie.has("secure"), f"Secure over plain http with no https --external-url: {cookie.raw}"
    assert not cookie.has("max-age") and not cookie.has("expires"), \
        f"the session cookie should last as long as the browser session: {cookie.raw}"
    assert c.signed_in_as() == "alice"
    home = c.page("/")
    assert not home.has("a#sign-in"), home.describe()
    assert home.one("a#tokens-link").get("href") == TOKENS
    assert home.one("form#sign-out").get("action") == "/users/sign_out"
    home.one("form#sign-out button#sign-out-button")


def test_the_session_is_kept_as_a_digest_never_the_raw_id(web):
    c = visitor(web, "rita")
    cookie = c.session_cookie
    session_digest(web.server, cookie)  # the row exists, keyed by the sha256 of the cookie
    raw_hex = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4)).hex()
    for row in db_rows(web.server, "SELECT * FROM web_sessions"):
        for value in row:
            assert cookie not in value and raw_hex not in value.lower(), \
                f"the raw session id is in the database: {row}"


def test_secure_cookie_when_the_external_url_is_https(make_server):
    wh = make_server("--external-url", "https://wheelhouse.example", name="https")
    wh.user("hanna")
    give_password(wh, "hanna", "hanna's secret words")
    c = WebClient(wh.base)
    page = c.page("/users/sign_in")
    token = page.form_token("form#sign-in")
    csrf = set_cookie(page.response, CSRF_COOKIE)
    # requests keeps a Secure cookie away from plain http: send it by hand, as a browser behind
    # the https proxy would.
    r = c.http.post(f"{wh.base}/users/sign_in", allow_redirects=False, timeout=30,
                    data={CSRF_FIELD: token, "login": "hanna", "password": "hanna's secret words",
                          "redirect_to": ""},
                    headers={"Cookie": f"{CSRF_COOKIE}={csrf.value}"})
    assert r.status_code == 303, describe(r)
    cookie = set_cookie(r, SESSION_COOKIE)
    assert cookie is not None and cookie.has("secure"), describe(r)
    assert cookie.has("httponly") and cookie.attrs.get("samesite", "").lower() == "lax", cookie.raw


# ---------------------------------------------------------------- session ids

def test_sign_in_makes_a_new_session_id_and_drops_the_old_one(web):
    base = web.server.base
    c = WebClient(base)
    planted = base64.urlsafe_b64encode(b"\x07" * 32).rstrip(b"=").decode()
    c.set_session_cookie(planted)  # a fixation attempt: an id chosen before sign-in
    c.sign_in("mia", web.password["mia"])
    first = c.session_cookie
    assert first and first != planted, (first, planted)
    assert is_signed_in(base, first, "mia")
    assert not is_signed_in(base, planted, "mia")

    first_digest = session_digest(web.server, first)
    c.sign_in("mia", web.password["mia"])  # signing in again, with the first cookie sent along
    second = c.session_cookie
    assert not db_rows(web.server, f"SELECT 1 FROM web_sessions WHERE id_digest = '{first_digest}'"), \
        "the replaced session's row is still in the database"
    assert second and second not in (first, planted), (first, second)
    assert is_signed_in(base, second, "mia")
    assert not is_signed_in(base, first, "mia"), "the session the sign-in replaced still works"

    other = WebClient(base)  # someone else's sign-in on that browser: a new id again
    other.set_session_cookie(second)
    other.sign_in("rita", web.password["rita"])
    assert other.session_cookie != second
    assert is_signed_in(base, other.session_cookie, "rita")


def test_sign_out_ends_the_session_on_the_server(web):
    base = web.server.base
    c = visitor(web, "dave")
    cookie = c.session_cookie
    digest = session_digest(web.server, cookie)
    r = c.sign_out()
    assert location_path(r) == "/", describe(r)
    cleared = set_cookie(r, SESSION_COOKIE)
    assert cleared is not None and cleared.attrs.get("max-age") == "0", describe(r)
    assert c.signed_in_as() is None
    assert not db_rows(web.server, f"SELECT user_id FROM web_sessions WHERE id_digest = '{digest}'")
    assert not is_signed_in(base, cookie, "dave"), "the cookie still works after sign-out"


def test_sessions_work_across_instances(web, tmp_path):
    """A second instance on the same database (and blobs) knows the sessions of the first."""
    a = web.server
    b = Wheelhouse(a.binary, a.data_dir, tmp_path / "b.log", database_url=a.database_url,
                   blob_dir=a.blob_dir).start()
    try:
        c = visitor(web, "rita")  # signed in on A
        cookie = c.session_cookie
        assert is_signed_in(b.base, cookie, "rita")
        assert is_signed_in(a.base, cookie, "rita")
        on_b = WebClient(b.base)
        on_b.set_session_cookie(cookie)
        on_b.sign_out()
        assert not is_signed_in(b.base, cookie, "rita")
        # A may have looked the session up a moment ago: it must let go within a few seconds
        wait_until(lambda: not opens_token_page(a.base, cookie), timeout=5,
                   message="signed out on B, still signed in on A after 5 s")
        assert not is_signed_in(a.base, cookie, "rita")
    finally:
        assert b.stop() == 0, b.log_tail()


@pytest.mark.parametrize("how", ["cli", "rest"])
def test_a_new_password_ends_the_users_sessions(make_server, how):
    """An operator (`wheelhouse user password`) or an administrator (PUT /api/v4/users/:id)
    setting a password signs the user out everywhere; the new password signs in, the old not."""
    wh = make_server(name=f"repass-{how}")
    user = wh.user("vera")
    wh.user("root", admin=True)
    root = wh.token("root", "api")["token"]
    set_password(wh, "vera", "vera's first password")
    phone, laptop = WebClient(wh.base), WebClient(wh.base)
    phone.sign_in("vera", "vera's first password")
    laptop.sign_in("vera", "vera's first password")
    assert is_signed_in(wh.base, phone.session_cookie, "vera")
    if how == "cli":
        set_password(wh, "vera", "vera's second password")
    else:
        r = wh.http.put(f"{wh.api}/users/{user['id']}", json={"password": "vera's second password"},
                        headers={"PRIVATE-TOKEN": root}, timeout=30)
        assert r.status_code == 200 and "password" not in r.text, describe(r)
    for c in (phone, laptop):
        wait_until(lambda: not opens_token_page(wh.base, c.session_cookie), timeout=5,
                   message="a session outlived the new password")
    WebClient(wh.base).sign_in("vera", "vera's first password", expect=401)
    WebClient(wh.base).sign_in("vera", "vera's second password", expect=303)


# ---------------------------------------------------------------- expiry

@pytest.mark.parametrize("created_ago,seen_ago,valid", [
    (23 * HOUR_US, 23 * HOUR_US, True),     # idle 23 hours: still signed in
    (25 * HOUR_US, 25 * HOUR_US, False),    # idle over a day
    (6 * DAY_US, 60 * 1_000_000, True),          # six days old, used a minute ago
    (8 * DAY_US, 60 * 1_000_000, False),         # over a week old, however recently used
], ids=["idle-23h", "idle-25h", "age-6d", "age-8d"])
def test_sessions_expire_idle_after_a_day_and_after_a_week_in_all(web, created_ago, seen_ago,
                                                                   valid):
    """The row is aged before the cookie is first used, so no instance holds a lookup of it from
    before; the cases that stay valid show that an aged row as such still signs in."""
    c = visitor(web, "mia")
    cookie = c.session_cookie
    age_session(web.server, cookie, created_ago_us=created_ago, seen_ago_us=seen_ago)
    assert is_signed_in(web.server.base, cookie, "mia") == valid
    if not valid:  # and stays out, whatever the row says now
        assert not is_signed_in(web.server.base, cookie, "mia")


# ---------------------------------------------------------------- what a session may do

def test_a_session_reads_pypi_routes_but_never_writes_rest_or_uploads(web, web_as):
    wh = web.server
    c = web_as("alice")
    pid = web.pid("acme/lib")
    simple = c.get(f"{wh.project_url(pid)}/simple/wh-yanked")
    assert simple.status_code == 200 and "wh_yanked-1.0" in simple.text, describe(simple)
    dist = web.files[("wh-yanked", "1.0")]
    r = c.get(f"{wh.project_url(pid)}/files/{dist.sha256}/{dist.filename}")
    assert r.status_code == 200 and r.content == dist.data, describe(r)
    assert WebClient(wh.base).get(f"{wh.project_url(pid)}/simple/wh-yanked").status_code == 401

    d = wheel("wh-by-cookie", "1.0")
    up = wh.upload(pid, d.data, d.filename, name="wh-by-cookie", version="1.0",
                   headers={"Cookie": f"{SESSION_COOKIE}={c.session_cookie}"})
    assert up.status_code == 401, describe(up)
    for method, path, body in (("POST", "/api/v4/groups", {"name": "bycookie", "path": "bycookie"}),
                               ("PUT", f"{wh.project_url(pid)}/yank",
                                {"name": "wh-yanked", "version": "1.0"})):
        r = c.http.request(method, path if path.startswith("http") else wh.base + path, json=body,
                           timeout=30, allow_redirects=False)
        assert r.status_code == 401, describe(r)
    listing = wh.get(f"{wh.project_url(pid)}/simple", auth=web.alice)
    assert "wh-by-cookie" not in listing.text


# ---------------------------------------------------------------- CSRF and Origin

def assert_form_token_refused(r):
    assert r.status_code == 403, describe(r)
    assert FORM_TOKEN_MESSAGE in r.text, describe(r)
    assert r.headers.get("Content-Type", "").startswith("text/html"), describe(r)


def test_sign_in_without_the_double_submit_pair_is_refused(web):
    base = web.server.base
    page = WebClient(base).page("/users/sign_in")
    token = page.form_token("form#sign-in")
    fields = {"login": "alice", "password": web.password["alice"], "redirect_to": ""}
    # no field, no cookie; a field but no cookie; a cookie and another value in the field
    cases = [({}, {}), ({CSRF_FIELD: token}, {}),
             ({CSRF_FIELD: token[::-1]}, {CSRF_COOKIE: token})]
    for field, cookies in cases:
        c = WebClient(base)
        for k, v in cookies.items():
            c.http.cookies.set(k, v, domain="127.0.0.1", path="/")
        r = c.post("/users/sign_in", data={**fields, **field}, headers={"Content-Type": FORM})
        assert_form_token_refused(r)
        assert set_cookie(r, SESSION_COOKIE) is None, describe(r)


@pytest.fixture
def alice(web_as):
    return web_as("alice")


def token_rows(c: WebClient) -> dict[str, str]:
    """name -> token id of the active tokens on the token page."""
    page = c.page(TOKENS)
    out = {}
    for tr in page.all("table#active-tokens tbody tr[data-token-id]"):
        tds = tr.select("td")
        out[tds[0].stripped if tds else ""] = tr.get("data-token-id")
    return out


def api_user(wh, token) -> int:
    return wh.get("user", headers={"PRIVATE-TOKEN": token}).status_code


def yanked_reason(wh, auth, pid, name, version):
    r = wh.get(f"{wh.project_url(pid)}/simple/{name}", auth=auth,
               headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    assert r.status_code == 200, describe(r)
    files = [f for f in r.json()["files"] if f"-{version}" in f["filename"]]
    assert files, r.text
    return {f["filename"]: f.get("yanked") for f in files}


@pytest.mark.parametrize("tamper", ["missing", "wrong", "another_session"])
def test_every_form_refuses_a_missing_or_wrong_token(web, web_as, alice, tamper):
    wh = web.server
    pid = web.pid("acme/lib")
    pkg = "/acme/lib/-/packages/wh-yanked/1.0"
    other = web_as("mia").page(TOKENS).form_token("form#new-token")
    page = alice.page(TOKENS)
    good = page.form_token("form#new-token")
    assert other != good, "two sessions have one form token"
    victim = wh.token("alice", "api", name="csrf-victim")
    victim_id = str(victim["id"])
    assert victim_id in token_rows(alice).values()
    file_id_page = alice.page(pkg)
    delete_links = [a.get("href") for a in file_id_page.all("a.delete-file")]
    assert delete_links, file_id_page.describe()

    def token_value():
        return {"missing": None, "wrong": good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
                "another_session": other}[tamper]

    actions = [
        (TOKENS, {"name": "csrf-made", "scopes": "api"}),
        (f"{TOKENS}/{victim_id}/revoke", {}),
        (f"{pkg}/yank", {"reason": "csrf"}),
        (f"{pkg}/delete", {}),
        (delete_links[0], {}),
        ("/users/sign_out", {}),
    ]
    before = yanked_reason(wh, web.alice, pid, "wh-yanked", "1.0")
    for path, data in actions:
        body = dict(data)
        if token_value() is not None:
            body[CSRF_FIELD] = token_value()
        r = alice.post(path, data=body, headers={"Content-Type": FORM})
        assert_form_token_refused(r)
    assert "csrf-made" not in token_rows(alice)
    assert api_user(wh, victim["token"]) == 200, "the token was revoked by a forged form"
    assert yanked_reason(wh, web.alice, pid, "wh-yanked", "1.0") == before
    assert alice.page(pkg).has("table#files tbody tr")
    assert alice.signed_in_as() == "alice", "a forged sign-out ended the session"


def test_a_cross_origin_post_is_refused_even_with_the_right_token(web, alice):
    page = alice.page(TOKENS)
    for origin in ("http://evil.example", "null", web.server.base.replace("127.0.0.1", "localhost")):
        r = alice.submit(page, "form#new-token", {"name": "cross-origin", "scopes": "api"},
                         headers={"Origin": origin})
        assert r.status_code == 403, f"Origin {origin}\n{describe(r)}"
    assert "cross-origin" not in token_rows(alice)
    anon = WebClient(web.server.base)
    answer = anon.submit(anon.page("/users/sign_in"), "form#sign-in",
                         {"login": "alice", "password": web.password["alice"]},
                         headers={"Origin": "http://evil.example"})
    assert answer.status_code == 403 and set_cookie(answer, SESSION_COOKIE) is None, describe(answer)
    # control: the same form from this server's own origin goes through
    same = alice.submit(alice.page(TOKENS), "form#new-token", {"name": "same-origin", "scopes": "api"},
                        headers={"Origin": web.server.base})
    assert same.status_code == 200, describe(same)
    assert "same-origin" in token_rows(alice)


# ---------------------------------------------------------------- redirect_to

@pytest.mark.parametrize("asked,lands", [
    ("/-/search?q=rich", "/-/search?q=rich"),
    ("//evil.example/acme", "/"),
    ("https://evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
])
def test_sign_in_redirects_only_to_a_local_path(web, asked, lands):
    c = WebClient(web.server.base)
    r = c.sign_in("otto", web.password["otto"], redirect_to=asked)
    loc = r.headers["Location"]
    parts = urllib.parse.urlsplit(loc)
    assert parts.netloc in ("", urllib.parse.urlsplit(web.server.base).netloc), loc
    assert "\\" not in loc and not loc.startswith("//"), loc
    assert location_path(r) == lands, f"redirect_to={asked!r}: Location {loc!r}"


def test_the_token_page_sends_an_anonymous_visitor_to_sign_in_and_back(web):
    c = WebClient(web.server.base)
    r = c.get(TOKENS)
    assert r.status_code == 303, describe(r)
    loc = urllib.parse.urlsplit(r.headers["Location"])
    assert loc.path == "/users/sign_in", describe(r)
    assert urllib.parse.parse_qs(loc.query).get("redirect_to") == [TOKENS], describe(r)
    form = c.page(location_path(r))
    assert form.one("form#sign-in input[name=redirect_to]").get("value") == TOKENS
    r = c.submit(form, "form#sign-in", {"login": "rita", "password": web.password["rita"]})
    assert r.status_code == 303 and location_path(r) == TOKENS, describe(r)
    c.page(TOKENS)


# ---------------------------------------------------------------- failed sign-ins and throttling

def normalised(r, login: str) -> tuple:
    """An answer with what may differ between two sign-ins taken out: form tokens and cookie
    values, the Date, and the login echoed in the form."""
    body = r.text
    for token in re.findall(r'name="?authenticity_token"?[^>]*value="([^"]*)"', body) + \
            re.findall(r'value="([^"]*)"[^>]*name="?authenticity_token"?', body):
        body = body.replace(token, "TOKEN")
    body = body.replace(login, "LOGIN")
    headers = sorted((k.lower(), v) for k, v in r.headers.items()
                     if k.lower() not in ("set-cookie", "date", "x-request-id"))
    cookies = sorted((c.name, sorted(c.attrs.items())) for c in
                     [set_cookie(r, CSRF_COOKIE), set_cookie(r, SESSION_COOKIE)] if c is not None)
    return r.status_code, headers, cookies, body


def test_a_failed_sign_in_never_says_whether_the_user_exists(web):
    """Wrong password, unknown user, user without a password: one answer, byte for byte (logins
    of one length, so that even Content-Length cannot tell)."""
    base = web.server.base
    answers = {}
    for login, password in (("rita", "not rita's password"), ("zyxw", "not rita's password"),
                            ("nopw", "not rita's password"), ("RITA", "not rita's password")):
        r = WebClient(base).sign_in(login, password, expect=401)
        page = Page(r)
        assert page.one("p#flash-alert").stripped == INVALID, page.describe()
        page.one("form#sign-in input[name=password]")
        assert set_cookie(r, SESSION_COOKIE) is None, describe(r)
        answers[login] = normalised(r, login)
    first = answers["rita"]
    for login, got in answers.items():
        assert got == first, f"the answer for {login!r} differs from the one for 'rita':\n{got}\n{first}"
    assert web.password["rita"] not in "".join(str(a) for a in answers.values())


@pytest.fixture
def throttled_server(make_server):
    """A server of the test's own (the throttle counts this address's failures), with tess."""
    wh = make_server(name="throttle")
    wh.user("tess")
    give_password(wh, "tess", "tess's real password")
    return wh


def sign_in_once(wh, login, password):
    return WebClient(wh.base).sign_in(login, password, expect=None)


def failures(wh) -> dict[str, int]:
    return {k: int(n) for k, n in db_rows(wh, "SELECT throttle_key, failures FROM sign_in_failures")}


def seed_failures(wh, key: str, count: int, started_ago_us: int = 0):
    """Put `count` failures on the throttle key, its window begun that long ago."""
    start = int(time.time() * 1_000_000) - started_ago_us
    db_rows(wh, "INSERT INTO sign_in_failures (throttle_key, failures, window_start) "
                f"VALUES ('{key}', {count}, {start}) ON CONFLICT (throttle_key) DO UPDATE SET "
                "failures = excluded.failures, window_start = excluded.window_start")


def assert_throttled(r, most_seconds=15 * 60):
    assert r.status_code == 429, describe(r)
    retry = r.headers.get("Retry-After", "")
    assert retry.isdigit() and 0 < int(retry) <= most_seconds, describe(r)
    m = re.search(r"Too many sign-in attempts: try again in (\d+) minutes?\.", r.text)
    assert m and 1 <= int(m.group(1)) <= 15, describe(r)
    assert int(m.group(1)) * 60 >= int(retry), f"says {m.group(1)} minutes, Retry-After {retry}"
    assert set_cookie(r, SESSION_COOKIE) is None, describe(r)


def test_the_eleventh_failure_for_an_account_is_429_even_with_the_right_password(throttled_server):
    """Ten failures, eight of them at once (as many as the server lets wait for a check), in
    three spellings of the login: each counted (one account), none lost to the race, and the
    eleventh attempt is refused whatever its password."""
    wh = throttled_server
    answers = []
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for wave in (range(8), range(8, 10)):
            answers += pool.map(lambda i: sign_in_once(wh, ("tess", "TESS", "Tess")[i % 3],
                                                       f"wrong password {i}"), wave)
    assert [r.status_code for r in answers] == [401] * 10, [describe(r) for r in answers if r.status_code != 401]
    assert failures(wh) == {"login:tess": 10, "ip:127.0.0.1": 10}
    assert_throttled(sign_in_once(wh, "tess", "tess's real password"))
    assert_throttled(sign_in_once(wh, "Tess", "still wrong"))
    # the throttle is the account's: another login from the same address still gets in
    wh.user("uma")
    give_password(wh, "uma", "uma's real password")
    assert sign_in_once(wh, "uma", "uma's real password").status_code == 303


def test_a_burst_of_sign_ins_is_turned_away_and_the_rest_of_the_server_goes_on(throttled_server):
    """Sixteen sign-ins at once: those past the few the server lets wait for a password check
    are told to come back (429, Retry-After), none is a 5xx, and pages read the database meanwhile."""
    wh = throttled_server
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        burst = [pool.submit(sign_in_once, wh, f"caller{i:02d}", "guess") for i in range(16)]
        pages = [pool.submit(WebClient(wh.base).get, "/-/search?q=anything") for _ in range(4)]
        answers = [f.result() for f in burst]
        read = [f.result() for f in pages]
    assert all(r.status_code == 200 for r in read), [describe(r) for r in read if r.status_code != 200]
    codes = sorted(r.status_code for r in answers)
    assert set(codes) <= {401, 429} and 401 in codes, codes
    for r in answers:
        if r.status_code == 429:
            assert r.headers.get("Retry-After", "").isdigit(), describe(r)
            assert set_cookie(r, SESSION_COOKIE) is None


def test_failures_count_per_account_and_address_and_a_success_clears_the_account(throttled_server):
    wh = throttled_server
    assert sign_in_once(wh, "Tess", "wrong").status_code == 401
    assert sign_in_once(wh, "ghost", "wrong").status_code == 401  # unknown users count too
    assert failures(wh) == {"login:tess": 1, "login:ghost": 1, "ip:127.0.0.1": 2}
    seed_failures(wh, "login:tess", 9)
    assert sign_in_once(wh, "tess", "tess's real password").status_code == 303
    assert "login:tess" not in failures(wh), failures(wh)
    assert sign_in_once(wh, "tess", "wrong again").status_code == 401
    assert failures(wh)["login:tess"] == 1, "the count did not start over after the success"


def test_fifty_failures_from_one_address_throttle_every_account(throttled_server):
    wh = throttled_server
    seed_failures(wh, "ip:127.0.0.1", 49)
    assert sign_in_once(wh, "someone", "guess").status_code == 401  # the fiftieth
    assert failures(wh)["ip:127.0.0.1"] == 50
    assert_throttled(sign_in_once(wh, "tess", "tess's real password"))


def test_the_throttle_window_is_fifteen_minutes(throttled_server):
    wh = throttled_server
    minute = 60 * 1_000_000
    seed_failures(wh, "login:tess", 10, started_ago_us=14 * minute)
    assert_throttled(sign_in_once(wh, "tess", "tess's real password"), most_seconds=2 * 60)
    seed_failures(wh, "login:tess", 10, started_ago_us=16 * minute)
    assert sign_in_once(wh, "tess", "tess's real password").status_code == 303


def test_an_unknown_account_is_throttled_alike(throttled_server):
    wh = throttled_server
    for key in ("login:tess", "login:zyxw"):
        seed_failures(wh, key, 10)
    tess, unknown = sign_in_once(wh, "tess", "wrong"), sign_in_once(wh, "zyxw", "wrong")
    assert_throttled(tess)
    assert_throttled(unknown)
    a, b = normalised(tess, "tess"), normalised(unknown, "zyxw")
    a, b = [(x[0], [(k, "N" if k == "retry-after" else v) for k, v in x[1]], x[2],
             re.sub(r"\b\d+\b", "N", x[3])) for x in (a, b)]
    assert a == b, f"a throttled unknown account answers differently:\n{a}\n{b}"
