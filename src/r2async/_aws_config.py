"""AWS-style configuration: the ``AWS_*`` variables and the shared ``~/.aws`` files.

Many R2 users configured the AWS CLI for R2 already. What is read, as the AWS CLI reads it:

- ``~/.aws/credentials`` (or ``AWS_SHARED_CREDENTIALS_FILE``): sections named after the
  profile (``[default]``, ``[r2]``) with ``aws_access_key_id``, ``aws_secret_access_key`` and
  ``aws_session_token``;
- ``~/.aws/config`` (or ``AWS_CONFIG_FILE``): ``[default]`` and ``[profile NAME]`` sections;
  credentials there are used when the credentials file has none for the profile; the endpoint
  comes from ``endpoint_url`` in the profile, or, preferred, from the profile's ``services``
  section: ``services = NAME`` pointing at ``[services NAME]`` with a nested ``s3 =`` block
  holding ``endpoint_url``.

Files are read when the client is constructed (before any request, never during one); a
profile that does not exist or a file that cannot be parsed is a ``ValueError`` naming both.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Profile", "load_profile"]


@dataclass(frozen=True, slots=True, repr=False)
class Profile:
    """What a named profile holds for r2async (the secret is never in ``repr``)."""

    name: str
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    endpoint_url: str | None = None

    def __repr__(self) -> str:
        return f"Profile(name={self.name!r}, endpoint_url={self.endpoint_url!r})"


def _path(env: Mapping[str, str], variable: str, default: str) -> str:
    return os.path.expanduser(env.get(variable) or default)


def _read(path: str, profile: str) -> configparser.RawConfigParser | None:
    if not os.path.isfile(path):
        return None
    parser = configparser.RawConfigParser(interpolation=None)
    failure: str | None = None
    try:
        with open(path, encoding="utf-8") as f:
            parser.read_file(f, source=path)
    except (configparser.Error, UnicodeDecodeError, OSError) as exc:
        # configparser's message quotes the offending line; in a credentials file that may
        # be a secret, so only the kind of error and its position are kept, and the error is
        # raised outside this block so that it is not even reachable as __context__.
        line = getattr(exc, "lineno", None)
        failure = type(exc).__name__ + (f" (line {line})" if line else "")
    if failure is not None:
        raise ValueError(
            f"cannot read the AWS configuration file {path} for profile {profile!r}: "
            f"{failure}; fix the file or pass credentials explicitly"
        )
    return parser


def _nested(value: str) -> dict[str, str]:
    # A nested block ("s3 =\n  endpoint_url = ...") arrives as one multi-line value.
    out: dict[str, str] = {}
    for line in value.splitlines():
        if "=" in line:
            key, _, val = line.partition("=")
            out[key.strip().lower()] = val.strip()
    return out


def load_profile(name: str, env: Mapping[str, str], *, required: bool) -> Profile | None:
    """The profile ``name`` from the shared files, or None if absent and not ``required``.

    Args:
        name: the profile name ("default" for the default profile).
        env: the environment (for ``AWS_SHARED_CREDENTIALS_FILE`` and ``AWS_CONFIG_FILE``).
        required: raise a ``ValueError`` naming the files when the profile is in neither.
    """
    creds_path = _path(env, "AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
    config_path = _path(env, "AWS_CONFIG_FILE", "~/.aws/config")
    creds_file = _read(creds_path, name)
    config_file = _read(config_path, name)
    values: dict[str, str] = {}
    found = False
    config_section = name if name == "default" else f"profile {name}"
    if config_file is not None:
        for section in (config_section, name) if name == "default" else (config_section,):
            if config_file.has_section(section):
                found = True
                values.update({k.lower(): v for k, v in config_file.items(section)})
                break
    if creds_file is not None and creds_file.has_section(name):
        found = True
        # The credentials file wins over credentials in the config file, as in the AWS CLI.
        values.update({k.lower(): v for k, v in creds_file.items(name)})
    if not found:
        if required:
            raise ValueError(
                f"AWS profile {name!r} not found in {creds_path} or {config_path}; "
                "check the name (profile= or AWS_PROFILE) or create it with 'aws configure "
                f"--profile {name}'"
            )
        return None
    endpoint = None
    services = values.get("services")
    if services and config_file is not None:
        section = f"services {services.strip()}"
        if not config_file.has_section(section):
            raise ValueError(
                f"AWS profile {name!r} names services {services.strip()!r}, but {config_path} "
                f"has no [{section}] section"
            )
        s3 = config_file.get(section, "s3", fallback=None)
        if s3:
            endpoint = _nested(s3).get("endpoint_url")
    if endpoint is None:
        s3 = values.get("s3")
        endpoint = (_nested(s3).get("endpoint_url") if s3 else None) or values.get("endpoint_url")
    return Profile(
        name=name,
        access_key_id=values.get("aws_access_key_id") or None,
        secret_access_key=values.get("aws_secret_access_key") or None,
        session_token=values.get("aws_session_token") or None,
        endpoint_url=endpoint or None,
    )
