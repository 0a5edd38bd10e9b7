"""Encryption of secrets at rest (company HotSpot tokens), with Fernet."""

from __future__ import annotations

import os
from functools import cache

from cryptography.fernet import Fernet, InvalidToken

from settings import settings


class SecretKeyError(RuntimeError):
    """The key that decrypts stored secrets is missing or is not the one they were made with."""


@cache
def _fernet(key: str) -> Fernet:
    try:
        return Fernet(key.encode())
    except ValueError as exc:
        raise SecretKeyError(
            "OFFSTREET_SECRET_KEY is not a Fernet key (32 url-safe base64 bytes); make one "
            "with cryptography's `Fernet.generate_key()`"
        ) from exc


def _key() -> str:
    """The configured key, or one generated once into the data dir for embedded use."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    key_file = settings.data_dir / "secret.key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(Fernet.generate_key().decode())
    return key_file.read_text().strip()


def encrypt(plaintext: str) -> str:
    return _fernet(_key()).encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet(_key()).decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise SecretKeyError(
            "a stored token cannot be decrypted with the current OFFSTREET_SECRET_KEY; "
            "restore the key it was stored with, or store the token again with "
            "`hotspot-onboard token COMPANY`"
        ) from exc
