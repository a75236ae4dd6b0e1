"""Running arm64 (aarch64) programs on this x86-64 machine: qemu-user through binfmt_misc.

:func:`aarch64_emulation` sets it up as far as it can (mount binfmt_misc, install Debian's
qemu-user-static, enable or register the interpreter with the fix-binary flag, so that it works
inside a chroot) and returns None when an arm64 program runs, else a sentence saying exactly what
was missing, for a test's skip reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

BINFMT = Path("/proc/sys/fs/binfmt_misc")
ENTRY = BINFMT / "qemu-aarch64"
INTERPRETER = Path("/usr/bin/qemu-aarch64-static")
#: The register line of Debian's qemu-user-static for aarch64, with F (fix binary: the kernel
#: opens the interpreter now, so a chroot without it still runs arm64 programs).
MAGIC = r"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00"
MASK = r"\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff"


def _quiet(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=900)


def _mounted() -> bool:
    return (BINFMT / "register").exists()


def _register() -> str | None:
    """Enable Debian's entry, or write the register line; None once the entry is enabled."""
    if shutil.which("update-binfmts"):
        _quiet(["update-binfmts", "--enable", "qemu-aarch64"])
    if not ENTRY.exists():
        line = f":qemu-aarch64:M::{MAGIC}:{MASK}:{INTERPRETER}:F"
        try:
            (BINFMT / "register").write_text(line)
        except OSError as exc:
            return f"writing the qemu-aarch64 register line to {BINFMT / 'register'} failed ({exc})"
    if not ENTRY.read_text().startswith("enabled"):
        return f"{ENTRY} exists but is disabled (echo 1 > {ENTRY})"
    return None


def aarch64_emulation() -> str | None:
    """None when arm64 programs run here (set up if needed); else what is missing."""
    if os.geteuid() != 0:
        return "needs root to mount binfmt_misc and register qemu-aarch64"
    if not _mounted():
        mount = _quiet(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)])
        if not _mounted():
            return f"binfmt_misc cannot be mounted at {BINFMT}: {mount.stderr.strip() or mount.returncode}"
    if not INTERPRETER.is_file():
        install = _quiet(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "qemu-user-static", "binfmt-support"])
        if not INTERPRETER.is_file():
            return f"{INTERPRETER} is missing and apt-get install qemu-user-static failed: {install.stderr.strip()[-300:]}"
    if not ENTRY.exists() or not ENTRY.read_text().startswith("enabled"):
        missing = _register()
        if missing:
            return missing
    flags = next((line.split(":", 1)[1] for line in ENTRY.read_text().splitlines() if line.startswith("flags:")), "")
    if "F" not in flags:
        return f"{ENTRY} lacks the F (fix binary) flag, so arm64 programs cannot run inside a chroot"
    return None
