"""Endpoint resolution, environment loading and defaults."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from ._signing.credentials import Credentials

if TYPE_CHECKING:
    from ._aws_config import Profile
else:
    Profile = Any

REGION = "auto"
JURISDICTIONS = ("eu", "fedramp", "us")
DEFAULT_MAX_RETRIES = 3
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
# Enough for a busy web backend; bounded so that 2,000 concurrent calls queue
# instead of opening 2,000 sockets.
DEFAULT_LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=32, keepalive_expiry=30)

_ACCOUNT_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")


@dataclass(frozen=True)
class Settings:
    """Resolved client settings: static credentials or a provider, and the endpoint."""

    credentials: Credentials | None
    endpoint: httpx.URL
    # A callable returning Credentials (see _signing.providers), when credentials is None.
    provider: Any = None
    # The SigV4 signing region: R2 takes "auto"; other S3 servers may check theirs.
    region: str = REGION


def _pick(explicit: str | None, env: Mapping[str, str], name: str) -> str | None:
    if explicit is not None:
        return explicit
    value = env.get(name)
    return value if value else None


def endpoint_for(account_id: str, jurisdiction: str | None = None) -> str:
    """The R2 S3 endpoint for an account, optionally inside a jurisdiction.

    Args:
        account_id: the Cloudflare account id.
        jurisdiction: None (default), or one of 'eu', 'fedramp', 'us'.
    """
    if not _ACCOUNT_ID.match(account_id):
        raise ValueError(
            f"account_id {account_id!r} is not a Cloudflare account id (letters and digits only); "
            "find it in the dashboard under R2 > Overview"
        )
    if jurisdiction is None or jurisdiction == "":
        return f"https://{account_id}.r2.cloudflarestorage.com"
    if jurisdiction not in JURISDICTIONS:
        raise ValueError(
            f"jurisdiction={jurisdiction!r}: use one of {', '.join(JURISDICTIONS)} or None"
        )
    return f"https://{account_id}.{jurisdiction}.r2.cloudflarestorage.com"


def resolve(
    *,
    account_id: str | None,
    access_key_id: str | None,
    secret_access_key: str | None,
    session_token: str | None,
    jurisdiction: str | None,
    endpoint_url: str | None,
    credentials: object = None,
    profile: str | None = None,
    region: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Combine explicit arguments, ``R2_*`` variables and AWS-style configuration.

    Credentials, first found wins: ``credentials=`` (a value or a provider); the explicit key
    arguments and ``R2_ACCESS_KEY_ID``/``R2_SECRET_ACCESS_KEY``/``R2_SESSION_TOKEN``;
    ``profile=``'s keys; ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/
    ``AWS_SESSION_TOKEN``; the keys of ``AWS_PROFILE`` (else the default profile).
    Endpoint: ``endpoint_url=``; ``R2_ENDPOINT_URL``; ``account_id=``/``R2_ACCOUNT_ID`` with
    the jurisdiction; ``AWS_ENDPOINT_URL_S3``; ``AWS_ENDPOINT_URL``; the profile's S3
    ``endpoint_url`` (its ``services`` section first).

    Args:
        account_id: Cloudflare account id, else ``R2_ACCOUNT_ID``.
        access_key_id: else ``R2_ACCESS_KEY_ID``.
        secret_access_key: else ``R2_SECRET_ACCESS_KEY``.
        session_token: else ``R2_SESSION_TOKEN`` (temporary credentials).
        jurisdiction: else ``R2_JURISDICTION`` ('eu', 'fedramp', 'us').
        endpoint_url: else ``R2_ENDPOINT_URL``; overrides account and jurisdiction.
        credentials: ``Credentials`` or a provider (a callable returning them); default None.
        profile: an AWS profile name in ``~/.aws/credentials``/``~/.aws/config``; default
            None (``AWS_PROFILE``, else the default profile, consulted only when needed).
        region: the signing region, else ``R2_REGION``, else "auto" (R2's).
        env: the environment to read (default ``os.environ``).
    """
    env = os.environ if env is None else env
    for name, value in (
        ("account_id", account_id),
        ("access_key_id", access_key_id),
        ("secret_access_key", secret_access_key),
        ("session_token", session_token),
        ("jurisdiction", jurisdiction),
        ("endpoint_url", endpoint_url),
        ("profile", profile),
        ("region", region),
    ):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name} must be str or None, got {type(value).__name__}")
    if credentials is not None and not (
        isinstance(credentials, Credentials) or callable(credentials)
    ):
        raise TypeError(
            "credentials must be r2async.Credentials or a callable (sync or async) returning "
            f"them, got {type(credentials).__name__}"
        )
    if credentials is not None and (access_key_id or secret_access_key or session_token):
        raise ValueError(
            "pass either credentials= or access_key_id=/secret_access_key=/session_token=, not both"
        )
    profiles = _Profiles(profile, env)
    static: Credentials | None = credentials if isinstance(credentials, Credentials) else None
    provider: Any = credentials if credentials is not None and static is None else None
    missing: list[str] = []
    if credentials is None:
        static, missing = _static_credentials(
            access_key_id, secret_access_key, session_token, env, profiles
        )
    url = _pick(endpoint_url, env, "R2_ENDPOINT_URL")
    account = _pick(account_id, env, "R2_ACCOUNT_ID")
    if url is None and account is not None:
        url = endpoint_for(account, _pick(jurisdiction, env, "R2_JURISDICTION"))
    if url is None:
        url = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or None
    if url is None:
        found = profiles.get()
        url = found.endpoint_url if found is not None else None
    if url is None:
        missing.insert(0, "R2_ACCOUNT_ID (or R2_ENDPOINT_URL)")
    if missing:
        raise ValueError(
            "missing R2 settings: set "
            + ", ".join(missing)
            + " in the environment, or pass account_id=/endpoint_url=, access_key_id= and "
            "secret_access_key= (or credentials=) to R2Client; AWS-style AWS_ACCESS_KEY_ID, "
            "AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL_S3 and ~/.aws profiles work too"
        )
    assert url is not None
    signing_region = _check_region(_pick(region, env, "R2_REGION") or REGION)
    return Settings(static, _check_endpoint(url), provider, signing_region)


class _Profiles:
    """The profile to consult, loaded once and only when needed (an explicit one always)."""

    def __init__(self, explicit: str | None, env: Mapping[str, str]) -> None:
        self._env = env
        self._name = explicit if explicit is not None else (env.get("AWS_PROFILE") or None)
        self._loaded = False
        self._profile: Profile | None = None
        if explicit is not None:
            if not explicit:
                raise ValueError("profile must be a profile name, not empty")
            self.get()

    @property
    def explicit(self) -> Profile | None:
        return self._profile if self._loaded and self._name is not None else None

    def get(self) -> Profile | None:
        if not self._loaded:
            from ._aws_config import load_profile

            self._profile = load_profile(
                self._name or "default", self._env, required=self._name is not None
            )
            self._loaded = True
        return self._profile


def _static_credentials(
    access_key_id: str | None,
    secret_access_key: str | None,
    session_token: str | None,
    env: Mapping[str, str],
    profiles: _Profiles,
) -> tuple[Credentials | None, list[str]]:
    # Tiers, first complete one wins; a half-set R2 tier is an error naming what is missing.
    akid = _pick(access_key_id, env, "R2_ACCESS_KEY_ID")
    secret = _pick(secret_access_key, env, "R2_SECRET_ACCESS_KEY")
    if akid or secret:
        missing = [
            var
            for var, value in (("R2_ACCESS_KEY_ID", akid), ("R2_SECRET_ACCESS_KEY", secret))
            if not value
        ]
        if missing:
            return None, missing
        assert akid is not None and secret is not None
        return Credentials(akid, secret, _pick(session_token, env, "R2_SESSION_TOKEN")), []
    explicit = profiles.explicit
    if explicit is not None and explicit.access_key_id and explicit.secret_access_key:
        return _from_profile(explicit), []
    aws_akid, aws_secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if aws_akid and aws_secret:
        return Credentials(aws_akid, aws_secret, env.get("AWS_SESSION_TOKEN") or None), []
    found = profiles.get()
    if found is not None and found.access_key_id and found.secret_access_key:
        return _from_profile(found), []
    return None, ["R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY"]


def _from_profile(profile: Profile) -> Credentials:
    assert profile.access_key_id is not None and profile.secret_access_key is not None
    return Credentials(profile.access_key_id, profile.secret_access_key, profile.session_token)


def _check_endpoint(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"endpoint_url {url!r} is not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(
            f"endpoint_url {url!r} must be an absolute http(s) URL such as "
            "'https://<ACCOUNT_ID>.r2.cloudflarestorage.com'"
        )
    if parsed.query or parsed.fragment:
        raise ValueError(f"endpoint_url {url!r} must not have a query or fragment")
    if parsed.userinfo:
        raise ValueError("endpoint_url must not embed credentials; pass them as arguments")
    # A path prefix (e.g. behind a reverse proxy) is kept; normalise to no trailing slash.
    path = parsed.raw_path.rstrip(b"/")
    return parsed.copy_with(raw_path=path or b"")


_REGION = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def _check_region(region: str) -> str:
    # A region goes into the credential scope of every signature: a token of lowercase
    # letters, digits and dashes ("us-east-1", "auto"), as every S3 server names them.
    if not _REGION.match(region):
        raise ValueError(
            f"region {region!r} is not a region name (lowercase letters, digits and '-', "
            "such as 'us-east-1'); R2 uses 'auto', the default"
        )
    return region
