"""Publish with twine, uv and a raw curl-style form; install with pip and uv from project
and group indexes (numeric ids and URL-encoded paths)."""
import pytest

from whlib import describe, describe_response, enc, index_url, parse_links


def assert_ok(proc):
    assert proc.returncode == 0, describe(proc)


def page_files(server, url, auth):
    r = server.get(url, auth=auth)
    assert r.status_code == 200, describe_response(r)
    return sorted(link.text for link in parse_links(r.text))


def test_built_dists_are_what_the_suite_expects(dists):
    d = dists.demo100
    assert d.sdist.filename == "wh_demo-1.0.0.tar.gz"
    assert d.wheel.filename == "wh_demo-1.0.0-py3-none-any.whl"
    assert dists.foobar.sdist.filename == "foo_bar_baz-0.1.0.tar.gz"


def test_twine_upload_then_pip_install_by_numeric_id(server, world, dists, clients, fresh_project):
    p = fresh_project()
    d = dists.demo100
    assert_ok(clients.twine_upload(p["url"], world.tok["alice"], d.sdist.path, d.wheel.path))
    assert page_files(server, f"{p['url']}/simple/wh-demo", world.alice) == sorted(
        [d.sdist.filename, d.wheel.filename])

    target = clients.target()
    assert_ok(clients.pip_install(index_url(p["url"], world.tok["alice"]), "wh-demo==1.0.0",
                                  target=target))
    assert clients.imported(target, "wh_demo") == "1.0.0"


def test_uv_publish_then_uv_install_by_encoded_path(server, world, dists, clients, fresh_project):
    p = fresh_project()
    d = dists.demo110
    assert_ok(clients.uv_publish(p["url"], world.tok["alice"], d.sdist.path, d.wheel.path))
    # Publishing the very same files again is harmless (identical bytes: a no-op), also
    # with --check-url, which makes uv look at the index first.
    assert_ok(clients.uv_publish(p["url"], world.tok["alice"], d.sdist.path, d.wheel.path,
                                 extra=["--check-url", index_url(p["url"], world.tok["alice"])]))

    by_path = server.project_url(enc(p["path_with_namespace"]))
    target = clients.target()
    assert_ok(clients.uv_install(index_url(by_path, world.tok["alice"]), "wh-demo==1.1.0",
                                 target=target))
    assert clients.imported(target, "wh_demo") == "1.1.0"


def test_raw_curl_style_upload_then_pip_install(server, world, dists, clients, fresh_project):
    """The form from the API page: content, sha256_digest, name, version and nothing else."""
    p = fresh_project()
    d = dists.demo100.wheel
    r = server.upload(p["id"], d.data, d.filename, name="wh-demo", version="1.0.0",
                      auth=("someone", world.tok["alice"]), digests=False,
                      drop=(":action", "protocol_version", "filetype", "pyversion",
                            "metadata_version"),
                      fields={"sha256_digest": d.sha256})
    assert r.status_code == 201, describe_response(r)
    assert r.json() == {"message": "201 Created"}

    links = parse_links(server.get(f"{p['url']}/simple/wh-demo", auth=world.alice).text)
    assert [link.text for link in links] == [d.filename]
    assert links[0].href.endswith(f"/files/{d.sha256}/{d.filename}#sha256={d.sha256}")

    target = clients.target()
    assert_ok(clients.pip_install(index_url(p["url"], world.tok["alice"]), "wh-demo",
                                  target=target))
    assert clients.imported(target, "wh_demo") == "1.0.0"


@pytest.mark.parametrize("tool", ["pip", "uv"])
def test_dependency_is_resolved_from_the_same_index(server, world, dists, clients,
                                                    fresh_project, tool):
    p = fresh_project()
    files = [dists.demo100.wheel.path, dists.demo110.wheel.path, dists.app100.wheel.path]
    assert_ok(clients.twine_upload(p["url"], world.tok["alice"], *files))
    install = clients.pip_install if tool == "pip" else clients.uv_install
    target = clients.target()
    assert_ok(install(index_url(p["url"], world.tok["alice"]), "wh-app", target=target))
    assert clients.imported(target, "wh_app") == "app-1.0.0"
    assert clients.imported(target, "wh_demo") == "1.1.0"  # newest that satisfies >=1.0


@pytest.mark.parametrize("tool,group,by", [
    ("pip", "acme", "id"),
    ("uv", "acme", "path"),
    ("pip", "acme/sub", "path"),
    ("uv", "acme/sub", "id"),
])
def test_install_from_group_index(server, world, clients, tool, group, by):
    """wh-sub lives in acme/sub/lib: it must install from its subgroup's and parent's index."""
    gid = world.gid(group) if by == "id" else enc(group)
    install = clients.pip_install if tool == "pip" else clients.uv_install
    target = clients.target()
    assert_ok(install(index_url(server.group_url(gid), world.tok["sam"]), "wh-sub==1.0.0",
                      target=target))
    assert clients.imported(target, "wh_sub") == "sub-1.0.0"


def test_pip_install_from_project_by_encoded_path_with_deploy_token(server, world, clients):
    url = index_url(server.project_url(enc("acme/lib")), world.dt["lib_read"], user="deployer")
    target = clients.target()
    assert_ok(clients.pip_install(url, "wh-demo==1.0.0", target=target))
    assert clients.imported(target, "wh_demo") == "1.0.0"


def test_anonymous_pip_install_from_public_project(server, world, clients):
    target = clients.target()
    assert_ok(clients.pip_install(index_url(server.project_url(world.pid("pub/open"))),
                                  "wh-demo==1.0.0", target=target))
    assert clients.imported(target, "wh_demo") == "1.0.0"


def test_pip_without_credentials_is_refused_by_private_project(server, world, clients):
    target = clients.target()
    proc = clients.pip_install(index_url(server.project_url(world.pid("acme/lib"))),
                               "wh-demo==1.0.0", "-vv", target=target)
    assert proc.returncode != 0, describe(proc)
    assert "401" in proc.stdout + proc.stderr, describe(proc)
    assert not any(target.iterdir()), "something was installed without credentials"


def test_twine_upload_as_reporter_is_403(server, world, dists, clients):
    url = server.project_url(world.pid("acme/lib"))
    d = dists.demo110.wheel
    proc = clients.twine_upload(url, world.tok["rita"], d.path)
    assert proc.returncode != 0, describe(proc)
    assert "403" in proc.stdout + proc.stderr, describe(proc)
    assert d.filename not in server.get(f"{url}/simple/wh-demo", auth=world.alice).text
