"""Passwords and login throttling, for the maintenance page and the server's back office alike.

* Passwords are hashed with scrypt (hashlib; memory-hard), each with its own random salt.
* Repeated failures lock the account name and the client address with a delay that doubles
  with each further failure (capped): :class:`LockoutPolicy`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass

from core.errors import AuthError

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD_CHARS = 10
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")


def hash_password(password: str, *, randbytes: Callable[[int], bytes] = os.urandom) -> str:
    salt = randbytes(16)
    derived = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(derived).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        derived = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(base64.b64decode(expected))
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(derived, base64.b64decode(expected))


def check_new_password(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AuthError(
            f"password too short: use at least {MIN_PASSWORD_CHARS} characters",
            screen_text=f"Kata sandi terlalu pendek: minimal {MIN_PASSWORD_CHARS} karakter",
        )
    if username.lower() in password.lower():
        raise AuthError("the password must not contain the user name", screen_text="Kata sandi tidak boleh memuat nama pengguna")


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not 3 <= len(name) <= 32 or not set(name) <= USERNAME_CHARS:
        raise AuthError(
            "user name: 3–32 characters from a–z, 0–9, '.', '_' and '-'",
            screen_text="Nama pengguna: 3–32 karakter a–z, 0–9, titik, garis bawah atau tanda hubung",
        )
    return name


@dataclass(frozen=True)
class LockoutPolicy:
    after_failures: int = 5
    base_s: float = 30.0
    max_s: float = 3600.0

    def delay_s(self, failures: int) -> float:
        """Seconds locked after ``failures`` consecutive failures (0 below the threshold)."""
        if failures < self.after_failures:
            return 0.0
        return float(min(self.max_s, self.base_s * 2.0 ** (failures - self.after_failures)))


class LoginRefused(AuthError):
    """Wrong name or password, or locked; ``retry_after_s`` is set while locked."""

    def __init__(self, message: str, *, screen_text: str, retry_after_s: float | None = None) -> None:
        super().__init__(message, screen_text=screen_text)
        self.retry_after_s = retry_after_s


def constant_time_equal(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode(), b.encode())
