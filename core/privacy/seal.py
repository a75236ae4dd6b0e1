"""Authenticated encryption of templates (AES-256-GCM), bound to what they are.

A sealed value is ``b"PS1" | key id (6 bytes) | nonce (12) | ciphertext+tag``. The associated
data names the table, the employee and the purpose, so a sealed template cannot be moved to
another employee's row without failing. The key id tells at once that a value was sealed by
another unit (a copied SD card) and lets the kiosk say so instead of failing obscurely.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.errors import StorageError

MAGIC = b"PS1"
KEY_ID_BYTES = 6
SCHEME = "aesgcm-v1"
PLAIN = "plain"


class TemplateKeyError(StorageError):
    """Templates cannot be sealed or opened with this unit's key (stored data this unit cannot
    use: services treat it as a storage fault and keep running)."""

    screen_text = "Data wajah/sidik jari tidak dapat dibuka — hubungi teknisi"


class Sealer:
    """Seals and opens templates with one derived key. ``repr`` never shows the key."""

    def __init__(self, key: bytes, randbytes: Callable[[int], bytes] = os.urandom) -> None:
        if len(key) != 32:
            raise ValueError("the template key must be 32 bytes")
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(b"presensi-key-id" + key).digest()[:KEY_ID_BYTES]
        self._randbytes = randbytes

    def __repr__(self) -> str:
        return f"Sealer(key_id={self.key_id.hex()})"

    def seal(self, plaintext: bytes, context: str) -> bytes:
        nonce = self._randbytes(12)
        return MAGIC + self.key_id + nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, context: str) -> bytes:
        if not sealed.startswith(MAGIC) or len(sealed) < 3 + 6 + 12 + 16:
            raise TemplateKeyError("a stored template is not sealed data; the database was altered or is from an old version")
        key_id, nonce, body = sealed[3:9], sealed[9:21], sealed[21:]
        if key_id != self.key_id:
            raise TemplateKeyError(
                f"templates were sealed with another unit's key (key id {key_id.hex()}, this unit {self.key_id.hex()}): "
                "re-enrol (or pull the roster again) or restore the key"
            )
        try:
            return self._aead.decrypt(nonce, body, context.encode())
        except InvalidTag as exc:
            raise TemplateKeyError(
                "a stored template fails its integrity check (altered or moved to another row); re-enrol the employee"
            ) from exc
