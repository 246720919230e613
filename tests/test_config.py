"""Configuration: config.yaml with defaults and a kept random JWT secret, SYNCTV_* overrides, clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from synctv import config
from synctv.config import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_created_with_defaults_and_secret_kept(tmp_path: Path) -> None:
    cfg = config.load(tmp_path, env={})
    path = tmp_path / "config.yaml"
    assert path.exists() and (path.stat().st_mode & 0o777) == 0o600
    data = yaml.safe_load(path.read_text())
    assert data["server"]["http"]["port"] == 8080 and data["database"]["type"] == "sqlite3"
    assert data["jwt"]["expire"] == "48h" and len(data["jwt"]["secret"]) == 32
    assert data["jwt"]["secret"] == cfg.jwt.secret and cfg.jwt.secret.isalpha()
    again = config.load(tmp_path, env={})
    assert again.jwt.secret == cfg.jwt.secret
    assert config.load(tmp_path / "other", env={}).jwt.secret != cfg.jwt.secret


def test_env_overrides(tmp_path: Path) -> None:
    env = {"SYNCTV_SERVER_HTTP_PORT": "9999", "SYNCTV_DATABASE_TYPE": "postgres",
           "SYNCTV_DATABASE_CUSTOM_DSN": "postgresql://u:p@localhost/db", "SYNCTV_RATE_LIMIT_ENABLE": "true",
           "SYNCTV_JWT_SECRET": "s" * 20, "SYNCTV_CLUSTER_DISCOVERY_STATIC_PEERS": "a:1, b:2"}
    cfg = config.load(tmp_path, env=env)
    assert cfg.server.http.port == 9999 and cfg.database.type == "postgres"
    assert cfg.database.custom_dsn == "postgresql://u:p@localhost/db" and cfg.rate_limit.enable is True
    assert cfg.jwt.secret == "s" * 20 and cfg.cluster.discovery.static_peers == ["a:1", "b:2"]
    # env overrides are not written to the file
    data = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert data["server"]["http"]["port"] == 8080 and data["database"]["custom_dsn"] == ""
    assert data["jwt"]["secret"] != "s" * 20
    # the file is read
    data["server"]["http"]["port"] = 7000
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(data))
    assert config.load(tmp_path, env={}).server.http.port == 7000
    assert config.load(tmp_path, env={"SYNCTV_SERVER_HTTP_PORT": "7001"}).server.http.port == 7001


@pytest.mark.parametrize(("env", "key"), [
    ({"SYNCTV_SERVER_HTTP_PORT": "abc"}, "server.http.port"),
    ({"SYNCTV_SERVER_HTTP_PORT": "70000"}, "server.http.port"),
    ({"SYNCTV_DATABASE_TYPE": "oracle"}, "database.type"),
    ({"SYNCTV_JWT_EXPIRE": "forever"}, "jwt.expire"),
    ({"SYNCTV_JWT_SECRET": "short"}, "jwt.secret"),
    ({"SYNCTV_RATE_LIMIT_ENABLE": "maybe"}, "rate_limit.enable"),
    ({"SYNCTV_LOG_LOG_FORMAT": "xml"}, "log.log_format"),
    ({"SYNCTV_ROOMS_IDLE_UNLOAD": "-1s"}, "rooms.idle_unload"),
    ({"SYNCTV_CLUSTER_ENABLED": "true"}, "cluster"),
])
def test_invalid_env_values_name_the_key(tmp_path: Path, env: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as exc:
        config.load(tmp_path, env=env)
    assert key in str(exc.value)


@pytest.mark.parametrize(("text", "key"), [
    ("server:\n  http:\n    port: [1]\n", "server.http.port"),
    ("server:\n  nonsense: 1\n", "server.nonsense"),
    ("database: 5\n", "database"),
    ("jwt: {expire: 1x}\n", "jwt.expire"),
    ("server: [\n", "config.yaml"),
])
def test_invalid_file_values_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    (tmp_path / "config.yaml").write_text(text)
    with pytest.raises(ConfigError) as exc:
        config.load(tmp_path, env={})
    assert key in str(exc.value)


def test_durations() -> None:
    assert config.parse_duration("48h") == 48 * 3600
    assert config.parse_duration("1m30s") == 90 and config.parse_duration("500ms") == 0.5
    assert config.parse_duration("15") == 15
    for bad in ("", "1d", "h", "0s", "1h 2m", "-5s"):
        with pytest.raises(ConfigError):
            config.parse_duration(bad)


@pytest.mark.slow
def test_serve_with_invalid_config_exits_with_one_clear_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCTV_")}
    env["SYNCTV_SERVER_HTTP_PORT"] = "not-a-port"
    out = subprocess.run([sys.executable, "-m", "synctv", "serve", "--data-dir", str(tmp_path)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    assert "server.http.port" in lines[0] and "SYNCTV_SERVER_HTTP_PORT" in lines[0]
    assert "Traceback" not in out.stderr
    (tmp_path / "config.yaml").write_text("database:\n  type: nosql\n")
    env.pop("SYNCTV_SERVER_HTTP_PORT")
    out = subprocess.run([sys.executable, "-m", "synctv", "serve", "--data-dir", str(tmp_path)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and len(out.stderr.strip().splitlines()) == 1 and "database.type" in out.stderr
