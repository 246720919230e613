"""Credentials at rest: AES-256-GCM under the dedicated `vendors.secret_key` of the config.

The key is generated on first start and kept in the config, so rotating `jwt.secret` loses nothing. Every
ciphertext is bound (as associated data) to the row it belongs to, so a sealed value copied into another user's
row does not open.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"\x01"
NONCE_BYTES = 12


class SecretsError(Exception):
    pass


def new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def parse_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.encode() + b"=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise SecretsError("vendors.secret_key: not base64") from None
    if len(key) != 32:
        raise SecretsError("vendors.secret_key: must be 32 bytes (base64)")
    return key


class SecretBox:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, bound_to: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, bound_to.encode())

    def open(self, sealed: bytes, bound_to: str) -> bytes:
        if len(sealed) < 1 + NONCE_BYTES + 16 or sealed[:1] != _VERSION:
            raise SecretsError("sealed value is malformed")
        nonce = sealed[1:1 + NONCE_BYTES]
        try:
            return self._aead.decrypt(nonce, sealed[1 + NONCE_BYTES:], bound_to.encode())
        except InvalidTag:
            raise SecretsError("sealed value does not open with this key") from None

    def seal_json(self, value: dict[str, Any], bound_to: str) -> bytes:
        return self.seal(json.dumps(value, separators=(",", ":")).encode(), bound_to)

    def open_json(self, sealed: bytes, bound_to: str) -> dict[str, Any]:
        value = json.loads(self.open(sealed, bound_to))
        if not isinstance(value, dict):
            raise SecretsError("sealed value is not an object")
        return value

    def seal_text(self, text: str, bound_to: str) -> str:
        """For values kept inside JSON (a movie's folder password): base64 of the sealed bytes."""
        return base64.urlsafe_b64encode(self.seal(text.encode(), bound_to)).decode()

    def open_text(self, sealed: str, bound_to: str) -> str:
        try:
            raw = base64.urlsafe_b64decode(sealed.encode())
        except (ValueError, TypeError):
            raise SecretsError("sealed value is not base64") from None
        return self.open(raw, bound_to).decode()
