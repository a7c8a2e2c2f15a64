"""Independent signature check for wire tests: botocore's S3 signer recomputes the signature."""

from __future__ import annotations

import hashlib

import httpx
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def signed_header_names(request: httpx.Request) -> list[str]:
    """The SignedHeaders list of a request's Authorization header."""
    auth = request.headers["authorization"]
    part = next(p for p in auth.split(", ") if p.startswith("SignedHeaders="))
    return part.split("=", 1)[1].split(";")


def assert_signature_valid(
    request: httpx.Request,
    *,
    access_key_id: str,
    secret_access_key: str,
    session_token: str | None = None,
    region: str = "auto",
) -> None:
    """Assert that botocore, given the same signed headers, computes the same signature.

    Also checks the payload hash matches the body when it is not UNSIGNED-PAYLOAD.
    """
    names = signed_header_names(request)
    assert "host" in names and "x-amz-date" in names and "x-amz-content-sha256" in names
    body = request.content
    payload = request.headers["x-amz-content-sha256"]
    if payload != "UNSIGNED-PAYLOAD":
        assert payload == hashlib.sha256(body).hexdigest()
    headers = {name: request.headers[name] for name in names}
    aws = AWSRequest(method=request.method, url=str(request.url), headers=headers, data=body)
    aws.context["timestamp"] = request.headers["x-amz-date"]
    signer = S3SigV4Auth(Credentials(access_key_id, secret_access_key, session_token), "s3", region)
    canonical = signer.canonical_request(aws)
    expected = signer.signature(signer.string_to_sign(aws, canonical), aws)
    got = request.headers["authorization"].rsplit("Signature=", 1)[1]
    assert got == expected, f"signature mismatch; botocore canonical request:\n{canonical}"
