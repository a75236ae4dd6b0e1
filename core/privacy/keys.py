"""Key providers: where the key that seals templates comes from (one plugin per source).

- ``otp``: the Raspberry Pi 4/5 SoC's one-time-programmable customer key, read with
  ``rpi-otp-private-key`` (provisioned by the image's first boot when empty). Copying the SD
  card to another unit gives another key: nothing decrypts.
- ``credential``: the same key handed to the service as a systemd credential (a root oneshot
  reads the OTP at boot into /run, so the service needs no access to /dev/vcio).
- ``keyfile``: a random key in a file **outside** the data directory (for machines without
  OTP); doctor warns that it sits on the same card.
- ``sim``: a simulated OTP key from the configuration, for tests.

The template key is derived from the provider's secret with HKDF-SHA256, so the raw OTP value is
never used directly and other uses can derive their own keys.
"""

from __future__ import annotations

import abc
import logging
import os
import subprocess
from pathlib import Path
from typing import ClassVar

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.config import PrivacyConfig
from core.privacy.seal import Sealer, TemplateKeyError

log = logging.getLogger(__name__)

_INFO = b"presensi-template-key-v1"
_DEVICE_INFO = b"presensi-device-key-v1"


def derive_template_key(secret: bytes) -> bytes:
    if len(secret) < 16 or not any(secret):
        raise TemplateKeyError("the key source gave an empty or all-zero key; provision the OTP key (docs/privacy.md)")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)


class KeyProvider(abc.ABC):
    type_key: ClassVar[str]
    #: True when the secret lives on the SD card itself (doctor warns).
    on_card: ClassVar[bool] = False

    @abc.abstractmethod
    def secret(self) -> bytes:
        """The provider's raw secret; raises TemplateKeyError saying what to do."""

    def template_key(self) -> bytes:
        return derive_template_key(self.secret())

    def device_key_sealer(self) -> Sealer:
        """The sealer of the device's signing key: the same secret as the templates, its own
        derived key (so neither sealed thing can be opened as the other)."""
        secret = self.secret()
        derive_template_key(secret)  # the same refusal of an empty or all-zero secret
        return Sealer(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_DEVICE_INFO).derive(secret))

    def describe(self) -> str:
        return self.type_key


class OtpKeyProvider(KeyProvider):
    type_key = "otp"

    def __init__(self, command: list[str]) -> None:
        self.command = command

    def secret(self) -> bytes:
        try:
            result = subprocess.run(self.command, capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TemplateKeyError(
                f"cannot read the OTP key with {self.command[0]}: {exc}; is this a Raspberry Pi 4/5 with raspberrypi-utils?"
            ) from exc
        if result.returncode != 0:
            raise TemplateKeyError(
                f"{self.command[0]} failed (exit {result.returncode}); the service needs access to /dev/vcio or use the 'credential' provider"
            )
        return _hex_secret(result.stdout, self.command[0])


class CredentialKeyProvider(KeyProvider):
    type_key = "credential"

    def __init__(self, name: str) -> None:
        self.name = name

    def secret(self) -> bytes:
        directory = os.environ.get("CREDENTIALS_DIRECTORY")
        if not directory:
            raise TemplateKeyError(
                "no $CREDENTIALS_DIRECTORY: run under systemd with LoadCredential= (see systemd/), or choose another key provider"
            )
        path = Path(directory) / self.name
        try:
            text = path.read_text()
        except OSError as exc:
            raise TemplateKeyError(f"cannot read the credential {path}: {exc.strerror}") from exc
        return _hex_secret(text, str(path))


class KeyFileProvider(KeyProvider):
    type_key = "keyfile"
    on_card = True

    def __init__(self, path: Path, data_dir: Path | None = None) -> None:
        self.path = path
        self.data_dir = data_dir
        if data_dir is not None and _inside(path, data_dir):
            raise TemplateKeyError(
                f"the template key file {path} must not be inside the data directory {data_dir}; a copied data directory would carry its key"
            )

    def ensure(self) -> bool:
        """Make the key file when it does not exist (provisioning only: ``presensi privacy
        prepare-key`` at boot, ``presensi provision``); True when it was made now."""
        if self.path.exists():
            return False
        try:
            self._make()
        except OSError as exc:
            raise TemplateKeyError(
                f"cannot make the template key file {self.path} ({exc.strerror or exc}); make it once as root: "
                f"install -m 600 -o presensi /dev/null {self.path} && openssl rand -hex 32 > {self.path}"
            ) from exc
        return True

    def secret(self) -> bytes:
        """The key file's secret. A missing file is reported, never made here: a lost key made
        anew by a read would hide the loss and seal new templates under a key the old ones
        cannot open (only :meth:`ensure`, at provisioning, makes one)."""
        if not self.path.exists():
            raise TemplateKeyError(
                f"the template key file {self.path} does not exist; on a new unit run `presensi privacy prepare-key` "
                "(as root; the presensi-provision service does it at boot). If the unit had one, it was lost: restore "
                "it from its backup, or erase and re-enrol the faces and fingers (docs/privacy.md)"
            )
        try:
            mode = self.path.stat().st_mode
            text = self.path.read_text()
        except OSError as exc:  # TemplateKeyError is one too, but none is raised in here
            raise TemplateKeyError(
                f"cannot read or make the template key file {self.path} ({exc.strerror or exc}); make it once as root: "
                f"install -m 600 -o presensi /dev/null {self.path} && openssl rand -hex 32 > {self.path} "
                "(or use the Pi's OTP key, docs/privacy.md)"
            ) from exc
        if mode & 0o077:
            raise TemplateKeyError(f"the template key file {self.path} is readable by others; run: chmod 600 {self.path}")
        return _hex_secret(text, str(self.path))

    def _make(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, os.urandom(32).hex().encode() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        if os.geteuid() == 0 and self.data_dir is not None and self.data_dir.exists():
            owner = self.data_dir.stat()  # made by root (a command run with sudo): the services' key
            os.chown(self.path, owner.st_uid, owner.st_gid)
        log.warning("made a new template key file %s", self.path)

    def describe(self) -> str:
        return f"keyfile {self.path}"


class SimOtpKeyProvider(KeyProvider):
    type_key = "sim"

    def __init__(self, hex_key: str) -> None:
        self.hex_key = hex_key

    def secret(self) -> bytes:
        return _hex_secret(self.hex_key, "privacy.sim_otp_hex")


def _hex_secret(text: str, where: str) -> bytes:
    cleaned = "".join(text.split())
    try:
        value = bytes.fromhex(cleaned)
    except ValueError as exc:
        raise TemplateKeyError(f"{where} did not give a hex key") from exc
    if not any(value):
        raise TemplateKeyError(f"{where} is empty (all zeros): provision the key first (docs/privacy.md)")
    return value


def _inside(path: Path, directory: Path) -> bool:
    try:
        path.resolve().relative_to(directory.resolve())
    except ValueError:
        return False
    return True


def build_key_provider(config: PrivacyConfig, data_dir: Path | None = None) -> KeyProvider:
    if config.key_provider == "otp":
        return OtpKeyProvider(config.otp_command)
    if config.key_provider == "credential":
        return CredentialKeyProvider(config.credential)
    if config.key_provider == "sim":
        return SimOtpKeyProvider(config.sim_otp_hex)
    return KeyFileProvider(config.key_file, data_dir)
