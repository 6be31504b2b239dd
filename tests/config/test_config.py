"""Configuration: TOML plus environment, unknown keys rejected with the key named."""

from __future__ import annotations

import pytest

from imagewatch.config import ConfigError, installation_key, load_config, webhook_token


def test_defaults_and_env_overrides():
    cfg = load_config(env={
        "IMAGEWATCH_NATS_URL": "nats://bus:4222",
        "IMAGEWATCH_DATABASE_URL": "postgresql://db/iw",
        "IMAGEWATCH_API_PORT": "9090",
        "IMAGEWATCH_INSECURE_REGISTRIES": "localhost:5000, reg.internal:5000",
    })
    assert cfg.bus.url == "nats://bus:4222"
    assert cfg.database.url == "postgresql://db/iw"
    assert cfg.api.port == 9090
    assert cfg.fetcher.insecure_registries == ["localhost:5000", "reg.internal:5000"]
    assert cfg.fetcher.platforms == ["linux/amd64"]


def test_toml_file_then_env_wins(tmp_path):
    path = tmp_path / "iw.toml"
    path.write_text('[api]\nport = 7000\n[fetcher]\nplatforms = ["all"]\n')
    cfg = load_config(env={"IMAGEWATCH_CONFIG": str(path), "IMAGEWATCH_API_PORT": "7001"})
    assert cfg.api.port == 7001
    assert cfg.fetcher.platforms == ["all"]


def test_unknown_key_is_named(tmp_path):
    path = tmp_path / "iw.toml"
    path.write_text("[fetcher]\nplatfroms = ['linux/arm64']\n")
    with pytest.raises(ConfigError, match="platfroms"):
        load_config(env={"IMAGEWATCH_CONFIG": str(path)})


def test_bad_integer_env():
    with pytest.raises(ConfigError, match="IMAGEWATCH_API_PORT"):
        load_config(env={"IMAGEWATCH_API_PORT": "eighty"})


def test_token_generated_once_and_kept_private(tmp_path):
    cfg = load_config(env={"IMAGEWATCH_DATA_DIR": str(tmp_path)})
    token = webhook_token(cfg)
    assert len(token) >= 32 and webhook_token(cfg) == token
    assert (tmp_path / "webhook-token").stat().st_mode & 0o077 == 0
    assert len(installation_key(cfg)) == 32
    assert "password" not in repr(cfg) and token not in repr(cfg)
