"""The device's identity: an Ed25519 key made on first start, and the id derived from it."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core.errors import IdentityError, PresensiError

log = logging.getLogger(__name__)

KEY_FILENAME = "device_key.pem"
#: The signing key sealed under the unit's key (AES-GCM; core.privacy): a copy of the data
#: directory on another machine cannot sign. The plain ``device_key.pem`` of an older version is
#: sealed and removed when the unit's key can be read.
SEALED_FILENAME = "device_key.sealed"
#: The public key (hex), beside it, for whoever checks this unit's signatures (presensi verify).
PUBLIC_FILENAME = "device_key.pub"
SEAL_CONTEXT = "device_key"


class KeySealer(Protocol):
    def seal(self, plaintext: bytes, context: str) -> bytes: ...
    def open(self, sealed: bytes, context: str) -> bytes: ...


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
    def load_or_create(cls, data_dir: Path, sealer: KeySealer | None = None, *, seal_plain: bool = False) -> DeviceIdentity:
        """The key in ``data_dir``, made (mode 0600, atomically) if there is none. With
        ``sealer`` (the unit's key: core.privacy.keys.KeyProvider.device_key_sealer) a new key is
        made sealed; a sealed key without the sealer that opens it is refused (a copied data
        directory cannot sign). A plain key of an older version is sealed and removed only with
        ``seal_plain`` (provisioning, ``presensi privacy prepare-key`` at boot): never as a side
        effect of another command."""
        sealed = data_dir / SEALED_FILENAME
        path = data_dir / KEY_FILENAME
        if sealed.exists():
            opened = cls.open_sealed(sealed, sealer)
            if not (data_dir / PUBLIC_FILENAME).exists():  # a power cut between the two writes
                _write_new(data_dir / PUBLIC_FILENAME, (opened.public_hex + "\n").encode(), 0o644, replace=True)
            return opened
        if path.exists():
            identity = cls.load(path)
            if sealer is not None and seal_plain:
                cls._write_sealed(data_dir, identity.private_key, sealer)
                path.unlink(missing_ok=True)
                _fsync_dir(data_dir)
                log.warning("sealed the device key under the unit's key and removed the plain copy %s", path)
                return cls(identity.private_key, sealed)
            return identity
        if sealer is not None:
            if not data_dir.exists():
                data_dir.mkdir(parents=True, exist_ok=True)
                os.chmod(data_dir, 0o750)  # noqa: S103 - the data directory, for the service's group; never world-readable
            made = cls._write_sealed(data_dir, Ed25519PrivateKey.generate(), sealer)
            log.info("made a new device key, sealed; device id %s", made.device_id)
            return made
        if not data_dir.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            os.chmod(data_dir, 0o750)  # noqa: S103 - the data directory, for the service's group; never world-readable
        identity = cls(Ed25519PrivateKey.generate(), path)
        pem = identity.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        tmp = path.with_name(f".{KEY_FILENAME}.{os.getpid()}.{threading.get_ident()}.tmp")
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
    def open_sealed(cls, sealed: Path, sealer: KeySealer | None) -> DeviceIdentity:
        """The sealed key at ``sealed`` opened with ``sealer``; IdentityError saying why not. Read-only."""
        if sealer is None:
            raise IdentityError(
                f"the device key {sealed} is sealed with the unit's key, which cannot be read here; on the unit itself check "
                "[privacy] (presensi doctor). A copied data directory cannot sign punches on another machine: provision "
                "this machine as a unit of its own"
            )
        try:
            data = sealed.read_bytes()
        except OSError as exc:
            raise IdentityError(f"cannot read the device key {sealed}: {exc.strerror}") from exc
        try:
            pem = sealer.open(data, SEAL_CONTEXT)
        except PresensiError as exc:
            raise IdentityError(
                f"the device key {sealed} does not open with this machine's unit key ({exc}): a data directory copied "
                "from another unit cannot sign here; provision this machine as a unit of its own, or restore its own key"
            ) from exc
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise IdentityError(f"the device key {sealed} is not an Ed25519 key")
        return cls(key, sealed)

    @classmethod
    def _write_sealed(cls, data_dir: Path, key: Ed25519PrivateKey, sealer: KeySealer) -> DeviceIdentity:
        """Write the sealed key and the public key beside it (the first writer wins, atomically)."""
        sealed = data_dir / SEALED_FILENAME
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        identity = cls(key, sealed)
        if not _write_new(sealed, sealer.seal(pem, SEAL_CONTEXT), 0o600):
            identity = cls.open_sealed(sealed, sealer)  # another process sealed one first: theirs
        # the public half after the private one, from the key that won: provisioning reads the
        # device id from it, so it must never name a key that was not kept
        _write_new(data_dir / PUBLIC_FILENAME, (identity.public_hex + "\n").encode(), 0o644, replace=True)
        _fsync_dir(data_dir)
        return identity

    @staticmethod
    def public_hex_of(data_dir: Path) -> str | None:
        """The unit's public key (hex) from its data directory, without the private key; None when
        there is none. Read-only."""
        public = data_dir / PUBLIC_FILENAME
        if public.exists():
            return public.read_text().strip()
        plain = data_dir / KEY_FILENAME
        return DeviceIdentity.load(plain).public_hex if plain.exists() else None

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


def _write_new(path: Path, data: bytes, mode: int, *, replace: bool = False) -> bool:
    """Write ``data`` to ``path`` through a temporary file; False when ``path`` exists and
    ``replace`` is not asked (another process wrote it first)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")  # one per writer, threads too
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    if os.geteuid() == 0:  # written by root (the boot service, a command run with sudo): the services' file
        owner = path.parent.stat()
        os.chown(tmp, owner.st_uid, owner.st_gid)
    if replace:
        os.replace(tmp, path)
        return True
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)
    return True


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
