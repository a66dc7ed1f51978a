"""JARVIS_<FIELD>_FILE: settings read from mounted Secret files (jarvis/settings.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jarvis.errors import JarvisError
from jarvis.kafka.config import base_config
from jarvis.settings import Settings, SettingsFileError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The suite may run with the local stack's JARVIS_* exported; these tests own the names.
    for name in list(os.environ):
        if name.upper().startswith("JARVIS_"):
            monkeypatch.delenv(name)


def _secret(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_a_file_gives_the_setting_its_content_without_the_trailing_newline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _secret(tmp_path, "url", b"redis://:s3cret@redis.prod:6379/2\n")
    monkeypatch.setenv("JARVIS_REDIS_URL_FILE", str(url))
    assert Settings().redis_url == "redis://:s3cret@redis.prod:6379/2"


def test_a_json_setting_reads_json_from_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sec = _secret(tmp_path, "sec", b'{"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN"}')
    monkeypatch.setenv("JARVIS_KAFKA_SECURITY_FILE", str(sec))
    assert Settings().kafka_security == {"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN"}


def test_sasl_credentials_from_files_reach_librdkafka_and_stay_out_of_repr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JARVIS_KAFKA_SECURITY", '{"security.protocol": "SASL_SSL"}')
    monkeypatch.setenv("JARVIS_KAFKA_SASL_USERNAME_FILE", str(_secret(tmp_path, "u", b"jarvis\n")))
    monkeypatch.setenv(
        "JARVIS_KAFKA_SASL_PASSWORD_FILE", str(_secret(tmp_path, "p", b"pw-sentinel-1\n"))
    )
    settings = Settings()
    config = base_config(settings)
    assert config["security.protocol"] == "SASL_SSL"
    assert config["sasl.username"] == "jarvis"
    assert config["sasl.password"] == "pw-sentinel-1"
    assert "pw-sentinel-1" not in repr(settings)


def test_a_librdkafka_key_given_twice_is_refused_naming_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JARVIS_KAFKA_SECURITY", '{"sasl.password": "a"}')
    monkeypatch.setenv("JARVIS_KAFKA_SASL_PASSWORD", "b")
    with pytest.raises(
        JarvisError, match=r"sasl\.password is given twice.*JARVIS_KAFKA_SASL_PASSWORD"
    ):
        base_config(Settings())


def test_missing_file_names_the_variable_and_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "absent"
    monkeypatch.setenv("JARVIS_REDIS_URL_FILE", str(path))
    with pytest.raises(SettingsFileError) as err:
        Settings()
    assert str(err.value) == f"JARVIS_REDIS_URL_FILE={path}: no such file"
    assert err.value.variable == "JARVIS_REDIS_URL_FILE"


@pytest.mark.parametrize("content", [b"", b"\n"])
def test_empty_file_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    path = _secret(tmp_path, "empty", content)
    monkeypatch.setenv("JARVIS_KAFKA_SASL_PASSWORD_FILE", str(path))
    with pytest.raises(
        SettingsFileError, match=f"JARVIS_KAFKA_SASL_PASSWORD_FILE={path}: file is empty"
    ):
        Settings()


def test_unreadable_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A path through a regular file cannot be opened by anyone (root included): ENOTDIR.
    path = _secret(tmp_path, "plain", b"x") / "key"
    monkeypatch.setenv("JARVIS_REDIS_PASSWORD_FILE", str(path))
    with pytest.raises(
        SettingsFileError, match=f"JARVIS_REDIS_PASSWORD_FILE={path}: cannot read it"
    ):
        Settings()


def test_a_directory_is_not_a_secret_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JARVIS_REDIS_PASSWORD_FILE", str(tmp_path))
    with pytest.raises(SettingsFileError, match="is a directory, not a file"):
        Settings()


def test_binary_content_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _secret(tmp_path, "bin", b"\xff\xfe\x00")
    monkeypatch.setenv("JARVIS_REDIS_PASSWORD_FILE", str(path))
    with pytest.raises(SettingsFileError, match="content is not UTF-8 text"):
        Settings()


def test_bad_json_in_a_file_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _secret(tmp_path, "sec", b"{not json")
    monkeypatch.setenv("JARVIS_KAFKA_SECURITY_FILE", str(path))
    with pytest.raises(
        SettingsFileError, match=f"JARVIS_KAFKA_SECURITY_FILE={path}: content is not JSON"
    ):
        Settings()


def test_value_and_file_both_set_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _secret(tmp_path, "url", b"redis://other:6379/0")
    monkeypatch.setenv("JARVIS_REDIS_URL", "redis://here:6379/0")
    monkeypatch.setenv("JARVIS_REDIS_URL_FILE", str(path))
    with pytest.raises(
        SettingsFileError, match="JARVIS_REDIS_URL is set too; set only one of them"
    ):
        Settings()


def test_file_values_are_validated_like_any_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JARVIS_DRAIN_GRACE_S_FILE", str(_secret(tmp_path, "d", b"-1")))
    with pytest.raises(ValueError, match="drain_grace_s"):
        Settings()


def test_redis_password_and_flush_timeout_defaults() -> None:
    settings = Settings()
    assert settings.redis_password is None
    assert settings.flush_timeout_s == 10.0
