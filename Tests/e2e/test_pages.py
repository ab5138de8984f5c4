"""Simple pages: PEP 503 names, GitLab's link format, escaping, requires-python."""
import html

import pytest

from distributions import wheel
from whlib import Clients, describe, describe_response, index_url, parse_links


@pytest.fixture(scope="module")
def foobar_project(server, world, dists, tmp_path_factory):
    """Foo.Bar_baz 0.1.0 (requires-python >=3.8) published with twine."""
    p = server.project("flow/pages-foobar", "private")
    p["url"] = server.project_url(p["id"])
    c = Clients(tmp_path_factory.mktemp("foobar-clients"))
    d = dists.foobar
    proc = c.twine_upload(p["url"], world.tok["alice"], d.sdist.path, d.wheel.path)
    assert proc.returncode == 0, describe(proc)
    return p


@pytest.mark.parametrize("asked", ["foo-bar-baz", "FOO_BAR.BAZ", "Foo.Bar_baz", "foo__bar--baz",
                                   "foo-bar-baz/"])
def test_any_spelling_of_the_name_finds_the_page(server, world, dists, foobar_project, asked):
    r = server.get(f"{foobar_project['url']}/simple/{asked}", auth=world.alice)
    assert r.status_code == 200, describe_response(r)
    assert r.headers.get("Content-Type", "").startswith("text/html"), describe_response(r)
    files = sorted(link.text for link in parse_links(r.text))
    assert files == sorted([dists.foobar.sdist.filename, dists.foobar.wheel.filename])


def test_index_links_to_the_normalised_name(server, world, foobar_project):
    for suffix in ("simple", "simple/"):
        r = server.get(f"{foobar_project['url']}/{suffix}", auth=world.alice)
        assert r.status_code == 200, describe_response(r)
        (link,) = parse_links(r.text)
        assert link.href.rstrip("/") == f"{foobar_project['url']}/simple/foo-bar-baz", link.href


def test_file_links_follow_gitlab_format_and_escape_requires_python(server, world, dists,
                                                                     foobar_project):
    r = server.get(f"{foobar_project['url']}/simple/foo-bar-baz", auth=world.alice)
    assert r.status_code == 200, describe_response(r)
    links = parse_links(r.text)
    assert len(links) == 2, r.text
    for d in (dists.foobar.sdist, dists.foobar.wheel):
        (link,) = [x for x in links if x.text == d.filename]
        want = f"{foobar_project['url']}/files/{d.sha256}/{d.filename}#sha256={d.sha256}"
        assert link.href == want, r.text
        assert link.requires_python == ">=3.8", r.text
        raw = f'{html.escape(link.href, quote=True)}" data-requires-python="&gt;=3.8"'
        assert raw in r.text, r.text
    assert ">=3.8" not in r.text.replace("&gt;=3.8", ""), "unescaped '>' in the page"


def test_unknown_package_is_404(server, world, foobar_project):
    r = server.get(f"{foobar_project['url']}/simple/no-such-package", auth=world.alice)
    assert r.status_code == 404, describe_response(r)


def test_pip_installs_by_any_spelling(server, world, foobar_project, clients):
    target = clients.target()
    proc = clients.pip_install(index_url(foobar_project["url"], world.tok["alice"]),
                               "FOO_BAR.BAZ==0.1.0", target=target)
    assert proc.returncode == 0, describe(proc)
    assert clients.imported(target, "foo_bar_baz") == "0.1.0"


@pytest.mark.parametrize("tool", ["pip", "uv"])
def test_clients_honour_requires_python(server, world, fresh_project, clients, tmp_path, tool):
    """2.0 needs Python >=3.99, so pip and uv must settle for 1.0: proof that the attribute is
    served and parsed, not just present."""
    p = fresh_project()
    for version, spec in (("1.0", ">=3.8"), ("2.0", ">=3.99")):
        d = wheel("wh-req", version, dest=tmp_path)
        r = server.upload(p["id"], d.data, d.filename, name="wh-req", version=version,
                          auth=world.alice, fields={"requires_python": spec})
        assert r.status_code == 201, describe_response(r)
    r = server.get(f"{p['url']}/simple/wh-req", auth=world.alice)
    assert 'data-requires-python="&gt;=3.99"' in r.text, r.text
    install = clients.pip_install if tool == "pip" else clients.uv_install
    target = clients.target()
    proc = install(index_url(p["url"], world.tok["alice"]), "wh-req", target=target)
    assert proc.returncode == 0, describe(proc)
    assert clients.imported(target, "wh_req") == "1.0"


@pytest.mark.parametrize("tool", ["pip", "uv"])
def test_local_version_with_plus_installs(server, world, fresh_project, clients, tmp_path, tool):
    """`+` in a file name: clients may send it as %2B; the server must find the file either way."""
    p = fresh_project()
    d = wheel("wh-local", "1.0+cpu", dest=tmp_path)
    r = server.upload(p["id"], d.data, d.filename, name="wh-local", version="1.0+cpu",
                      auth=world.alice)
    assert r.status_code == 201, describe_response(r)
    for fname in (d.filename, d.filename.replace("+", "%2B")):
        got = server.get(f"{p['url']}/files/{d.sha256}/{fname}", auth=world.alice)
        assert got.status_code == 200 and got.content == d.data, describe_response(got)
    install = clients.pip_install if tool == "pip" else clients.uv_install
    target = clients.target()
    proc = install(index_url(p["url"], world.tok["alice"]), "wh-local==1.0+cpu", target=target)
    assert proc.returncode == 0, describe(proc)
    assert clients.imported(target, "wh_local") == "1.0+cpu"
