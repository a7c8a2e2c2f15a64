"""AWS-style configuration: AWS_* variables and ~/.aws profiles, with R2_* taking precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from r2async import R2Client

CREDENTIALS = """\
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = SECRETDEFAULT

[r2]
aws_access_key_id = AKIDPROFILE
aws_secret_access_key = SECRETPROFILE
aws_session_token = TOKENPROFILE
"""

CONFIG = """\
[default]
endpoint_url = https://default.example

[profile r2]
services = r2-services
endpoint_url = https://profile-global.example

[services r2-services]
s3 =
  endpoint_url = https://acct.r2.cloudflarestorage.com

[profile plain]
aws_access_key_id = AKIDPLAIN
aws_secret_access_key = SECRETPLAIN
endpoint_url = https://plain.example
"""


@pytest.fixture
def aws_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "credentials").write_text(CREDENTIALS)
    (tmp_path / "config").write_text(CONFIG)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    for var in ("R2_ACCOUNT_ID", "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY", "R2_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("R2_SESSION_TOKEN", raising=False)
    return tmp_path


def _creds(r2: R2Client) -> tuple[str, str, str | None]:
    c = r2._shared.settings.credentials
    assert c is not None
    return c.access_key_id, c.secret_access_key, c.session_token


def test_a_named_profile_gives_keys_token_and_the_services_endpoint(aws_files: Path) -> None:
    r2 = R2Client(profile="r2")
    assert _creds(r2) == ("AKIDPROFILE", "SECRETPROFILE", "TOKENPROFILE")
    # The services section's s3 endpoint wins over the profile's global endpoint_url.
    assert r2.endpoint_url == "https://acct.r2.cloudflarestorage.com"


def test_aws_profile_variable_and_keys_in_the_config_file(
    aws_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "plain")
    r2 = R2Client()
    assert _creds(r2) == ("AKIDPLAIN", "SECRETPLAIN", None)
    assert r2.endpoint_url == "https://plain.example"


def test_the_default_profile_is_the_last_resort(aws_files: Path) -> None:
    r2 = R2Client()
    assert _creds(r2)[:2] == ("AKIDDEFAULT", "SECRETDEFAULT")
    assert r2.endpoint_url == "https://default.example"


def test_precedence_r2_then_profile_argument_then_aws_variables_then_aws_profile(
    aws_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "SECRETENV")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "TOKENENV")
    monkeypatch.setenv("AWS_PROFILE", "plain")
    # AWS_* variables beat AWS_PROFILE (as in boto3)...
    assert _creds(R2Client()) == ("AKIDENV", "SECRETENV", "TOKENENV")
    # ... an explicit profile= beats the AWS_* variables ...
    assert _creds(R2Client(profile="r2"))[0] == "AKIDPROFILE"
    # ... and R2_* beats everything AWS-style.
    monkeypatch.setenv("R2_ACCESS_KEY_ID", "AKIDR2")
    monkeypatch.setenv("R2_SECRET_ACCESS_KEY", "SECRETR2")
    assert _creds(R2Client(profile="r2")) == ("AKIDR2", "SECRETR2", None)
    # Explicit arguments beat R2_*.
    assert _creds(R2Client(access_key_id="AKIDARG", secret_access_key="SECRETARG"))[0] == "AKIDARG"


def test_endpoint_precedence(aws_files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://aws-global.example")
    assert R2Client(profile="r2").endpoint_url == "https://aws-global.example"
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "https://aws-s3.example")
    assert R2Client(profile="r2").endpoint_url == "https://aws-s3.example"
    monkeypatch.setenv("R2_ACCOUNT_ID", "acct2")
    assert R2Client(profile="r2").endpoint_url == "https://acct2.r2.cloudflarestorage.com"
    monkeypatch.setenv("R2_ENDPOINT_URL", "http://127.0.0.1:9")
    assert R2Client(profile="r2").endpoint_url == "http://127.0.0.1:9"
    assert R2Client(profile="r2", endpoint_url="http://127.0.0.1:10").endpoint_url == (
        "http://127.0.0.1:10"
    )


def test_r2_variables_alone_never_read_the_aws_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A broken ~/.aws does not matter when R2_* answer everything (and no profile is asked for).
    (tmp_path / "config").write_text("[default\nthis is not ini")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("R2_ACCOUNT_ID", "acct")
    monkeypatch.setenv("R2_ACCESS_KEY_ID", "AKID")
    monkeypatch.setenv("R2_SECRET_ACCESS_KEY", "SECRET")
    assert R2Client().endpoint_url == "https://acct.r2.cloudflarestorage.com"


def test_a_missing_profile_names_the_profile_and_the_files(aws_files: Path) -> None:
    with pytest.raises(ValueError) as info:
        R2Client(profile="nope")
    text = str(info.value)
    assert "'nope'" in text and str(aws_files / "credentials") in text
    assert str(aws_files / "config") in text


def test_aws_profile_naming_a_missing_profile_fails_when_consulted(
    aws_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "ghost")
    with pytest.raises(ValueError, match="'ghost' not found"):
        R2Client()


def test_an_unparsable_file_names_file_and_profile_but_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "credentials"
    bad.write_text("aws_secret_access_key = TOPSECRETVALUE\n[r2]\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(bad))
    with pytest.raises(ValueError) as info:
        R2Client(profile="r2", endpoint_url="http://127.0.0.1:9")
    assert str(bad) in str(info.value) and "'r2'" in str(info.value)
    assert "TOPSECRETVALUE" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_a_services_name_without_its_section_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config").write_text(
        "[profile x]\naws_access_key_id = A\naws_secret_access_key = S\nservices = gone\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    with pytest.raises(ValueError, match=r"\[services gone\]"):
        R2Client(profile="x")


def test_missing_everything_names_r2_and_aws_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("R2_ACCOUNT_ID", "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY", "R2_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ValueError) as info:
        R2Client()
    for var in ("R2_ACCOUNT_ID", "R2_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID", "AWS_ENDPOINT_URL_S3"):
        assert var in str(info.value)


def test_profile_argument_type_is_checked() -> None:
    with pytest.raises(TypeError, match="profile must be str"):
        R2Client(profile=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="profile must be a profile name"):
        R2Client(profile="", endpoint_url="http://127.0.0.1:9")
