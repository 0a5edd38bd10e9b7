"""Encryption of secrets at rest (company HotSpot tokens), with Fernet."""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken

from settings import settings
from store.files import generated_key


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
    return generated_key(settings.data_dir / "secret.key", lambda: Fernet.generate_key().decode())


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
