"""The template key at boot, before the services start (``presensi-provision``, as root).

* ``keyfile`` (the default): the key file is made once, outside the data directory, mode 0600,
  owned by the services' user.
* ``otp`` and ``credential`` (a Raspberry Pi 4/5): the SoC's one-time-programmable customer key.
  When it is still all zeros it is programmed once with 32 random bytes (``rpi-otp-private-key
  -y -w``; OTP bits never go back, so this happens only when the unit is configured for it and
  the key is empty). For ``credential`` the key is then copied to ``/run/presensi/template-key``
  (tmpfs, root only), which the services' ``LoadCredential=`` drop-in
  (``systemd/template-key-credential.conf``) hands to them: the key never touches the SD card.
* ``sim``: nothing (tests and the demo).

Never raises for a key problem: it returns a line saying what happened or what to do, so a unit
whose key cannot be prepared still boots (cards work; the doctor says what is wrong).
"""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
from pathlib import Path

from core.config import KioskConfig
from core.privacy.keys import KeyFileProvider
from core.privacy.seal import TemplateKeyError

log = logging.getLogger(__name__)

RUN_KEY = Path("/run/presensi/template-key")


def prepare_template_key(config: KioskConfig, data_dir: Path, *, root: str = "", run_key: Path = RUN_KEY) -> str:
    """Make or program the unit's template key as ``config.privacy`` says; one line of outcome."""
    privacy = config.privacy
    provider = privacy.key_provider
    if provider == "keyfile":
        path = Path(root + str(privacy.key_file)) if root else privacy.key_file
        existed = path.exists()
        try:
            key_file = KeyFileProvider(path, data_dir)
            key_file.ensure()
            key_file.secret()
        except TemplateKeyError as exc:
            return f"template key file {path}: {exc}"
        return f"template key {path} " + ("kept" if existed else "made")
    if provider in ("otp", "credential"):
        outcome = _program_otp_if_empty(privacy.otp_command)
        if provider == "credential" and not outcome.startswith("cannot"):
            return f"{outcome}; {_copy_to_run(privacy.otp_command, run_key)}"
        return outcome
    return f"template key from {provider}: nothing to prepare"


def _read_otp(command: list[str]) -> tuple[str | None, str]:
    """(the key as 64 hex digits, or None; what went wrong)."""
    try:
        read = subprocess.run(command, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"cannot read the OTP key with {command[0]} ({exc}); is this a Raspberry Pi 4/5 with raspberrypi-utils?"
    value = read.stdout.strip().lower()
    if read.returncode != 0 or len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        return None, f"cannot read the OTP key: {command[0]} exited {read.returncode} (it needs /dev/vcio)"
    return value, ""


def _program_otp_if_empty(command: list[str]) -> str:
    # Empty is decided from the key itself (64 zeros), never from an exit status: the tool's
    # "-c" exits 1 for any error too, and programming OTP cannot be undone.
    value, problem = _read_otp(command)
    if value is None:
        return problem
    if set(value) != {"0"}:
        return "OTP template key present"
    key = secrets.token_hex(32)
    try:
        write = subprocess.run([*command, "-y", "-w", key], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot program the OTP key ({exc})"
    if write.returncode != 0:
        return f"cannot program the OTP key: {command[0]} -w exited {write.returncode}"
    log.warning("programmed the SoC's OTP customer key (first boot; it cannot be changed again)")
    return "OTP template key programmed (first boot)"


def _copy_to_run(command: list[str], run_key: Path) -> str:
    """The OTP key, read as root, into a root-only file on tmpfs for LoadCredential=."""
    value, problem = _read_otp(command)
    if value is None or set(value) == {"0"}:
        return problem or "the OTP key is still empty"
    run_key.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = run_key.with_name(run_key.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, (value + "\n").encode())
    finally:
        os.close(fd)
    os.replace(tmp, run_key)
    return f"credential source {run_key} written"
