"""The vendor credential box: AES-GCM under the config's dedicated key, each value bound to its row."""

from __future__ import annotations

from pathlib import Path

import pytest

from synctv import config
from synctv.vendors.secrets import SecretBox, SecretsError, new_key, parse_key


def test_round_trip_binding_and_tamper() -> None:
    box = SecretBox(parse_key(new_key()))
    sealed = box.seal_json({"host": "https://alist.example", "token": "t"}, "alist:u1:s1")
    assert b"alist.example" not in sealed
    assert box.open_json(sealed, "alist:u1:s1") == {"host": "https://alist.example", "token": "t"}
    assert box.seal(b"x", "a") != box.seal(b"x", "a")  # a fresh nonce each time
    with pytest.raises(SecretsError):
        box.open(sealed, "alist:u2:s1")  # copied into another user's row
    with pytest.raises(SecretsError):
        box.open(sealed[:-1] + bytes([sealed[-1] ^ 1]), "alist:u1:s1")
    with pytest.raises(SecretsError):
        SecretBox(parse_key(new_key())).open(sealed, "alist:u1:s1")  # another key
    with pytest.raises(SecretsError):
        box.open(b"\x01short", "alist:u1:s1")
    text = box.seal_text("open sesame", "room")
    assert box.open_text(text, "room") == "open sesame"
    with pytest.raises(SecretsError):
        box.open_text("%%%", "room")


def test_key_parsing() -> None:
    for bad in ("", "abc", "!!!!", new_key()[:-8]):
        with pytest.raises(SecretsError):
            parse_key(bad)
    assert len(parse_key(new_key())) == 32


def test_key_generated_on_first_start_and_kept(tmp_path: Path) -> None:
    first = config.load(tmp_path)
    assert len(parse_key(first.vendors.secret_key)) == 32
    assert first.vendors.secret_key != first.jwt.secret
    assert config.load(tmp_path).vendors.secret_key == first.vendors.secret_key
    assert first.vendors.secret_key in (tmp_path / "config.yaml").read_text()
    # not derived from jwt.secret: rotating that keeps the vendor key
    text = (tmp_path / "config.yaml").read_text().replace(first.jwt.secret, "x" * 40)
    (tmp_path / "config.yaml").write_text(text)
    assert config.load(tmp_path).vendors.secret_key == first.vendors.secret_key
    with pytest.raises(config.ConfigError, match=r"vendors\.secret_key"):
        config.load(tmp_path, env={"SYNCTV_VENDORS_SECRET_KEY": "short"}, write_back=False)
    with pytest.raises(config.ConfigError, match=r"vendors\.timeout"):
        config.load(tmp_path, env={"SYNCTV_VENDORS_TIMEOUT": "soon"}, write_back=False)
