"""S3 requests signed by botocore's own SigV4 signer, for Wheelhouse's signer to match step by step.

Wheelhouse signs its S3 requests with a Signature Version 4 implementation of its own
(Sources/AWSSigV4); the one that every S3-compatible store is tested against in practice is the
AWS SDKs'. This script generates, from a fixed seed, a few hundred S3-like requests meant to hit
the corners where two signers drift apart (reserved characters, spaces, `+`, `=`, `&`, unicode
and combining characters in keys and query strings, empty values, repeated names, whitespace in
header values, signed and unsigned payloads, session tokens, presigned URLs), signs each one at a
fixed moment with botocore.auth.S3SigV4Auth (the Authorization header) or S3SigV4QueryAuth (a
presigned URL, expiring in 600 s), and prints one JSON object per line: the inputs, and what
botocore computed at every step (canonical request, string to sign, then the headers or the URL).

The Swift test (BotocoreCrossCheckTests.swift) runs it with the Python named by
WHEELHOUSE_TEST_PYTHON, signs the same inputs with SigV4Signer and compares everything.

    python botocore_cases.py [--count N] [--seed S]

Requests are built the way botocore's S3 client builds them: the key percent-encoded with `/`
and `~` kept (serialize.py's greedy label), the query as `percent_encode_sequence` writes it
into the URL, no Host header (the signer derives it from the URL, without a default port).
"""
from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import json
import random
import sys
from unittest import mock

import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.utils import percent_encode, percent_encode_sequence

# One fixed moment for every request: botocore reads the clock (get_current_datetime, naive
# UTC) inside add_auth, and the Swift side is handed the same timestamp.
NOW = datetime.datetime(2026, 3, 14, 15, 9, 26)
TIMESTAMP = NOW.strftime("%Y%m%dT%H%M%SZ")
EXPIRES = 600

# Endpoints as deployments write them: a local store on a non-default port (which stays in the
# signed host), AWS's own over https (port dropped), and an explicit default port (dropped too).
PATH_STYLE_ENDPOINTS = ["http://127.0.0.1:9000", "http://localhost:5000", "https://s3.eu-west-1.amazonaws.com", "https://minio.test:443"]
REGIONS = ["us-east-1", "eu-west-1", "garage"]
KEYS = [
    ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
    ("GK31c2f218a2e44f485b94239e", "b892c0665f0ada8a4755dae98baa3b133590e11dae3bcc1f9d769d67f16c3835"),
]

# The pieces keys and query strings are made of: plain words, every reserved character of RFC
# 3986 and the ones S3 users trip on, whitespace, `%` (already-encoded-looking text), unicode in
# one and several bytes, a combining accent (`e` + U+0301, distinct from the precomposed `é`),
# and a character outside the BMP.
WORDS = ["wheel", "pkg", "a", "A", "z", "0", "1.0", "v2", "simple", "files", "~user", "dist-info", "under_score"]
SPECIAL = list("!*'();:@&=+$,/?#[] ") + ["%", "%20", "%2F", "~", "-", ".", "_", "\t", "..", "//", "  "]
UNICODE = ["é", "e\u0301", "ü", "ß", "日本", "ሴ", "🐍", "Ω", "\u00a0"]

# Query names S3 actually uses, and names whose order depends on how the sort is done
# (`a` < `a-b` < `a.b` < `a_b` by name, though `a=` sorts after `a-b=` as whole strings).
QUERY_NAMES = [
    "prefix", "delimiter", "list-type", "continuation-token", "start-after", "max-keys", "encoding-type",
    "uploadId", "partNumber", "versionId", "response-content-disposition", "response-content-type",
    "a", "a-b", "a.b", "a_b", "A", "Z", "~t", "x-id", "uploads", "delete",
]

# Headers botocore leaves out of the signature whatever the request holds (SIGNED_HEADERS_BLACKLIST);
# a few generated requests carry some of them, so the Swift side checks it leaves them out too.
UNSIGNED_HEADERS = [("User-Agent", "Boto3/1.40.0 md/Botocore#1.44.8 ua/2.1"), ("Expect", "100-continue")]


def text(rng: random.Random, pieces: int) -> str:
    """A string of `pieces` random parts, each a word, a special character or a unicode one."""
    out = []
    for _ in range(pieces):
        pool = rng.choice([WORDS, WORDS, SPECIAL, UNICODE])
        out.append(rng.choice(pool))
    return "".join(out)


def object_key(rng: random.Random) -> str:
    """An S3 key: usually path-like, sometimes with a leading or doubled slash or dot segments,
    which S3 keeps (its canonical URI is never normalised)."""
    parts = [text(rng, rng.randint(1, 4)) for _ in range(rng.randint(1, 4))]
    key = "/".join(parts)
    shape = rng.random()
    if shape < 0.08:
        key = "/" + key
    elif shape < 0.16:
        key = key + "/"
    elif shape < 0.22:
        key = "a/./b/../" + key
    return key or "k"


def query_items(rng: random.Random, repeated_names: bool) -> list[tuple[str, str]]:
    """Zero to six query items: known and random names, values with reserved characters or empty;
    with `repeated_names`, a name may come back with another value (or the same one)."""
    items: list[tuple[str, str]] = []
    for _ in range(rng.choice([0, 0, 1, 2, 3, 4, 6])):
        if repeated_names and items and rng.random() < 0.25:
            name = rng.choice(items)[0]
        else:
            name = rng.choice(QUERY_NAMES) if rng.random() < 0.6 else text(rng, rng.randint(1, 3))
        if not repeated_names and any(name == other for other, _ in items):
            continue
        shape = rng.random()
        if shape < 0.2:
            value = ""
        elif shape < 0.3 and items:
            value = items[-1][1]
        elif shape < 0.4:
            # A continuation token: base64, so `+`, `/` and `=` in one value.
            value = base64.b64encode(rng.randbytes(rng.randint(4, 24))).decode()
        else:
            value = text(rng, rng.randint(1, 5))
        items.append((name, value))
    return items


def header_items(rng: random.Random, method: str, body: bytes, presign: bool) -> list[tuple[str, str]]:
    """Headers a client signs besides the ones the signer adds: names in mixed case, values with
    leading, trailing and inner runs of spaces and tabs (signed as one space), a repeated name
    (signed as its values joined by commas, in order). ASCII only: HTTP header values are bytes,
    and botocore's trimming (Python's str.split) and SigV4's differ only on exotic whitespace."""
    headers: list[tuple[str, str]] = []
    if presign:
        # A presigned URL signs only `host`, unless the client promises to send more.
        if rng.random() < 0.25:
            headers.append(("Content-Type", "application/octet-stream"))
        if rng.random() < 0.15:
            headers.append(("x-amz-meta-origin", "  wheel \t house  "))
        return headers
    if method in ("PUT", "POST"):
        if rng.random() < 0.7:
            headers.append(("Content-Type", rng.choice(["application/octet-stream", "text/plain; charset=utf-8", "application/xml"])))
        if rng.random() < 0.5:
            headers.append(("Content-MD5", base64.b64encode(hashlib.md5(body).digest()).decode()))
        if rng.random() < 0.4:
            headers.append(("Content-Length", str(len(body))))
    if method == "PUT" and rng.random() < 0.5:
        headers.append(("x-amz-meta-sha256", hashlib.sha256(body).hexdigest()))
        headers.append(("X-Amz-Meta-Project", rng.choice(["wheelhouse", " spaced   out ", "tab\there", "a  b\t\tc"])))
        if rng.random() < 0.4:
            # Values in an order that is not sorted, so that the order given is what is signed.
            headers.append(("x-amz-meta-note", rng.choice(["zeta", "first"])))
            headers.append(("x-amz-meta-note", rng.choice(["alpha", "  second  ", "first"])))
    if method == "PUT" and rng.random() < 0.2:
        headers.append(("x-amz-copy-source", "/bucket/" + percent_encode(object_key(rng), safe="/~")))
    if method in ("GET", "HEAD"):
        if rng.random() < 0.3:
            headers.append(("Range", f"bytes={rng.randint(0, 99)}-{rng.randint(100, 999)}"))
        if rng.random() < 0.2:
            headers.append(("If-None-Match", '"' + hashlib.md5(body + b"x").hexdigest() + '"'))
    if rng.random() < 0.2:
        headers.append(rng.choice(UNSIGNED_HEADERS))
    return headers


def body_for(rng: random.Random, method: str, presign: bool) -> bytes:
    """PUT and POST carry a body (sometimes empty); others none. A presigned URL never does:
    botocore would move a body's form fields into the query."""
    if presign or method not in ("PUT", "POST"):
        return b""
    shape = rng.random()
    if shape < 0.15:
        return b""
    if shape < 0.5:
        return "<Delete><Object><Key>{}</Key></Object></Delete>".format(text(rng, 3)).encode()
    return rng.randbytes(rng.randint(1, 200))


class Recording:
    """Keeps the canonical request and string to sign botocore computes inside add_auth."""

    def canonical_request(self, request):
        self.recorded_canonical_request = super().canonical_request(request)
        return self.recorded_canonical_request

    def string_to_sign(self, request, canonical_request):
        self.recorded_string_to_sign = super().string_to_sign(request, canonical_request)
        return self.recorded_string_to_sign


class RecordingS3SigV4Auth(Recording, botocore.auth.S3SigV4Auth):
    pass


class RecordingS3SigV4QueryAuth(Recording, botocore.auth.S3SigV4QueryAuth):
    pass


def generate(rng: random.Random, index: int) -> dict:
    """One request, its inputs and botocore's signature of it."""
    presign = index % 4 == 3
    method = rng.choice(["GET", "HEAD", "DELETE", "PUT"] if presign else ["GET", "GET", "PUT", "PUT", "POST", "DELETE", "HEAD"])
    region = rng.choice(REGIONS)
    bucket = rng.choice(["wheelhouse", "my.bucket", "b-1"])
    # Bucket-level requests (listing, multi-object delete) have no key.
    key = None if (method in ("GET", "POST") and rng.random() < 0.2) else object_key(rng)
    if rng.random() < 0.2 and "." not in bucket:
        addressing = "virtual"
        endpoint = rng.choice([f"https://{bucket}.s3.{region}.amazonaws.com", f"http://{bucket}.localhost:9000"])
        path = "/" + (key or "")
    else:
        addressing = "path"
        endpoint = rng.choice(PATH_STYLE_ENDPOINTS)
        path = f"/{bucket}" + ("" if key is None else "/" + key)
    query = query_items(rng, repeated_names=not presign)
    body = body_for(rng, method, presign)
    headers = header_items(rng, method, body, presign)
    access_key, secret_key = rng.choice(KEYS)
    token = None
    if rng.random() < 0.35:
        token = base64.b64encode(rng.randbytes(rng.randint(40, 120))).decode()
    payload = "unsigned" if presign or rng.random() < 0.3 else "sha256"

    # What botocore's S3 client sends: the encoded path, the query in the URL.
    url = endpoint + percent_encode(path, safe="/~")
    if query:
        url += "?" + percent_encode_sequence(query)
    request = AWSRequest(method=method, url=url, data=body)
    for name, value in headers:
        request.headers[name] = value  # HTTPHeaders appends: a repeated name stays repeated
    request.context["client_config"] = Config(s3={"payload_signing_enabled": payload == "sha256"})
    credentials = Credentials(access_key, secret_key, token)
    if presign:
        signer = RecordingS3SigV4QueryAuth(credentials, "s3", region, expires=EXPIRES)
    else:
        signer = RecordingS3SigV4Auth(credentials, "s3", region)
    with mock.patch.object(botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: NOW):
        signer.add_auth(request)

    case = {
        "index": index,
        "kind": "presign" if presign else "header",
        "timestamp": TIMESTAMP,
        "region": region,
        "endpoint": endpoint,
        "addressing": addressing,
        "method": method,
        "bucket": bucket,
        "key": key,
        "query": query,
        "headers": headers,
        "body_base64": base64.b64encode(body).decode(),
        "payload": payload,
        "access_key": access_key,
        "secret_key": secret_key,
        "token": token,
        "botocore": {
            "canonical_request": signer.recorded_canonical_request,
            "string_to_sign": signer.recorded_string_to_sign,
        },
    }
    if presign:
        case["expires"] = EXPIRES
        case["botocore"]["url"] = request.url
    else:
        case["botocore"]["headers"] = [[name, value] for name, value in request.headers.items()]
    return case


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20260314)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    # The version first, so that a failure report names the botocore it was compared with.
    print(json.dumps({"botocore_version": botocore.__version__}))
    for index in range(args.count):
        print(json.dumps(generate(rng, index)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
