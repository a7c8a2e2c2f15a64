"""Sans-IO builders, parsers and models for bucket configurations: CORS, lifecycle, encryption.

The rule models (``CORSRule``, ``LifecycleRule``, ``LifecycleTransition``) are both what the
``get_*`` methods return and what the ``put_*`` methods take. Built by a caller, they enforce
R2's rules (r2-s3-api.md §9.6, §9.7) so a bad configuration fails before any I/O; parsed from a
server they are read leniently (a server's own limits may differ, e.g. SeaweedFS stores a
``MaxAgeSeconds`` above R2's 86,400).
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar

from pydantic import ValidationError, ValidationInfo, field_validator, model_validator

from .. import _xml
from .._body import Body
from .._checksums import content_md5
from .._exceptions import ResponseParseError
from .._headers import validate_bucket
from .._models import R2Model, parse_iso_date, request_id
from .._spec import RequestSpec

__all__ = [
    "CORS_METHODS",
    "MAX_CORS_MAX_AGE",
    "MAX_LIFECYCLE_RULES",
    "BucketEncryption",
    "CORSMethod",
    "CORSRule",
    "DeleteBucketCorsResult",
    "DeleteBucketLifecycleResult",
    "LifecycleRule",
    "LifecycleTransition",
    "PutBucketCorsResult",
    "PutBucketLifecycleConfigurationResult",
    "build_delete_bucket_cors",
    "build_delete_bucket_lifecycle",
    "build_get_bucket_cors",
    "build_get_bucket_encryption",
    "build_get_bucket_lifecycle_configuration",
    "build_put_bucket_cors",
    "build_put_bucket_lifecycle_configuration",
    "parse_bucket_encryption",
    "parse_cors_rules",
    "parse_lifecycle_rules",
]

CORSMethod = Literal["GET", "PUT", "POST", "DELETE", "HEAD"]
CORS_METHODS: tuple[str, ...] = ("GET", "PUT", "POST", "DELETE", "HEAD")
MAX_CORS_MAX_AGE = 86400  # R2's documented maximum for MaxAgeSeconds (§6)
MAX_LIFECYCLE_RULES = 1000  # R2's per-bucket limit (§6)
MAX_RULE_ID = 255  # S3's limit on a rule ID

# Error codes meaning "this bucket has no such configuration" (S3, R2, SeaweedFS).
NO_CORS_CODE = "NoSuchCORSConfiguration"
NO_LIFECYCLE_CODE = "NoSuchLifecycleConfiguration"

# scheme://host[:port], nothing after: R2 rejects origins with a path (§9.6). The host may hold
# a '*' wildcard (e.g. https://*.example.com), as S3 allows.
_ORIGIN = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#:@]+(:[0-9]{1,5})?$")
# A header name, or an S3 wildcard pattern such as 'x-amz-meta-*' or '*'.
_HEADER_PATTERN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")

_LENIENT = {"lenient": True}


def _strict(info: ValidationInfo) -> bool:
    """False while parsing a server's answer (context ``{"lenient": True}``)."""
    ctx = info.context
    return not (isinstance(ctx, dict) and ctx.get("lenient"))


def _as_tuple(value: object) -> object:
    # A single str is a common slip for a one-element list: wrap it rather than split it into
    # characters. Lists become tuples so equal rules compare equal however they were built.
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(value)
    return value


def _midnight_date(value: object, name: str) -> object:
    """Turn a datetime at midnight UTC into a date; other datetimes are an error."""
    if isinstance(value, dt.datetime):
        utc = value if value.tzinfo is None else value.astimezone(dt.timezone.utc)
        if utc.time() != dt.time(0, 0):
            raise ValueError(
                f"{name} must fall on midnight UTC (S3 lifecycle dates are whole days); "
                "pass a datetime.date"
            )
        return utc.date()
    return value


def _check_days(value: int | None, name: str) -> None:
    if value is not None and value < 1:
        raise ValueError(f"{name}={value}: must be at least 1 day")


# ---------------------------------------------------------------------------------------------
# CORS


class CORSRule(R2Model):
    """One CORS rule of a bucket (S3 ``CORSRule``).

    Attributes:
        allowed_origins: origins as ``scheme://host[:port]`` (no path), or ``*``.
        allowed_methods: any of GET, PUT, POST, DELETE, HEAD (case-insensitive on input).
        allowed_headers: request headers a preflight may ask for (``*`` for any); default none.
        expose_headers: response headers a browser may read, e.g. ``ETag``; default none.
        max_age_seconds: how long a browser may cache the preflight, 0-86400; default unset.
        id: an optional rule name (at most 255 characters).
    """

    # Sequence in the signature (callers pass lists); stored as tuples so rules hash and compare.
    allowed_origins: Sequence[str]
    allowed_methods: Sequence[CORSMethod]
    allowed_headers: Sequence[str] = ()
    expose_headers: Sequence[str] = ()
    max_age_seconds: int | None = None
    id: str | None = None

    @field_validator("allowed_origins", "allowed_headers", "expose_headers", mode="before")
    @classmethod
    def _wrap_str(cls, value: object) -> object:
        return _as_tuple(value)

    @field_validator("allowed_methods", mode="before")
    @classmethod
    def _upper_methods(cls, value: object) -> object:
        value = _as_tuple(value)
        if isinstance(value, tuple):
            return tuple(v.upper() if isinstance(v, str) else v for v in value)
        return value

    @model_validator(mode="after")
    def _r2_rules(self, info: ValidationInfo) -> CORSRule:
        if not _strict(info):
            return self
        if not self.allowed_origins:
            raise ValueError("allowed_origins must name at least one origin (or '*')")
        if not self.allowed_methods:
            raise ValueError(f"allowed_methods must hold at least one of {', '.join(CORS_METHODS)}")
        for origin in self.allowed_origins:
            if origin != "*" and not _ORIGIN.match(origin):
                hint = ""
                if _ORIGIN.match(origin.rstrip("/")):
                    hint = f"; drop the trailing '/': {origin.rstrip('/')!r}"
                raise ValueError(
                    f"allowed origin {origin!r} is not scheme://host[:port] (R2 rejects origins "
                    f"with a path, query or spaces; use '*' for any origin){hint}"
                )
        for field, values in (
            ("allowed_headers", self.allowed_headers),
            ("expose_headers", self.expose_headers),
        ):
            for value in values:
                if not value:
                    raise ValueError(f"{field} must not contain empty strings (R2 rejects them)")
                if not _HEADER_PATTERN.match(value):
                    raise ValueError(
                        f"{field}: {value!r} is not a header name (letters, digits, '-', or a "
                        "'*' wildcard)"
                    )
        if self.max_age_seconds is not None and not (0 <= self.max_age_seconds <= MAX_CORS_MAX_AGE):
            raise ValueError(
                f"max_age_seconds={self.max_age_seconds}: R2 allows 0 to {MAX_CORS_MAX_AGE}"
            )
        if self.id is not None and not 1 <= len(self.id) <= MAX_RULE_ID:
            raise ValueError(f"id must be 1-{MAX_RULE_ID} characters (or None)")
        return self


class PutBucketCorsResult(R2Model):
    """Result of ``put_bucket_cors``."""

    request_id: str | None = None


class DeleteBucketCorsResult(R2Model):
    """Result of ``delete_bucket_cors``."""

    request_id: str | None = None


_Rule = TypeVar("_Rule", "CORSRule", "LifecycleRule")


def _coerce_rules(rules: object, cls: type[_Rule], *, what: str, delete_hint: str) -> list[_Rule]:
    """Validate a caller's rule list: models (or mappings of their fields), at least one."""
    if isinstance(rules, (str, bytes, Mapping)) or not isinstance(rules, Sequence):
        raise TypeError(f"rules must be a list of {cls.__name__}, got {type(rules).__name__}")
    out: list[_Rule] = []
    for i, rule in enumerate(rules):
        if isinstance(rule, cls):
            # Re-validate: a rule parsed leniently from another server may break R2's rules.
            out.append(cls.model_validate(rule.model_dump()))
        elif isinstance(rule, Mapping):
            out.append(cls.model_validate(dict(rule)))
        else:
            raise TypeError(
                f"rules[{i}] must be a {cls.__name__} (or a dict of its fields), "
                f"got {type(rule).__name__}"
            )
    if not out:
        raise ValueError(f"{what} needs at least one rule; to remove them all call {delete_hint}")
    ids = [r.id for r in out if r.id is not None]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"rule ids must be unique; repeated: {', '.join(map(repr, dupes))}")
    return out


def cors_body(rules: Sequence[CORSRule]) -> bytes:
    """The ``CORSConfiguration`` document (elements in the order AWS SDKs send them)."""
    inner: list[str] = []
    for rule in rules:
        parts = ["<CORSRule>"]
        if rule.id is not None:
            parts.append(_xml.element("ID", rule.id))
        parts += [_xml.element("AllowedHeader", h) for h in rule.allowed_headers]
        parts += [_xml.element("AllowedMethod", m) for m in rule.allowed_methods]
        parts += [_xml.element("AllowedOrigin", o) for o in rule.allowed_origins]
        parts += [_xml.element("ExposeHeader", h) for h in rule.expose_headers]
        if rule.max_age_seconds is not None:
            parts.append(_xml.element("MaxAgeSeconds", str(rule.max_age_seconds)))
        parts.append("</CORSRule>")
        inner.append("".join(parts))
    return _xml.document("CORSConfiguration", inner)


def _xml_put(operation: str, bucket: str, flag: str, data: bytes) -> RequestSpec:
    # Content-MD5: AWS S3 requires it on these PUTs, R2 accepts it (only x-amz-checksum-algorithm
    # is refused there), and it guards the configuration against corruption in transit.
    return RequestSpec(
        operation,
        "PUT",
        bucket,
        query=[(flag, None)],
        headers={"content-md5": content_md5(data), "content-type": "application/xml"},
        body=Body(length=len(data), content=data),
    )


def build_put_bucket_cors(bucket: str, rules: object) -> RequestSpec:
    """PutBucketCors: ``PUT /bucket?cors`` with a ``CORSConfiguration`` body and Content-MD5.

    Args:
        bucket: the bucket name.
        rules: one or more ``CORSRule`` (or dicts of their fields); replaces the whole set.
    """
    validate_bucket(bucket)
    checked = _coerce_rules(
        rules, CORSRule, what="put_bucket_cors", delete_hint="delete_bucket_cors()"
    )
    return _xml_put("PutBucketCors", bucket, "cors", cors_body(checked))


def build_get_bucket_cors(bucket: str) -> RequestSpec:
    """GetBucketCors: ``GET /bucket?cors``."""
    validate_bucket(bucket)
    return RequestSpec("GetBucketCors", "GET", bucket, query=[("cors", None)])


def build_delete_bucket_cors(bucket: str) -> RequestSpec:
    """DeleteBucketCors: ``DELETE /bucket?cors``."""
    validate_bucket(bucket)
    return RequestSpec("DeleteBucketCors", "DELETE", bucket, query=[("cors", None)])


def _texts(el: ET.Element, name: str) -> tuple[str, ...]:
    return tuple((c.text or "").strip() for c in _xml.children(el, name))


def _validated(cls: type[_Rule], data: dict[str, Any], what: str) -> _Rule:
    try:
        return cls.model_validate(data, context=_LENIENT)
    except ValidationError as exc:
        raise ResponseParseError(f"{what}: unreadable rule ({exc.errors()[0]['msg']})") from None


def parse_cors_rules(body: bytes) -> list[CORSRule]:
    """The rules of a GetBucketCors ``CORSConfiguration`` body."""
    what = "GetBucketCors response"
    root = _xml.parse(body, what=what)
    if root.tag != "CORSConfiguration":
        raise ResponseParseError(f"{what}: expected <CORSConfiguration>, got <{root.tag}>")
    rules = []
    for el in _xml.children(root, "CORSRule"):
        max_age = _xml.text(el, "MaxAgeSeconds")
        data: dict[str, Any] = {
            "allowed_origins": _texts(el, "AllowedOrigin"),
            "allowed_methods": _texts(el, "AllowedMethod"),
            "allowed_headers": _texts(el, "AllowedHeader"),
            "expose_headers": _texts(el, "ExposeHeader"),
            "max_age_seconds": max_age.strip() if max_age and max_age.strip() else None,
            "id": _xml.text(el, "ID") or None,
        }
        rules.append(_validated(CORSRule, data, what))
    return rules


# ---------------------------------------------------------------------------------------------
# Lifecycle


class LifecycleTransition(R2Model):
    """Move objects to another storage class after ``days`` days or on ``date``.

    Attributes:
        days: days after an object's creation (at least 1); or None with ``date``.
        date: the day (midnight UTC) the transition applies to matching objects; or None.
        storage_class: the target class; R2 has only 'STANDARD_IA' (default).
    """

    days: int | None = None
    date: dt.date | None = None
    storage_class: str = "STANDARD_IA"

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: object) -> object:
        return _midnight_date(value, "transition date")

    @model_validator(mode="after")
    def _r2_rules(self, info: ValidationInfo) -> LifecycleTransition:
        if not _strict(info):
            return self
        if (self.days is None) == (self.date is None):
            raise ValueError("a LifecycleTransition needs exactly one of days= or date=")
        _check_days(self.days, "transition days")
        if self.storage_class != "STANDARD_IA":
            raise ValueError(
                f"storage_class={self.storage_class!r}: R2 lifecycle rules can only move objects "
                "to 'STANDARD_IA' (and never back)"
            )
        return self


class LifecycleRule(R2Model):
    """One lifecycle rule of a bucket (S3 ``Rule``).

    Attributes:
        id: the rule's name (at most 255 characters); None lets the server choose or omit one.
        enabled: ``Status`` Enabled (default True) or Disabled.
        prefix: the key prefix the rule applies to (``Filter/Prefix``); '' (default) = all keys.
        expiration_days: delete objects this many days after creation.
        expiration_date: delete matching objects on this day (midnight UTC).
        transitions: storage-class transitions (R2: to STANDARD_IA).
        abort_incomplete_multipart_upload_days: abort multipart uploads this many days after
            they were started (R2's default rule uses 7).
    """

    id: str | None = None
    enabled: bool = True
    prefix: str = ""
    expiration_days: int | None = None
    expiration_date: dt.date | None = None
    transitions: Sequence[LifecycleTransition] = ()
    abort_incomplete_multipart_upload_days: int | None = None

    @field_validator("expiration_date", mode="before")
    @classmethod
    def _date(cls, value: object) -> object:
        return _midnight_date(value, "expiration_date")

    @field_validator("transitions", mode="before")
    @classmethod
    def _wrap_transition(cls, value: object) -> object:
        if isinstance(value, (LifecycleTransition, Mapping)):
            return (value,)
        if isinstance(value, list):
            return tuple(value)
        return value

    @model_validator(mode="after")
    def _r2_rules(self, info: ValidationInfo) -> LifecycleRule:
        if not _strict(info):
            return self
        if self.id is not None and not 1 <= len(self.id) <= MAX_RULE_ID:
            raise ValueError(f"id must be 1-{MAX_RULE_ID} characters (or None)")
        if self.expiration_days is not None and self.expiration_date is not None:
            raise ValueError("pass expiration_days= or expiration_date=, not both")
        _check_days(self.expiration_days, "expiration_days")
        _check_days(
            self.abort_incomplete_multipart_upload_days, "abort_incomplete_multipart_upload_days"
        )
        if (
            self.expiration_days is None
            and self.expiration_date is None
            and not self.transitions
            and self.abort_incomplete_multipart_upload_days is None
        ):
            raise ValueError(
                "a LifecycleRule needs an action: expiration_days=, expiration_date=, "
                "transitions= or abort_incomplete_multipart_upload_days="
            )
        if len(self.prefix.encode()) > 1024:
            raise ValueError("prefix is longer than R2's 1,024-byte key limit")
        return self


class PutBucketLifecycleConfigurationResult(R2Model):
    """Result of ``put_bucket_lifecycle_configuration``."""

    request_id: str | None = None


class DeleteBucketLifecycleResult(R2Model):
    """Result of ``delete_bucket_lifecycle``."""

    request_id: str | None = None


def _xml_date(value: dt.date) -> str:
    return f"{value.isoformat()}T00:00:00Z"


def lifecycle_body(rules: Sequence[LifecycleRule]) -> bytes:
    """The ``LifecycleConfiguration`` document (elements in the order AWS SDKs send them)."""
    inner: list[str] = []
    for rule in rules:
        parts = ["<Rule>"]
        if rule.expiration_days is not None:
            parts.append(
                "<Expiration>" + _xml.element("Days", str(rule.expiration_days)) + "</Expiration>"
            )
        elif rule.expiration_date is not None:
            parts.append(
                "<Expiration>"
                + _xml.element("Date", _xml_date(rule.expiration_date))
                + "</Expiration>"
            )
        if rule.id is not None:
            parts.append(_xml.element("ID", rule.id))
        parts.append("<Filter>" + _xml.element("Prefix", rule.prefix) + "</Filter>")
        parts.append(_xml.element("Status", "Enabled" if rule.enabled else "Disabled"))
        for t in rule.transitions:
            when = (
                _xml.element("Days", str(t.days))
                if t.days is not None
                else _xml.element("Date", _xml_date(t.date))  # type: ignore[arg-type]
            )
            storage = _xml.element("StorageClass", t.storage_class)
            parts.append(f"<Transition>{when}{storage}</Transition>")
        if rule.abort_incomplete_multipart_upload_days is not None:
            parts.append(
                "<AbortIncompleteMultipartUpload>"
                + _xml.element(
                    "DaysAfterInitiation", str(rule.abort_incomplete_multipart_upload_days)
                )
                + "</AbortIncompleteMultipartUpload>"
            )
        parts.append("</Rule>")
        inner.append("".join(parts))
    return _xml.document("LifecycleConfiguration", inner)


def build_put_bucket_lifecycle_configuration(bucket: str, rules: object) -> RequestSpec:
    """PutBucketLifecycleConfiguration: ``PUT /bucket?lifecycle`` with Content-MD5.

    Args:
        bucket: the bucket name.
        rules: 1-1000 ``LifecycleRule`` (or dicts of their fields); replaces the whole set,
            including R2's default 7-day multipart-abort rule.
    """
    validate_bucket(bucket)
    checked = _coerce_rules(
        rules,
        LifecycleRule,
        what="put_bucket_lifecycle_configuration",
        delete_hint="delete_bucket_lifecycle()",
    )
    if len(checked) > MAX_LIFECYCLE_RULES:
        raise ValueError(
            f"{len(checked)} lifecycle rules: R2 allows at most {MAX_LIFECYCLE_RULES} per bucket"
        )
    return _xml_put("PutBucketLifecycleConfiguration", bucket, "lifecycle", lifecycle_body(checked))


def build_get_bucket_lifecycle_configuration(bucket: str) -> RequestSpec:
    """GetBucketLifecycleConfiguration: ``GET /bucket?lifecycle``."""
    validate_bucket(bucket)
    return RequestSpec(
        "GetBucketLifecycleConfiguration", "GET", bucket, query=[("lifecycle", None)]
    )


def build_delete_bucket_lifecycle(bucket: str) -> RequestSpec:
    """DeleteBucketLifecycle: ``DELETE /bucket?lifecycle``."""
    validate_bucket(bucket)
    return RequestSpec("DeleteBucketLifecycle", "DELETE", bucket, query=[("lifecycle", None)])


def _day_or_date(el: ET.Element | None) -> tuple[str | None, dt.date | None]:
    if el is None:
        return None, None
    days = _xml.text(el, "Days")
    date = parse_iso_date(_xml.text(el, "Date"))
    return (days.strip() if days and days.strip() else None), (
        date.astimezone(dt.timezone.utc).date() if date is not None else None
    )


def _rule_prefix(el: ET.Element) -> str:
    # Filter/Prefix (current S3), Filter/And/Prefix (with tags), or Rule/Prefix (legacy form).
    flt = el.find("Filter")
    if flt is not None:
        prefix = _xml.text(flt, "Prefix")
        if prefix is None:
            prefix = _xml.text(flt.find("And"), "Prefix")
        return prefix or ""
    return _xml.text(el, "Prefix") or ""


def parse_lifecycle_rules(body: bytes) -> list[LifecycleRule]:
    """The rules of a GetBucketLifecycleConfiguration body."""
    what = "GetBucketLifecycleConfiguration response"
    root = _xml.parse(body, what=what)
    if root.tag != "LifecycleConfiguration":
        raise ResponseParseError(f"{what}: expected <LifecycleConfiguration>, got <{root.tag}>")
    rules = []
    for el in _xml.children(root, "Rule"):
        exp_days, exp_date = _day_or_date(el.find("Expiration"))
        transitions = []
        for t in _xml.children(el, "Transition"):
            days, date = _day_or_date(t)
            transitions.append(
                {"days": days, "date": date, "storage_class": _xml.text(t, "StorageClass") or ""}
            )
        abort = _xml.text(el.find("AbortIncompleteMultipartUpload"), "DaysAfterInitiation")
        status = (_xml.text(el, "Status") or "").strip()
        data: dict[str, Any] = {
            "id": _xml.text(el, "ID") or None,
            "enabled": status.lower() == "enabled",
            "prefix": _rule_prefix(el),
            "expiration_days": exp_days,
            "expiration_date": exp_date,
            "transitions": transitions,
            "abort_incomplete_multipart_upload_days": abort.strip() if abort else None,
        }
        rules.append(_validated(LifecycleRule, data, what))
    return rules


# ---------------------------------------------------------------------------------------------
# Encryption


class BucketEncryption(R2Model):
    """Result of ``get_bucket_encryption``: the bucket's default encryption.

    R2 encrypts everything at rest and reports ``AES256``.
    """

    sse_algorithm: str | None = None
    kms_master_key_id: str | None = None
    bucket_key_enabled: bool | None = None
    request_id: str | None = None


def build_get_bucket_encryption(bucket: str) -> RequestSpec:
    """GetBucketEncryption: ``GET /bucket?encryption``."""
    validate_bucket(bucket)
    return RequestSpec("GetBucketEncryption", "GET", bucket, query=[("encryption", None)])


def parse_bucket_encryption(headers: Mapping[str, str], body: bytes) -> BucketEncryption:
    """BucketEncryption from a ``ServerSideEncryptionConfiguration`` body (its first rule)."""
    what = "GetBucketEncryption response"
    root = _xml.parse(body, what=what)
    if root.tag != "ServerSideEncryptionConfiguration":
        raise ResponseParseError(
            f"{what}: expected <ServerSideEncryptionConfiguration>, got <{root.tag}>"
        )
    rule = root.find("Rule")
    default = rule.find("ApplyServerSideEncryptionByDefault") if rule is not None else None
    key_enabled = _xml.text(rule, "BucketKeyEnabled")
    return BucketEncryption(
        sse_algorithm=_xml.text(default, "SSEAlgorithm") or None,
        kms_master_key_id=_xml.text(default, "KMSMasterKeyID") or None,
        bucket_key_enabled=None if key_enabled is None else _xml.boolean(key_enabled),
        request_id=request_id(headers),
    )
