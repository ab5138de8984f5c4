"""The server process: clean shutdown, persistence across restarts, configuration."""
import signal

from whlib import describe, describe_response, enc, index_url, parse_links


def bootstrap(wh, user="root-dev", group="team", project="team/lib", visibility="private"):
    """A user who owns a group with one project; returns (project, token)."""
    wh.user(user)
    tok = wh.token(user, "api")["token"]
    wh.group(group)
    wh.member(user, "owner", group=group)
    p = wh.project(project, visibility)
    p["url"] = wh.project_url(p["id"])
    return p, tok


def test_restart_keeps_everything(make_server, dists, clients):
    wh = make_server(name="restart")
    p, tok = bootstrap(wh)
    auth = ("__token__", tok)
    d = dists.demo100
    proc = clients.twine_upload(p["url"], tok, d.sdist.path, d.wheel.path)
    assert proc.returncode == 0, describe(proc)
    pages = {}
    for path in ("simple", "simple/wh-demo"):
        r = wh.get(f"{p['url']}/{path}", auth=auth)
        assert r.status_code == 200, describe_response(r)
        pages[path] = r.text
    assert len(parse_links(pages["simple/wh-demo"])) == 2

    code = wh.stop(signal.SIGTERM)
    assert code == 0, f"exit code {code} after SIGTERM\n{wh.log_tail()}"
    wh.start()  # same port, same data dir

    for path, before in pages.items():
        r = wh.get(f"{p['url']}/{path}", auth=auth)
        assert r.status_code == 200, describe_response(r)
        assert r.text == before, f"{path} changed across the restart"
    r = wh.get(f"{wh.project_url(enc('team/lib'))}/files/{d.wheel.sha256}/{d.wheel.filename}",
               auth=auth)
    assert r.status_code == 200 and r.content == d.wheel.data, describe_response(r)
    target = clients.target()
    proc = clients.pip_install(index_url(p["url"], tok), "wh-demo==1.0.0", target=target)
    assert proc.returncode == 0, describe(proc)
    assert clients.imported(target, "wh_demo") == "1.0.0"

    # Uploads keep working after the restart, and SIGINT also exits cleanly.
    proc = clients.twine_upload(p["url"], tok, dists.demo110.wheel.path)
    assert proc.returncode == 0, describe(proc)
    code = wh.stop(signal.SIGINT)
    assert code == 0, f"exit code {code} after SIGINT\n{wh.log_tail()}"


def test_configuration_from_environment(make_server):
    """WHEELHOUSE_HOST/PORT/DATA_DIR alone configure `serve`: the admin CLI pointed at that
    data dir with --data-dir creates a project the server then answers for."""
    wh = make_server(name="env", via_env=True)
    p, tok = bootstrap(wh)
    r = wh.get(f"{p['url']}/simple", auth=("__token__", tok))
    assert r.status_code == 200, describe_response(r)
    assert wh.get(f"{p['url']}/simple").status_code == 401


def test_links_are_absolute_and_follow_external_url(make_server, dists):
    external = "https://pypi.example.test:8443"
    wh = make_server("--external-url", external, name="ext")
    p, tok = bootstrap(wh)
    d = dists.demo100.wheel
    r = wh.upload(p["id"], d.data, d.filename, name="wh-demo", version="1.0.0",
                  auth=("__token__", tok))
    assert r.status_code == 201, describe_response(r)
    for pid in (p["id"], enc("team/lib")):
        r = wh.get(f"{wh.project_url(pid)}/simple/wh-demo", auth=("__token__", tok))
        links = parse_links(r.text)
        assert len(links) == 1, describe_response(r)
        assert links[0].href.startswith(f"{external}/api/v4/projects/"), links[0].href
        assert links[0].href.endswith(f"/packages/pypi/files/{d.sha256}/{d.filename}"
                                      f"#sha256={d.sha256}"), links[0].href
        r = wh.get(f"{wh.project_url(pid)}/simple", auth=("__token__", tok))
        (link,) = parse_links(r.text)
        assert link.href.startswith(f"{external}/api/v4/"), link.href


def test_links_default_to_the_address_the_client_used(server, world):
    r = server.get(f"{server.project_url(world.pid('acme/lib'))}/simple/wh-demo", auth=world.alice)
    links = parse_links(r.text)
    assert links, describe_response(r)
    for link in links:
        assert link.href.startswith(f"{server.api}/"), link.href
        f = server.get(link.href.split("#")[0], auth=world.alice)
        assert f.status_code == 200, describe_response(f)
