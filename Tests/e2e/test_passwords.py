"""Passwords for web sign-in (issue 14): set with the CLI (`user create --password-stdin`,
`user password`, the password on standard input) and over REST (`password` on POST /users and
PUT /users/:id, administrators only), kept as scrypt in `users.password_hash`, and never shown:
not in an answer, not in the CLI's output, not in the server's log.

Until the sign-in page exists, what was stored is checked by reading the row and verifying it with
Python's own scrypt, which also shows the stored form is the standard one."""
import base64
import hashlib
import re
import sqlite3
import uuid

import pytest

import postgres_cluster
from whlib import describe, describe_response, set_password

STORED = re.compile(r"^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def stored_hash(wh, username: str) -> str | None:
    """users.password_hash of `username`, read from the server's database as it is."""
    sql = "SELECT password_hash FROM users WHERE username = "
    if wh.database_url:
        name = username.replace("'", "''")
        out = postgres_cluster.psql(wh.database_url, f"{sql}'{name}'").strip()
        return out or None
    with sqlite3.connect(f"file:{wh.data_dir / 'wheelhouse.sqlite3'}?mode=ro", uri=True) as db:
        row = db.execute(sql + "?", (username,)).fetchone()
    assert row is not None, f"no user {username}"
    return row[0]


def b64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def scrypt_matches(stored: str, password: str) -> bool:
    m = STORED.match(stored)
    assert m, f"not the stored form: {stored!r}"
    ln, r, p = map(int, m.group(1, 2, 3))
    assert (ln, r, p) == (15, 8, 1), stored
    salt, key = b64(m.group(4)), b64(m.group(5))
    assert (len(salt), len(key)) == (16, 32), stored
    derived = hashlib.scrypt(password.encode(), salt=salt, n=2 ** ln, r=r, p=p,
                             maxmem=64 * 1024 * 1024, dklen=len(key))
    return derived == key


def assert_not_logged(wh, mark: int, *secrets: str):
    lines = wh.log_since(mark)
    for secret in secrets:
        leaked = [line for line in lines if secret in line]
        assert not leaked, f"password in the server log: {leaked}"


@pytest.fixture
def admin_token(server):
    name = unique("pw-root")
    server.user(name, admin=True)
    return server.token(name, "api")["token"]


def rest(server, method, path, token, **kw):
    headers = {"PRIVATE-TOKEN": token} if token else {}
    return server.http.request(method, f"{server.api}/{path}", headers=headers, timeout=60,
                               allow_redirects=False, **kw)


# ---------------------------------------------------------------- the CLI

def test_cli_create_with_password_stdin(server):
    mark = server.log_mark()
    name, password = unique("pw-cli"), "From stdin, with spaces 1"
    proc = server.cli("user", "create", name, "--password-stdin", "--json", input=password + "\n")
    assert proc.returncode == 0, describe(proc)
    assert password not in proc.stdout + proc.stderr, describe(proc)
    assert "password" not in proc.stdout, describe(proc)  # no field of it in the user's JSON
    stored = stored_hash(server, name)
    assert stored and password not in stored
    assert scrypt_matches(stored, password), "the trailing newline is not part of the password"
    assert not scrypt_matches(stored, password + "\n")

    # Without the flag a user has no password at all (and cannot sign in on the web).
    plain = unique("pw-none")
    server.user(plain)
    assert stored_hash(server, plain) is None

    # Windows line endings are line endings too.
    crlf = unique("pw-crlf")
    proc = server.cli("user", "create", crlf, "--password-stdin", input=password + "\r\n")
    assert proc.returncode == 0, describe(proc)
    assert scrypt_matches(stored_hash(server, crlf), password)
    assert_not_logged(server, mark, password)


def test_cli_refusals_say_what_is_wrong_and_create_nothing(server):
    name = unique("pw-bad")
    proc = server.cli("user", "create", name, "--password-stdin", input="short7!\n")
    assert proc.returncode != 0, describe(proc)
    assert "password is too short (minimum is 8 characters)" in proc.stderr, describe(proc)
    assert "short7!" not in proc.stdout + proc.stderr
    too_long = "L" * 129
    proc = server.cli("user", "create", name, "--password-stdin", input=too_long + "\n")
    assert "password is too long (maximum is 128 characters)" in proc.stderr, describe(proc)
    assert too_long not in proc.stdout + proc.stderr
    proc = server.cli("user", "create", name, "--password-stdin")  # no standard input at all
    assert proc.returncode != 0 and "no password on standard input" in proc.stderr, describe(proc)
    listed = server.cli_json("user", "create", name)  # the name was never taken
    assert listed["username"] == name

    proc = server.cli("user", "password", unique("pw-nobody"), input="long enough pw\n")
    assert proc.returncode != 0 and "not found" in proc.stderr, describe(proc)
    proc = server.cli("user", "password", name, input="1234567\n")
    assert "password is too short (minimum is 8 characters)" in proc.stderr, describe(proc)
    assert stored_hash(server, name) is None


def test_cli_user_password_sets_and_replaces(server):
    mark = server.log_mark()
    name = unique("pw-set")
    server.user(name)
    first, second = "first-password-1", "sécond pässword 2"
    set_password(server, name, first)
    stored = stored_hash(server, name)
    assert scrypt_matches(stored, first)

    proc = server.cli("user", "password", name.upper(), "--json", input=second + "\n")
    assert proc.returncode == 0, describe(proc)
    assert second not in proc.stdout + proc.stderr
    assert '"username"' in proc.stdout and name in proc.stdout, describe(proc)
    replaced = stored_hash(server, name)
    assert replaced != stored and scrypt_matches(replaced, second) and not scrypt_matches(replaced, first)

    # The same password again gets a new salt.
    set_password(server, name, second)
    again = stored_hash(server, name)
    assert again != replaced and scrypt_matches(again, second)
    assert_not_logged(server, mark, first, second)


# ---------------------------------------------------------------- REST

def test_rest_create_and_change_password(server, admin_token):
    mark = server.log_mark()
    name, first, second = unique("pw-rest"), "rest-create-pass-1", "rest-change-pass-2"
    r = rest(server, "POST", "users", admin_token,
             json={"username": name, "email": f"{name}@example.com", "password": first})
    assert r.status_code == 201, describe_response(r)
    user = r.json()
    assert "password" not in user and first not in r.text, user
    assert scrypt_matches(stored_hash(server, name), first)

    r = rest(server, "PUT", f"users/{user['id']}", admin_token, json={"password": second})
    assert r.status_code == 200, describe_response(r)
    assert r.json()["username"] == name and second not in r.text and "password" not in r.json()
    assert scrypt_matches(stored_hash(server, name), second)

    # A form body and a query string work as they do for GitLab (and the log keeps no query).
    third = "rest-form-pass-3"
    r = rest(server, "PUT", f"users/{user['id']}", admin_token, data={"password": third})
    assert r.status_code == 200, describe_response(r)
    assert scrypt_matches(stored_hash(server, name), third)
    fourth = "rest-query-pass-4"
    r = rest(server, "PUT", f"users/{user['id']}?password={fourth}", admin_token)
    assert r.status_code == 200, describe_response(r)
    assert scrypt_matches(stored_hash(server, name), fourth)
    assert_not_logged(server, mark, first, second, third, fourth)


def test_rest_only_administrators_set_passwords(server, admin_token):
    mark = server.log_mark()
    name = unique("pw-plain")
    user = rest(server, "POST", "users", admin_token, json={"username": name}).json()
    token = server.token(name, "api")["token"]
    attempt = "self-chosen-pass"
    r = rest(server, "PUT", f"users/{user['id']}", token, json={"password": attempt})
    assert r.status_code == 403, describe_response(r)
    r = rest(server, "POST", "users", token, json={"username": unique("pw-x"), "password": attempt})
    assert r.status_code == 403, describe_response(r)
    r = rest(server, "PUT", f"users/{user['id']}", None, json={"password": attempt})
    assert r.status_code == 401, describe_response(r)
    assert stored_hash(server, name) is None
    assert_not_logged(server, mark, attempt)


def test_rest_password_rules(server, admin_token):
    mark = server.log_mark()
    name = unique("pw-rules")
    r = rest(server, "POST", "users", admin_token, json={"username": name, "password": "seven77"})
    assert r.status_code == 400, describe_response(r)
    assert r.json()["message"] == "password is too short (minimum is 8 characters)", r.text
    assert rest(server, "GET", f"users?username={name}", admin_token).json() == []

    user = rest(server, "POST", "users", admin_token,
                json={"username": name, "password": "good-one-to-keep"}).json()
    long = "ü" * 65  # 65 characters, 130 bytes
    r = rest(server, "PUT", f"users/{user['id']}", admin_token, json={"password": long})
    assert r.status_code == 400, describe_response(r)
    assert r.json()["message"] == "password is too long (maximum is 128 characters)", r.text
    r = rest(server, "PUT", f"users/{user['id']}", admin_token, json={"password": ""})
    assert r.status_code == 400, describe_response(r)
    assert scrypt_matches(stored_hash(server, name), "good-one-to-keep")
    r = rest(server, "PUT", "users/987654321", admin_token, json={"password": "long-enough-1"})
    assert r.status_code == 404, describe_response(r)
    assert_not_logged(server, mark, "seven77", long, "good-one-to-keep")


def test_rest_put_changes_the_administrator_flag(server, admin_token):
    name = unique("pw-promote")
    user = rest(server, "POST", "users", admin_token, json={"username": name}).json()
    r = rest(server, "PUT", f"users/{user['id']}", admin_token, json={"admin": True})
    assert r.status_code == 200 and r.json()["is_admin"] is True, describe_response(r)
    token = server.token(name, "api")["token"]
    me = rest(server, "GET", "user", token).json()
    r = rest(server, "PUT", f"users/{me['id']}", token, json={"admin": False})
    assert r.status_code == 400, describe_response(r)  # nobody demotes themselves
    r = rest(server, "PUT", f"users/{user['id']}", admin_token, json={"admin": False})
    assert r.status_code == 200 and r.json()["is_admin"] is False, describe_response(r)
    assert rest(server, "POST", "users", token, json={"username": unique("pw-y")}).status_code == 403
