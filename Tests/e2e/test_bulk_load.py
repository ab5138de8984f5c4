"""`wheelhouse bulk-load`: a listing of files recorded in a project without their bytes, as the
benchmark's large catalogue is loaded. Driven through the CLI against a running server's data."""
import hashlib
import json

from whlib import describe


def listing(count: int, prefix: str) -> str:
    lines = []
    for i in range(count):
        name, version = f"{prefix}-{i // 2}", f"1.{i % 2}"
        digest = hashlib.sha256(f"{prefix}{i}".encode()).hexdigest()
        lines.append(json.dumps({
            "name": name, "version": version, "file_name": f"{name.replace('-', '_')}-{version}-py3-none-any.whl",
            "sha256": digest, "size": 100 + i, "requires_python": ">=3.9",
        }))
    return "\n".join(lines) + "\n"


def bulk_load(server, project: str, text: str):
    return server.cli("bulk-load", "--project", project, "--json", "-", input=text, timeout=120)


def test_bulk_load_records_rows_the_pages_show(server):
    server.group("bulk-e2e", "public")
    p = server.project("bulk-e2e/big", "public")
    proc = bulk_load(server, "bulk-e2e/big", listing(25_001, "bulk"))
    assert proc.returncode == 0, describe(proc)
    assert json.loads(proc.stdout) == {"packages": 25_001, "files": 25_001}, proc.stdout

    # The listing crossed a batch boundary (10,000 lines); every row is on the pages at once.
    index = server.get(f"{server.project_url(p['id'])}/simple/")
    assert index.status_code == 200 and index.text.count("<a ") == 12_501, index.status_code
    page = server.get(f"{server.project_url(p['id'])}/simple/bulk-7/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    assert page.status_code == 200, page.text
    files = page.json()["files"]
    assert [f["filename"] for f in files] == ["bulk_7-1.0-py3-none-any.whl", "bulk_7-1.1-py3-none-any.whl"], files
    assert files[0]["hashes"]["sha256"] == hashlib.sha256(b"bulk14").hexdigest() and files[0]["requires-python"] == ">=3.9"
    # No bytes were stored: the file is listed, its download is a clean 404.
    download = server.get(files[0]["url"])
    assert download.status_code == 404, download.status_code


def test_bulk_load_refuses_bad_lines_and_taken_names_and_keeps_nothing(server):
    server.group("bulk-bad", "public")
    p = server.project("bulk-bad/p", "public")
    good = listing(3, "ok")
    bad = good + json.dumps({"name": "ok-9", "version": "1.0", "file_name": "other-1.0.tar.gz",
                             "sha256": "a" * 64, "size": 1}) + "\n"
    proc = bulk_load(server, "bulk-bad/p", bad)
    assert proc.returncode != 0 and "line 4" in proc.stderr and "does not match" in proc.stderr, describe(proc)
    assert server.get(f"{server.project_url(p['id'])}/simple/ok-0/").status_code == 404

    assert bulk_load(server, "bulk-bad/p", good).returncode == 0
    again = bulk_load(server, "bulk-bad/p", good)
    assert again.returncode != 0 and "already been taken" in again.stderr, describe(again)
    missing = bulk_load(server, "bulk-bad/nope", good)
    assert missing.returncode != 0 and "not found" in missing.stderr, describe(missing)
