"""The device's identity: an Ed25519 key made on first start, and the id derived from it."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk.errors import IdentityError

log = logging.getLogger(__name__)

KEY_FILENAME = "device_key.pem"


def device_id_for(public_raw: bytes) -> str:
    """``PK-`` and 12 base32 characters of SHA-256 over the raw public key: stable and short
    enough for a technician to read out over the phone."""
    digest = hashlib.sha256(public_raw).digest()
    return "PK-" + base64.b32encode(digest).decode()[:12]


def public_key_from_hex(hex_key: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(hex_key))
    except ValueError as exc:
        raise IdentityError(f"not an Ed25519 public key: {exc}") from exc


def verify_signature(public: Ed25519PublicKey, signature_hex: str, message: bytes) -> bool:
    try:
        public.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class DeviceIdentity:
    """The private key and what follows from it. ``repr`` never shows the key."""

    private_key: Ed25519PrivateKey
    path: Path | None = None

    @property
    def public_raw(self) -> bytes:
        return self.private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def public_hex(self) -> str:
        return self.public_raw.hex()

    @property
    def device_id(self) -> str:
        return device_id_for(self.public_raw)

    def sign(self, message: bytes) -> str:
        return self.private_key.sign(message).hex()

    def __repr__(self) -> str:
        return f"DeviceIdentity({self.device_id}, path={self.path})"

    @classmethod
    def generate(cls) -> DeviceIdentity:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, data_dir: Path) -> DeviceIdentity:
        """The key in ``data_dir``, made (mode 0600, atomically) if there is none."""
        path = data_dir / KEY_FILENAME
        if path.exists():
            return cls.load(path)
        if not data_dir.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            os.chmod(data_dir, 0o750)  # noqa: S103 - the data directory, for the service's group; never world-readable
        identity = cls(Ed25519PrivateKey.generate(), path)
        pem = identity.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        tmp = path.with_name(f".{KEY_FILENAME}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # fails if another process made the key first: use theirs
        except FileExistsError:
            os.unlink(tmp)
            return cls.load(path)
        os.unlink(tmp)
        _fsync_dir(data_dir)
        log.info("made a new device key; device id %s", identity.device_id)
        return cls(identity.private_key, path)

    @classmethod
    def load(cls, path: Path) -> DeviceIdentity:
        try:
            mode = path.stat().st_mode
            data = path.read_bytes()
        except OSError as exc:
            raise IdentityError(f"cannot read the device key {path}: {exc.strerror}; check the service user owns it") from exc
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise IdentityError(
                f"the device key {path} is readable by others (mode {stat.S_IMODE(mode):o}); run: chmod 600 {path}"
            )
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except ValueError as exc:
            raise IdentityError(f"the device key {path} is damaged; restore it from backup or re-provision the unit") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise IdentityError(f"the device key {path} is not an Ed25519 key")
        return cls(key, path)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
