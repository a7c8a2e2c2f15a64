"""A credentials provider that asks Cloudflare's API for temporary R2 credentials.

``POST /accounts/{account_id}/r2/temp-access-credentials`` with an API token (``Authorization:
Bearer``) and a JSON body naming the bucket, the parent access key id, the permission, the TTL
and optional prefixes or objects; the answer wraps ``accessKeyId``, ``secretAccessKey`` and
``sessionToken`` in ``{"success": true, "result": {...}}``. The credentials are given an
``expires_at`` of the request's start plus the TTL, so r2async refreshes them ahead of it.

Tested at the wire (respx) against the documented request and response shapes: no Cloudflare
account is reachable from r2async's test machines.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import Any, Literal

import httpx

from .credentials import Credentials

__all__ = ["CloudflareTemporaryCredentials", "TemporaryPermission"]

TemporaryPermission = Literal[
    "admin-read-write", "admin-read-only", "object-read-write", "object-read-only"
]
_PERMISSIONS = ("admin-read-write", "admin-read-only", "object-read-write", "object-read-only")
_ACCOUNT_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")
API_URL = "https://api.cloudflare.com/client/v4"
# Cloudflare's own limit on ttlSeconds (7 days).
MAX_TTL = 604_800
# Cloudflare's error answers are small JSON documents; never buffer an unbounded one.
_MAX_ANSWER = 64 * 1024


class TemporaryCredentialsError(Exception):
    """Cloudflare refused or garbled a temporary-credentials request (no secret in the text)."""


def _text(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if not value or value != value.strip() or not value.isascii() or not value.isprintable():
        raise ValueError(f"{name} must be non-empty printable ASCII without surrounding spaces")
    return value


def _paths(name: str, value: object) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a list of strings (or None)")
    out = []
    for item in value:
        if not isinstance(item, str) or not item:
            raise ValueError(f"{name} must hold non-empty strings")
        out.append(item)
    return out


class CloudflareTemporaryCredentials:
    """Temporary R2 credentials from Cloudflare's API, as an r2async credentials provider.

    ``R2Client(credentials=CloudflareTemporaryCredentials(...))`` asks for credentials on the
    first request and again ahead of their expiry. The API token is never shown in ``repr``,
    logs or messages.
    """

    def __init__(
        self,
        *,
        api_token: str,
        account_id: str,
        bucket: str,
        parent_access_key_id: str,
        permission: TemporaryPermission = "object-read-write",
        ttl_seconds: int = 3600,
        prefixes: Sequence[str] | None = None,
        objects: Sequence[str] | None = None,
        api_url: str = API_URL,
        timeout: float = 30.0,
    ) -> None:
        """Check the request's parts; nothing is sent until credentials are needed.

        Args:
            api_token: a Cloudflare API token allowed to create temporary R2 credentials.
            account_id: the Cloudflare account id.
            bucket: the bucket the credentials are scoped to.
            parent_access_key_id: the access key id of the R2 API token they derive from.
            permission: one of 'admin-read-write', 'admin-read-only', 'object-read-write'
                (default), 'object-read-only'.
            ttl_seconds: lifetime of each set of credentials, 60 to 604,800 (default 3600).
            prefixes: key prefixes to scope them to (default None: the whole bucket).
            objects: object keys to scope them to (default None).
            api_url: the API's base URL (default Cloudflare's v4 API; tests point it elsewhere).
            timeout: seconds for one API call (default 30).
        """
        from .._headers import validate_bucket

        self._token = _text("api_token", api_token)
        self.account_id = _text("account_id", account_id)
        if not _ACCOUNT_ID.match(account_id):
            raise ValueError("account_id must be a Cloudflare account id (letters and digits)")
        validate_bucket(bucket)
        self.bucket = bucket
        self.parent_access_key_id = _text("parent_access_key_id", parent_access_key_id)
        if permission not in _PERMISSIONS:
            raise ValueError(f"permission must be one of {', '.join(_PERMISSIONS)}")
        self.permission = permission
        if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int):
            raise TypeError("ttl_seconds must be an int")
        if not 60 <= ttl_seconds <= MAX_TTL:
            raise ValueError(f"ttl_seconds must be between 60 and {MAX_TTL} (7 days)")
        self.ttl_seconds = ttl_seconds
        self.prefixes = _paths("prefixes", prefixes)
        self.objects = _paths("objects", objects)
        try:
            base = httpx.URL(api_url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise ValueError(f"api_url is not a valid URL: {exc}") from None
        if base.scheme not in ("http", "https") or not base.host:
            raise ValueError("api_url must be an absolute http(s) URL")
        self.url = str(base).rstrip("/") + f"/accounts/{account_id}/r2/temp-access-credentials"
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise TypeError("timeout must be seconds (a number)")
        if not 0 < timeout < float("inf"):
            raise ValueError("timeout must be a positive, finite number of seconds")
        self.timeout = float(timeout)

    def __repr__(self) -> str:
        return (
            f"CloudflareTemporaryCredentials(account_id={self.account_id!r}, "
            f"bucket={self.bucket!r}, permission={self.permission!r}, "
            f"ttl_seconds={self.ttl_seconds})"
        )

    def body(self) -> dict[str, Any]:
        """The JSON request body, as the API documents it."""
        body: dict[str, Any] = {
            "bucket": self.bucket,
            "parentAccessKeyId": self.parent_access_key_id,
            "permission": self.permission,
            "ttlSeconds": self.ttl_seconds,
        }
        if self.prefixes is not None:
            body["prefixes"] = self.prefixes
        if self.objects is not None:
            body["objects"] = self.objects
        return body

    async def __call__(self) -> Credentials:
        """Ask the API for a new set of temporary credentials."""
        from anyio import to_thread

        from .._transports.tls import shared_ssl_context

        # The requested lifetime counts from before the request: never later than the truth.
        started = dt.datetime.now(dt.timezone.utc)
        # Building the TLS context reads the CA bundle: off the event loop.
        context = await to_thread.run_sync(shared_ssl_context)
        failure: str | None = None
        try:
            async with httpx.AsyncClient(
                verify=context, timeout=self.timeout, trust_env=False, follow_redirects=False
            ) as http:
                response = await http.post(
                    self.url,
                    content=json.dumps(self.body()).encode(),
                    headers={
                        "Authorization": f"Bearer {self._token}",
                        "Content-Type": "application/json",
                        "Accept": "application/json",
                    },
                )
                data = response.content[:_MAX_ANSWER]
        except httpx.HTTPError as exc:
            # httpx's exception holds the request, and so the API token: raised outside this
            # block, so that it is neither the cause nor the context of r2async's error.
            failure = type(exc).__name__
        if failure is not None:
            raise TemporaryCredentialsError(
                f"could not reach Cloudflare's API for temporary credentials: {failure}"
            )
        answer = _json(data)
        if response.status_code != 200 or not isinstance(answer, dict) or not answer.get("success"):
            raise TemporaryCredentialsError(
                f"Cloudflare refused temporary credentials (HTTP {response.status_code}): "
                + _errors(answer)
            )
        result = answer.get("result")
        if not isinstance(result, dict):
            raise TemporaryCredentialsError("Cloudflare's answer has no 'result' object")
        fields = [result.get(n) for n in ("accessKeyId", "secretAccessKey", "sessionToken")]
        if not all(isinstance(f, str) and f for f in fields):
            raise TemporaryCredentialsError(
                "Cloudflare's answer lacks accessKeyId, secretAccessKey or sessionToken"
            )
        akid, secret, token = fields
        assert isinstance(akid, str) and isinstance(secret, str) and isinstance(token, str)
        try:
            return Credentials(
                akid,
                secret,
                token,
                expires_at=started + dt.timedelta(seconds=self.ttl_seconds),
            )
        except (TypeError, ValueError):
            raise TemporaryCredentialsError(
                "Cloudflare's answer holds credentials that are not usable in HTTP headers"
            ) from None


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def _errors(answer: Any) -> str:
    # Cloudflare's {"errors": [{"code": 10000, "message": "..."}]}; codes and messages only.
    if isinstance(answer, dict) and isinstance(answer.get("errors"), list):
        parts = [
            f"{e.get('code')}: {str(e.get('message'))[:200]}"
            for e in answer["errors"][:5]
            if isinstance(e, dict)
        ]
        if parts:
            return "; ".join(parts)
    return "no error details in the answer"
