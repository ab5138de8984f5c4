"""The web interface in a real browser (issue 14): Debian's headless Chromium driven by selenium
(browser.Chrome). A person signs in through the form, searches from the header box, opens a
package page, copies an index URL (read back from the clipboard), creates and revokes a token,
yanks a release through the confirmation page as a maintainer, and signs out; a visitor without
rights sees 404s; a hostile README runs no script (no alert, no DOM change, and an inline script
the page did not ship is refused by the CSP, which the browser reports to the console and to
/-/csp-report, whose line the server logs).

Screenshots (1280x900) of the home, search, package and token pages go to
$WHEELHOUSE_E2E_ARTIFACTS/screenshots (default Tests/e2e/.artifacts), and with
WHEELHOUSE_UPDATE_SCREENSHOTS=1 to docs/screenshots/ too.

Without Chromium the module skips, or fails when WHEELHOUSE_REQUIRE_BROWSER=1 (scripts/test).
One browser and one server (conftest's `web`) for the whole module; the tests run in order, each
signing in as whom it needs. Every wait is WebDriverWait with a deadline."""
from __future__ import annotations

import re

import pytest

from browser import Chrome, artifacts_dir, require_chrome, wait_until
from distributions import wheel
from whlib import upload_ok

pytestmark = pytest.mark.timeout(300)

TOKENS = "/-/user_settings/personal_access_tokens"
JSON_T = "application/vnd.pypi.simple.v1+json"
HOSTILE = """# Hostile readme

<script>window.__pwned = 1; document.title = 'pwned'; alert('script')</script>
<img src=x onerror="window.__pwned = 1; alert('img')">
<a href="javascript:window.__pwned = 1; alert('link')">click me</a>
<a href="https://ok.example/" onclick="window.__pwned = 1; alert('onclick'); return false">ok link</a>
<div onmouseover="window.__pwned = 1" id="hover-me">hover me</div>
<svg onload="window.__pwned = 1"><circle r="5"/></svg>
<iframe srcdoc="<script>parent.__pwned = 1</script>"></iframe>
<details open ontoggle="window.__pwned = 1; alert('toggle')"><summary>toggle</summary>body</details>

[md link](javascript:window.__pwned=1)

Still here at the end.
"""


@pytest.fixture(scope="module", autouse=True)
def browser_present():
    """Skip (or fail, WHEELHOUSE_REQUIRE_BROWSER=1) before any server is made for nothing."""
    require_chrome()


@pytest.fixture(scope="module")
def chrome(web):
    c = Chrome(web.server.base, artifacts_dir())
    yield c
    c.quit()


@pytest.fixture(scope="module")
def pkgs(web):
    """wh-browser-yank 1.0 (acme/lib, for the maintainer) and wh-hostile-browser 1.0 (pub/open,
    public) with the hostile README."""
    upload_ok(web.server, web.pid("acme/lib"), wheel("wh-browser-yank", "1.0"), "wh-browser-yank",
              "1.0", web.alice)
    d = wheel("wh-hostile-browser", "1.0", extra_meta="Summary: hostile readme in a browser\n"
              "Description-Content-Type: text/markdown\n\n" + HOSTILE)
    upload_ok(web.server, web.pid("pub/open"), d, "wh-hostile-browser", "1.0", web.alice)


def current_user(chrome: Chrome) -> str | None:
    found = chrome.find_all("span#current-user")
    return found[0].text.strip() if found else None


def sign_in(chrome: Chrome, web, name: str):
    """Through the form, from the home page's "Sign in" link, as a person would."""
    chrome.open("/")
    if current_user(chrome) == name:
        return
    if current_user(chrome) is not None:
        sign_out(chrome)
    chrome.click("a#sign-in")
    chrome.wait_path("/users/sign_in")
    chrome.fill("form#sign-in input[name=login]", name)
    chrome.fill("form#sign-in input[name=password]", web.password[name])
    chrome.click("button#sign-in-button")
    chrome.wait(lambda d: current_user(chrome) == name, 20, f"not signed in as {name}")


def sign_out(chrome: Chrome):
    chrome.click("form#sign-out button#sign-out-button")
    chrome.find("a#sign-in")


def anonymous(chrome: Chrome):
    chrome.open("/")
    chrome.driver.delete_all_cookies()
    chrome.open("/")
    assert current_user(chrome) is None


# ---------------------------------------------------------------- a person's visit

def test_a_person_signs_in_through_the_form(chrome, web):
    anonymous(chrome)
    sign_in(chrome, web, "alice")
    assert chrome.path == "/"
    chrome.find("section#recent li.package")
    cookies = {c["name"]: c for c in chrome.driver.get_cookies()}
    session = cookies["_wheelhouse_session"]
    assert session["httpOnly"] and session.get("sameSite") == "Lax", session
    assert chrome.js("return document.cookie").find("_wheelhouse_session") == -1, \
        "the session cookie is readable from script"
    chrome.screenshot("home")


def test_searches_from_the_header_box(chrome, web):
    from selenium.webdriver.common.keys import Keys

    sign_in(chrome, web, "alice")
    box = chrome.fill("form#header-search input[name=q]", "rich")
    box.send_keys(Keys.ENTER)
    chrome.wait_path("/-/search")
    names = [a.text for a in chrome.wait(lambda d: chrome.find_all("ul#results li.result a.name"))]
    assert any(n.lower().replace("_", "-") == "wh-rich.docs" for n in names), names
    assert chrome.find("p#result-count").text.strip() == "1 package" or \
        chrome.find("p#result-count").text.strip() == "1 packages"
    chrome.screenshot("search")


def test_a_two_word_search_typed_into_the_form_finds_the_package(chrome, web):
    """The form sends "readme web" as q=readme+web."""
    from selenium.webdriver.common.keys import Keys

    sign_in(chrome, web, "alice")
    chrome.open("/")
    chrome.fill("form#search input[name=q]", "readme web").send_keys(Keys.ENTER)
    chrome.wait_path("/-/search")
    assert "q=readme+web" in chrome.driver.current_url or "q=readme%20web" in chrome.driver.current_url
    names = [a.text for a in chrome.find_all("ul#results li.result a.name")]
    assert any(n.lower().replace("_", "-") == "wh-rich.docs" for n in names), \
        f"'readme web' typed into the search form found {names}"


def test_opens_a_package_page_from_the_results(chrome, web):
    sign_in(chrome, web, "alice")
    chrome.open("/-/search?q=rich")
    chrome.click("ul#results li.result a.name")
    chrome.wait_path("/acme/lib/-/packages/wh-rich-docs")
    assert chrome.find("span#package-version").text == "1.10.0"
    assert chrome.find("table#files tbody tr") and chrome.find("pre#install-pip")
    chrome.screenshot("package")
    assert chrome.find("div#readme h1").text == "Wh Rich Docs", "the README is not rendered"


def test_a_copy_button_puts_the_index_url_on_the_clipboard(chrome, web):
    from selenium.webdriver.support.ui import WebDriverWait

    sign_in(chrome, web, "alice")
    chrome.open("/acme/lib")
    url = chrome.find("code#project-index-url").text.strip()
    assert url.endswith("/packages/pypi/simple"), url
    (button,) = [b for b in chrome.find_all("button.copy") if b.get_attribute("data-copy") == url]
    button.click()
    WebDriverWait(chrome.driver, 10, poll_frequency=0.05).until(
        lambda d: button.text.strip() == "Copied", "the button never said Copied")
    copied = chrome.clipboard()
    if copied is None:  # the clipboard cannot be read here: the button's own text is what it wrote
        assert chrome.clipboard_granted is False, "the clipboard was granted but cannot be read"
    else:
        assert copied == url


def test_creates_and_revokes_a_token(chrome, web):
    sign_in(chrome, web, "alice")
    chrome.click("a#tokens-link")
    chrome.wait_path(TOKENS)
    chrome.fill("form#new-token input[name=name]", "made-in-chromium")
    api = chrome.find("form#new-token input[name=scopes][value=api]")
    if not api.is_selected():
        api.click()
    chrome.js("arguments[0].value = arguments[1]", chrome.find("form#new-token input[name=expires_at]"),
              "2099-01-01")
    chrome.click("#create-token")
    secret = chrome.find("input#new-token-value").get_attribute("value")
    assert secret, "no secret shown"
    me = web.server.get("user", headers={"PRIVATE-TOKEN": secret})
    assert me.status_code == 200 and me.json()["username"] == "alice", me.text

    chrome.click("a#tokens-link")
    chrome.wait(lambda d: not chrome.find_all("input#new-token-value"))
    assert secret not in chrome.driver.page_source
    rows = [tr for tr in chrome.find_all("table#active-tokens tbody tr[data-token-id]")
            if "made-in-chromium" in tr.text]
    assert len(rows) == 1, [tr.text for tr in chrome.find_all("table#active-tokens tbody tr")]
    chrome.screenshot("tokens")
    token_id = rows[0].get_attribute("data-token-id")
    rows[0].find_element("css selector", "button.revoke-button").click()
    chrome.wait(lambda d: not chrome.find_all(f"tr[data-token-id='{token_id}']"), 10,
                "the revoked token is still listed")
    assert chrome.path == TOKENS
    assert web.server.get("user", headers={"PRIVATE-TOKEN": secret}).status_code == 401


def test_a_maintainer_yanks_a_release_through_the_confirmation_page(chrome, web, pkgs):
    sign_in(chrome, web, "mia")
    page = "/acme/lib/-/packages/wh-browser-yank/1.0"
    chrome.open(page)
    chrome.click("a#yank")
    chrome.wait_path(f"{page}/yank")
    chrome.fill("form#confirm textarea[name=reason]", "broken in a browser")
    chrome.click("button#confirm-button")
    chrome.wait_path(page)
    assert chrome.find("ul#versions span.yank-reason").text == "broken in a browser"
    assert chrome.find_all("a#unyank") and not chrome.find_all("a#yank")
    wh = web.server
    r = wh.get(f"{wh.project_url(web.pid('acme/lib'))}/simple/wh-browser-yank", auth=web.alice,
               headers={"Accept": JSON_T})
    assert [f["yanked"] for f in r.json()["files"]] == ["broken in a browser"], r.text


def test_signs_out(chrome, web):
    sign_in(chrome, web, "mia")
    sign_out(chrome)
    assert chrome.path == "/"
    assert "_wheelhouse_session" not in {c["name"] for c in chrome.driver.get_cookies()}
    chrome.open(TOKENS)
    chrome.wait_path("/users/sign_in")


def test_a_visitor_without_rights_sees_404s(chrome, web):
    anonymous(chrome)
    for path in ("/acme/lib", "/acme/lib/-/packages/wh-rich-docs", "/pub/secret"):
        chrome.open(path)
        assert chrome.find("main h1").text == "Page not found", path
        assert chrome.find_all("a#sign-in-prompt"), path
        assert "Wh Rich Docs" not in chrome.driver.page_source
    chrome.open("/acme/lib")
    chrome.click("a#sign-in-prompt")
    chrome.wait_path("/users/sign_in")
    chrome.fill("form#sign-in input[name=login]", "otto")
    chrome.fill("form#sign-in input[name=password]", web.password["otto"])
    chrome.click("button#sign-in-button")
    chrome.wait_path("/acme/lib")  # back where the prompt was, signed in: still nothing to see
    assert current_user(chrome) == "otto"
    assert chrome.find("main h1").text == "Page not found"
    assert not chrome.find_all("a#sign-in-prompt")


def test_light_and_dark_and_a_phones_width(chrome, web):
    """One stylesheet: a dark scheme when the system asks for one, and no sideways scrolling at a
    phone's width, even on a package page with long install commands."""
    anonymous(chrome)
    chrome.open("/pub/open/-/packages/wh-public")
    chrome.find("h1#package-name")

    def background(scheme):
        chrome.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
            "features": [{"name": "prefers-color-scheme", "value": scheme}]})
        rgb = chrome.js("return getComputedStyle(document.body).backgroundColor")
        return [int(x) for x in re.findall(r"\d+", rgb)[:3]]

    try:
        light, dark = background("light"), background("dark")
    finally:
        chrome.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    assert sum(light) > 600 and sum(dark) < 150, (light, dark)
    try:
        chrome.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
        chrome.open("/pub/open/-/packages/wh-public")
        chrome.find("pre#install-pip")
        wide = chrome.js("return [document.documentElement.scrollWidth, window.innerWidth]")
        assert wide[0] <= wide[1], f"the page is {wide[0]} px wide on a {wide[1]} px screen"
    finally:
        chrome.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False})


# ---------------------------------------------------------------- a hostile README

def test_a_hostile_readme_runs_no_script_and_the_csp_reports_what_it_stops(chrome, web, pkgs):
    from selenium.webdriver.common.action_chains import ActionChains

    anonymous(chrome)
    chrome.console()  # what came before is not this page's
    before = len(chrome.console())
    mark = web.server.log_mark()
    chrome.open("/pub/open/-/packages/wh-hostile-browser")
    chrome.find("h1#package-name")
    chrome.find("div#readme")
    assert "Still here at the end." in chrome.find("div#readme").text

    def untouched():
        assert chrome.alert_text() is None, f"an alert opened: {chrome.alert_text()!r}"
        assert chrome.js("return window.__pwned === undefined"), "the README's script ran"
        assert "pwned" not in chrome.driver.title
        live = chrome.js("return document.querySelectorAll('#readme script, #readme img, #readme svg, "
                         "#readme iframe, [onerror], [onclick], [onload], [onmouseover], [ontoggle]')"
                         ".length")
        assert live == 0, f"{live} live hostile elements in the page"

    untouched()
    for a in chrome.find_all("#readme a"):
        href = (a.get_attribute("href") or "").strip().lower()
        assert not href.startswith(("javascript:", "data:")), href
    clickable = [a for a in chrome.find_all("#readme a") if a.text in ("click me", "md link")]
    for a in clickable:
        a.click()
    hover = [d for d in chrome.find_all("#readme div") if "hover me" in d.text]
    if hover:  # the div stays (its text), its handler must not
        ActionChains(chrome.driver).move_to_element(hover[-1]).perform()
    untouched()
    assert chrome.path == "/pub/open/-/packages/wh-hostile-browser"

    # Had an inline script got through, the CSP would stop it: one put into the page now is
    # refused, and the browser reports it to the console and to the server's /-/csp-report.
    chrome.js("var s = document.createElement('script'); s.textContent = 'window.__pwned = 2';"
              "document.body.appendChild(s);")
    untouched()
    csp = chrome.wait(lambda d: [m for m in chrome.console()[before:]
                                 if "Content Security Policy" in m.get("message", "")], 10,
                      "no Content Security Policy message in the browser console")
    assert any("script-src" in m["message"] for m in csp), csp
    wait_until(lambda: [line for line in web.server.log_since(mark)
                        if "content security policy violation" in line], timeout=10,
               message="the server logged no 'content security policy violation' (the browser's "
                       "report to /-/csp-report)")
