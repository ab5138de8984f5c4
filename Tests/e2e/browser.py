"""The two browsers of the web interface's tests (issue 14).

`WebClient` is a browser without a browser: requests with a cookie jar, pages parsed into a small
DOM that CSS selectors query (`Page.one("table#files tbody tr")`), forms submitted with their own
hidden fields (the `authenticity_token` among them) as a browser would send them. The HTTP-level
tests (test_web_*.py) use it to check headers, cookies, CSRF, throttling and what a page says.

`Chrome` is the real thing: Debian's headless Chromium driven through its chromedriver by
selenium 4, with the browser console kept (a CSP violation shows up there), the clipboard allowed,
and screenshots at 1280x900. `require_chrome()` fails a test when the browser is missing and
WHEELHOUSE_REQUIRE_BROWSER=1 (scripts/test sets it, after installing Chromium), and skips it
otherwise, so a developer without Chromium still runs the HTTP-level tests.

Nothing here starts a Wheelhouse: whlib.Wheelhouse does, and both browsers are pointed at its
`base` URL."""
from __future__ import annotations

import base64
import hashlib
import html.parser
import os
import re
import shutil
import sqlite3
import time
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
import requests

import postgres_cluster

REPO = Path(__file__).resolve().parents[2]
SESSION_COOKIE = "_wheelhouse_session"
CSRF_COOKIE = "_wheelhouse_csrf"
CSRF_FIELD = "authenticity_token"


# ---------------------------------------------------------------- a small DOM

VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
# A start tag of one of these closes an open element of the same family in the same parent
# (HTML's implied end tags for the elements a page of lists and tables uses).
SIBLING_CLOSES = {"li": {"li"}, "p": {"p"}, "tr": {"tr"}, "td": {"td", "th"}, "th": {"td", "th"},
                  "dt": {"dt", "dd"}, "dd": {"dt", "dd"}, "option": {"option"}}


@dataclass(eq=False)
class Element:
    """One element: its tag, attributes (the first of a repeated one wins, as in browsers),
    children (elements and text strings) and parent."""
    tag: str
    attrs: dict[str, str]
    parent: "Element | None" = None
    children: list = field(default_factory=list)

    def get(self, name: str, default=None):
        return self.attrs.get(name, default)

    @property
    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()

    @property
    def text(self) -> str:
        """All the text inside, as a browser's textContent."""
        out = []
        for c in self.children:
            out.append(c if isinstance(c, str) else c.text)
        return "".join(out)

    @property
    def stripped(self) -> str:
        """The text with runs of white space made one space, trimmed."""
        return " ".join(self.text.split())

    def elements(self):
        """Every element below this one, in document order."""
        for c in self.children:
            if isinstance(c, Element):
                yield c
                yield from c.elements()

    def ancestors(self):
        p = self.parent
        while p is not None:
            yield p
            p = p.parent

    def select(self, css: str) -> list["Element"]:
        """The elements below this one that match `css` (see Selector), in document order."""
        groups = Selector.parse(css)
        return [e for e in self.elements() if any(g.matches(e) for g in groups)]

    def select_one(self, css: str) -> "Element | None":
        found = self.select(css)
        return found[0] if found else None

    def __repr__(self):
        attrs = "".join(f' {k}="{v}"' for k, v in self.attrs.items())
        return f"<{self.tag}{attrs}>{self.stripped[:60]!r}"


class _TreeBuilder(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]
        self.start_tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.start_tags.append((tag, attrs))
        closes = SIBLING_CLOSES.get(tag)
        if closes and self.stack[-1].tag in closes:
            self.stack.pop()
        merged: dict[str, str] = {}
        for k, v in attrs:
            merged.setdefault(k, v if v is not None else "")
        el = Element(tag, merged, parent=self.stack[-1])
        self.stack[-1].children.append(el)
        if tag not in VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack[-1].tag == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse_html(text: str) -> tuple[Element, list]:
    """The document's root, and every start tag as the tokenizer saw it (tag, [(name, value)])."""
    b = _TreeBuilder()
    b.feed(text)
    b.close()
    return b.root, b.start_tags


_COMPOUND = re.compile(
    r"(?P<tag>\*|[a-zA-Z][\w-]*)?(?P<rest>(?:#[\w-]+|\.[\w-]+|\[[^\]]+\])*)")
_PART = re.compile(r"#(?P<id>[\w-]+)|\.(?P<cls>[\w-]+)|\[(?P<attr>[\w:-]+)"
                   r"(?:(?P<op>[~^$*]?=)(?P<q>['\"]?)(?P<val>.*?)(?P=q))?\]")


@dataclass
class _Compound:
    tag: str | None
    ids: list[str]
    classes: list[str]
    attrs: list[tuple[str, str | None, str | None]]

    def matches(self, e: Element) -> bool:
        if self.tag and self.tag != "*" and e.tag != self.tag:
            return False
        if any(e.get("id") != i for i in self.ids):
            return False
        if any(c not in e.classes for c in self.classes):
            return False
        for name, op, val in self.attrs:
            have = e.get(name)
            if have is None:
                return False
            if op == "=" and have != val:
                return False
            if op == "~=" and val not in have.split():
                return False
            if op == "^=" and not have.startswith(val):
                return False
            if op == "$=" and not have.endswith(val):
                return False
            if op == "*=" and val not in have:
                return False
        return True


class Selector:
    """The CSS the tests need: compound selectors (tag, #id, .class, [attr], [attr=v], ~= ^= $=
    *=), the descendant (space) and child (>) combinators, and comma-separated groups."""

    def __init__(self, steps: list[tuple[str, _Compound]]):
        self.steps = steps  # [(combinator before it, compound)], the first combinator is ""

    @classmethod
    def parse(cls, css: str) -> list["Selector"]:
        return [cls._parse_one(part.strip()) for part in _split_groups(css)]

    @classmethod
    def _parse_one(cls, css: str) -> "Selector":
        steps, comb, i = [], "", 0
        css = re.sub(r"\s*>\s*", " > ", css.strip())
        for token in _tokens(css):
            if token == ">":
                comb = ">"
                continue
            m = _COMPOUND.fullmatch(token)
            if not m or not token:
                raise ValueError(f"unsupported selector {css!r} (at {token!r})")
            ids, classes, attrs = [], [], []
            for p in _PART.finditer(m.group("rest")):
                if p.group("id"):
                    ids.append(p.group("id"))
                elif p.group("cls"):
                    classes.append(p.group("cls"))
                else:
                    attrs.append((p.group("attr"), p.group("op"), p.group("val")))
            steps.append((comb or (" " if steps else ""), _Compound(m.group("tag"), ids, classes, attrs)))
            comb = ""
            i += 1
        if not steps:
            raise ValueError(f"empty selector {css!r}")
        return cls(steps)

    def matches(self, e: Element) -> bool:
        return self._match(e, len(self.steps) - 1)

    def _match(self, e: Element, k: int) -> bool:
        comb, compound = self.steps[k]
        if not compound.matches(e):
            return False
        if k == 0:
            return True
        if comb == ">":
            return e.parent is not None and self._match(e.parent, k - 1)
        return any(self._match(a, k - 1) for a in e.ancestors())


def _split_groups(css: str) -> list[str]:
    parts, depth, cur, quote = [], 0, "", None
    for ch in css:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        cur += ch
    parts.append(cur)
    return parts


def _tokens(css: str) -> list[str]:
    """Split on white space outside brackets and quotes."""
    out, cur, depth, quote = [], "", 0, None
    for ch in css:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"" and depth:
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch.isspace() and depth == 0:
            if cur:
                out.append(cur)
            cur = ""
            continue
        cur += ch
    if cur:
        out.append(cur)
    return out


# ---------------------------------------------------------------- pages and cookies

def describe(r: requests.Response, body: int = 3000) -> str:
    req = r.request
    sent = req.body if isinstance(req.body, str) else (req.body or b"").decode(errors="replace")
    return (f"{req.method} {req.url}\nsent headers: {dict(req.headers)}\nsent body: {sent[:500]}\n"
            f"-> {r.status_code} {r.reason}\nheaders: {dict(r.headers)}\nbody: {r.text[:body]}")


class Page:
    """A response and its HTML parsed: `one(css)` insists on exactly one match, `all(css)` lists
    them, `start_tags` is every start tag as the tokenizer saw it."""

    def __init__(self, response: requests.Response):
        self.response = response
        self.root, self.start_tags = parse_html(response.text)

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def text(self) -> str:
        return self.response.text

    @property
    def url(self) -> str:
        return self.response.url

    def all(self, css: str) -> list[Element]:
        return self.root.select(css)

    def first(self, css: str) -> Element | None:
        return self.root.select_one(css)

    def one(self, css: str) -> Element:
        found = self.all(css)
        assert len(found) == 1, (f"expected one {css!r} on the page, found {len(found)}: {found[:5]}"
                                 f"\n{describe(self.response)}")
        return found[0]

    def has(self, css: str) -> bool:
        return bool(self.all(css))

    def describe(self) -> str:
        return describe(self.response)

    def form_token(self, form_css: str = "form") -> str:
        el = self.one(f"{form_css} input[name={CSRF_FIELD}]")
        return el.get("value", "")


@dataclass
class SetCookie:
    """One Set-Cookie header: name, value, and its attributes (names lowercased; a flag is "")."""
    name: str
    value: str
    attrs: dict[str, str]
    raw: str

    def has(self, attr: str) -> bool:
        return attr.lower() in self.attrs


def set_cookies(r: requests.Response) -> list[SetCookie]:
    """Every Set-Cookie header of the answer, as sent (requests folds them into one string)."""
    out = []
    for raw in r.raw.headers.getlist("Set-Cookie") if r.raw is not None else []:
        first, *rest = raw.split(";")
        name, _, value = first.strip().partition("=")
        attrs = {}
        for a in rest:
            k, _, v = a.strip().partition("=")
            if k:
                attrs[k.lower()] = v
        out.append(SetCookie(name, value, attrs, raw))
    return out


def set_cookie(r: requests.Response, name: str) -> SetCookie | None:
    found = [c for c in set_cookies(r) if c.name == name]
    assert len(found) <= 1, f"{len(found)} Set-Cookie headers for {name}:\n{describe(r)}"
    return found[0] if found else None


# ---------------------------------------------------------------- the HTTP-level browser

class WebClient:
    """A visitor of the web interface: requests with a cookie jar, no redirects followed unless
    asked (tests look at each 303), no proxies, no ~/.netrc."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.http = requests.Session()
        self.http.trust_env = False

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base + path

    def get(self, path: str, **kw) -> requests.Response:
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", 30)
        return self.http.get(self.url(path), **kw)

    def post(self, path: str, data=None, **kw) -> requests.Response:
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", 30)
        return self.http.post(self.url(path), data=data, **kw)

    def page(self, path: str, status: int = 200, **kw) -> Page:
        p = Page(self.get(path, **kw))
        assert p.status == status, f"expected {status}\n{p.describe()}"
        return p

    # -- forms
    @staticmethod
    def form_data(page: Page, form_css: str) -> tuple[str, list[tuple[str, str]]]:
        """The form's action (a path or URL, the page's own when empty) and what a browser sends
        for it untouched: hidden and text inputs, checked boxes, textareas."""
        form = page.one(form_css)
        action = form.get("action") or urllib.parse.urlsplit(page.url).path
        fields = []
        for el in form.elements():
            name = el.get("name")
            if not name or "disabled" in el.attrs:
                continue
            if el.tag == "input":
                kind = (el.get("type") or "text").lower()
                if kind in ("submit", "button", "image", "reset", "file"):
                    continue
                if kind in ("checkbox", "radio") and "checked" not in el.attrs:
                    continue
                fields.append((name, el.get("value", "on" if kind in ("checkbox", "radio") else "")))
            elif el.tag == "textarea":
                fields.append((name, el.text))
        return action, fields

    def submit(self, page: Page, form_css: str, values: dict | None = None, *, drop=(),
               extra: list[tuple[str, str]] = (), **kw) -> requests.Response:
        """POST the form as a browser would, with `values` replacing fields of the same name
        (a list value sends the name once per item), `drop` left out and `extra` added."""
        action, fields = self.form_data(page, form_css)
        values = dict(values or {})
        out = [(k, v) for k, v in fields if k not in values and k not in drop]
        for k, v in values.items():
            out += [(k, x) for x in v] if isinstance(v, (list, tuple)) else [(k, v)]
        out += list(extra)
        method = (page.one(form_css).get("method") or "get").lower()
        assert method == "post", f"{form_css} has method {method!r}\n{page.describe()}"
        return self.post(urllib.parse.urljoin(page.url, action), data=out, **kw)

    # -- signing in and out
    def sign_in(self, login: str, password: str, redirect_to: str | None = None,
                expect: int | None = 303) -> requests.Response:
        """GET the sign-in form, then POST it with `login` and `password`."""
        path = "/users/sign_in" + (f"?redirect_to={urllib.parse.quote(redirect_to, safe='')}"
                                   if redirect_to is not None else "")
        form = self.page(path)
        r = self.submit(form, "form#sign-in", {"login": login, "password": password})
        if expect is not None:
            assert r.status_code == expect, f"sign-in as {login!r}: expected {expect}\n{describe(r)}"
        return r

    def sign_out(self, expect: int | None = 303) -> requests.Response:
        page = self.page("/")
        r = self.submit(page, "form#sign-out")
        if expect is not None:
            assert r.status_code == expect, describe(r)
        return r

    @property
    def session_cookie(self) -> str | None:
        return self.http.cookies.get(SESSION_COOKIE)

    def set_session_cookie(self, value: str) -> None:
        host = urllib.parse.urlsplit(self.base).hostname
        self.http.cookies.set(SESSION_COOKIE, value, domain=host, path="/")

    def signed_in_as(self) -> str | None:
        """Who the home page says is signed in (span#current-user), or None."""
        page = self.page("/")
        el = page.first("span#current-user")
        return el.stripped if el is not None else None


def visitor(web, name: str | None = None) -> WebClient:
    """A WebClient on conftest's `web` world's server: anonymous, or signed in as `name` with
    the world's password for that user."""
    c = WebClient(web.server.base)
    if name is not None:
        c.sign_in(name, web.password[name])
    return c


def db_rows(wh, sql: str) -> list[tuple[str, ...]]:
    """Run `sql` on a Wheelhouse's own database (its SQLite file, or PostgreSQL through psql);
    every value comes back as text. For what no API shows or sets: a session's clock, say."""
    if wh.database_url:
        out = postgres_cluster.psql(wh.database_url, sql)
        return [tuple(line.split("|")) for line in out.splitlines() if line]
    con = sqlite3.connect(wh.data_dir / "wheelhouse.sqlite3", timeout=30)
    try:
        with con:
            rows = con.execute(sql).fetchall()
        return [tuple("" if v is None else str(v) for v in row) for row in rows]
    finally:
        con.close()


def give_password(wh, username: str, password: str) -> None:
    """Store `username`'s password as the server would (`$scrypt$ln=15,r=8,p=1$salt$key`, base64
    without padding, in users.password_hash), made with Python's scrypt. The fixtures use this
    rather than whlib.set_password (`wheelhouse user password`) because the debug build's scrypt
    takes about 2 s a hash and the web tests give dozens of users passwords; that the server
    accepts a hash made elsewhere is itself a check of the stored format. The command's own path
    (and that a new password ends the user's sessions) is tested in test_web_sessions.py."""
    salt = os.urandom(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=1 << 15, r=8, p=1, maxmem=64 << 20, dklen=32)
    b64 = lambda b: base64.b64encode(b).decode().rstrip("=")  # noqa: E731
    stored = f"$scrypt$ln=15,r=8,p=1${b64(salt)}${b64(key)}"
    db_rows(wh, f"UPDATE users SET password_hash = '{stored}' WHERE lower(username) = lower('{username}')")


def location_path(r: requests.Response) -> str:
    """The path and query a redirect points to (whether Location is absolute or not)."""
    loc = r.headers.get("Location")
    assert loc is not None, f"no Location\n{describe(r)}"
    parts = urllib.parse.urlsplit(loc)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def cookie_header_value(cookies: dict[str, str]) -> str:
    c = SimpleCookie()
    for k, v in cookies.items():
        c[k] = v
    return "; ".join(f"{k}={m.coded_value}" for k, m in c.items())


# ---------------------------------------------------------------- the real browser

CHROMIUM = Path(os.environ.get("WHEELHOUSE_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("WHEELHOUSE_CHROMEDRIVER", "/usr/bin/chromedriver"))
WINDOW = (1280, 900)


def artifacts_dir() -> Path:
    """Where the browser tests leave screenshots: WHEELHOUSE_E2E_ARTIFACTS, or Tests/e2e/.artifacts
    (git-ignored)."""
    d = Path(os.environ.get("WHEELHOUSE_E2E_ARTIFACTS") or Path(__file__).resolve().parent / ".artifacts")
    d.mkdir(parents=True, exist_ok=True)
    return d


def require_chrome() -> None:
    """Fail (WHEELHOUSE_REQUIRE_BROWSER=1) or skip when Chromium, its driver or selenium is missing."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not (p.is_file() and os.access(p, os.X_OK))]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package (Tests/e2e/requirements.txt)")
    if not missing:
        return
    why = ("the browser tests need Debian's chromium and chromium-driver and selenium; missing: "
           + ", ".join(missing) + " (scripts/test installs them as root: apt-get install chromium "
           "chromium-driver)")
    if os.environ.get("WHEELHOUSE_REQUIRE_BROWSER") == "1":
        pytest.fail(why + " [WHEELHOUSE_REQUIRE_BROWSER=1]", pytrace=False)
    pytest.skip(why)


class Chrome:
    """One headless Chromium (selenium 4, Debian's chromedriver), window 1280x900, the browser
    console logged at every level, the clipboard granted to the server's origin."""

    def __init__(self, base: str, artifacts: Path):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.base = base.rstrip("/")
        self.artifacts = artifacts
        opts = webdriver.ChromeOptions()
        opts.binary_location = str(CHROMIUM)
        for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                  f"--window-size={WINDOW[0]},{WINDOW[1]}", "--no-first-run",
                  "--disable-background-networking", "--disable-extensions",
                  "--disable-component-update", "--disable-sync", "--lang=en-US"):
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        # Alerts stay open for the test to see instead of being dismissed by the driver.
        opts.set_capability("unhandledPromptBehavior", "ignore")
        self.driver = webdriver.Chrome(options=opts, service=Service(str(CHROMEDRIVER)))
        self.driver.set_window_size(*WINDOW)
        # The page itself 1280x900 (the window's frame would take some of it), for screenshots of
        # that size.
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": WINDOW[0], "height": WINDOW[1], "deviceScaleFactor": 1, "mobile": False})
        self.driver.set_page_load_timeout(30)
        self._console: list[dict] = []
        try:
            self.driver.execute_cdp_cmd("Browser.grantPermissions", {
                "origin": self.base,
                "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
            self.clipboard_granted = True
        except Exception:  # an older Chromium without the permission names
            self.clipboard_granted = False

    def quit(self):
        self.driver.quit()

    # -- navigation and waiting
    def open(self, path: str):
        self.driver.get(path if path.startswith("http") else self.base + path)

    def wait(self, condition, timeout: float = 10, message: str = ""):
        from selenium.webdriver.support.ui import WebDriverWait
        return WebDriverWait(self.driver, timeout).until(condition, message)

    def find(self, css: str, timeout: float = 10):
        """The element matching `css`, waited for (present in the DOM) up to `timeout`."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as EC
        return self.wait(EC.presence_of_element_located((By.CSS_SELECTOR, css)), timeout,
                         f"no {css!r} on {self.driver.current_url}")

    def find_all(self, css: str):
        from selenium.webdriver.common.by import By
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def click(self, css: str, timeout: float = 10):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as EC
        el = self.wait(EC.element_to_be_clickable((By.CSS_SELECTOR, css)), timeout,
                       f"no clickable {css!r} on {self.driver.current_url}")
        el.click()
        return el

    def fill(self, css: str, text: str):
        el = self.find(css)
        el.clear()
        el.send_keys(text)
        return el

    def wait_path(self, want: str, timeout: float = 10):
        """Until the current URL's path (and query, when `want` has one) is `want`."""
        def at(d):
            parts = urllib.parse.urlsplit(d.current_url)
            got = parts.path + (f"?{parts.query}" if "?" in want and parts.query else "")
            return got == want
        self.wait(at, timeout, f"never at {want!r} (at {self.driver.current_url})")

    @property
    def path(self) -> str:
        return urllib.parse.urlsplit(self.driver.current_url).path

    # -- what the page did
    def console(self) -> list[dict]:
        """Every browser console message so far (chromedriver hands each out once; kept here)."""
        self._console += self.driver.get_log("browser")
        return list(self._console)

    def alert_text(self) -> str | None:
        """The text of an open alert/confirm/prompt, or None when there is none."""
        from selenium.common.exceptions import NoAlertPresentException
        try:
            return self.driver.switch_to.alert.text
        except NoAlertPresentException:
            return None

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def clipboard(self) -> str | None:
        """The clipboard's text, read through the async Clipboard API; None when it cannot be read
        (headless without the permission)."""
        try:
            return self.driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "navigator.clipboard.readText().then(done, e => done(null));")
        except Exception:
            return None

    def screenshot(self, name: str) -> Path:
        """A PNG of the window in the artifacts dir (screenshots/NAME.png); with
        WHEELHOUSE_UPDATE_SCREENSHOTS=1 also copied to docs/screenshots/NAME.png."""
        out = self.artifacts / "screenshots" / f"{name}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        assert self.driver.save_screenshot(str(out)), f"screenshot {name} not saved"
        if os.environ.get("WHEELHOUSE_UPDATE_SCREENSHOTS") == "1":
            docs = REPO / "docs" / "screenshots"
            docs.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(out, docs / f"{name}.png")
        return out


def wait_until(predicate, timeout: float = 10, poll: float = 0.05, message: str = ""):
    """Polls `predicate` until it returns something truthy (returned) or `timeout` passes
    (AssertionError with `message`). For what is not a page: the server's log, say."""
    deadline = time.monotonic() + timeout
    while True:
        got = predicate()
        if got:
            return got
        if time.monotonic() >= deadline:
            raise AssertionError(message or f"not true within {timeout}s")
        time.sleep(poll)
