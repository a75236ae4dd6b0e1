"""The template key at boot (``presensi privacy prepare-key``, run by presensi-provision as root):
the key file made once, or the SoC's OTP key programmed once while empty and handed to the
services as a systemd credential. The OTP tool is a stand-in script with the real tool's
options (-c: exit 1 while all zeros; -y -w KEY: program; no option: print the key)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from core.config import KioskConfig
from core.privacy.keys import CredentialKeyProvider, OtpKeyProvider
from kiosk.privacy.provision import prepare_template_key

FAKE_OTP = """#!/bin/bash
# rpi-otp-private-key stand-in: the OTP row lives in $OTP_STATE (64 hex digits; zeros = empty).
state=${OTP_STATE:?}
[[ -f "$state" ]] || printf '%064d\\n' 0 > "$state"
key=$(tr -d '\\n' < "$state")
case "${1:-}" in
  -c) exit 1 ;;  # the real tool's -c also exits 1 on any error: provisioning must not rely on it
  -y) [[ "$2" == "-w" ]] || exit 3
      [[ "$key" =~ ^0+$ ]] || { echo "OTP already programmed" >&2; exit 2; }
      printf '%s\\n' "$3" > "$state"; echo "$3" >> "$state.writes" ;;
  "") echo "$key" ;;
  *) exit 3 ;;
esac
"""


@pytest.fixture
def otp_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    tool = tmp_path / "rpi-otp-private-key"
    tool.write_text(FAKE_OTP)
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("OTP_STATE", str(tmp_path / "otp-row"))
    return tool


def config_for(provider: str, tool: Path | None = None) -> KioskConfig:
    config = KioskConfig()
    config.privacy.key_provider = provider  # type: ignore[assignment]
    if tool is not None:
        config.privacy.otp_command = [str(tool)]
    return config


def test_an_empty_otp_is_programmed_once_and_handed_over_as_a_credential(
    otp_tool: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_key = tmp_path / "run" / "presensi" / "template-key"
    config = config_for("credential", otp_tool)
    first = prepare_template_key(config, tmp_path / "data", run_key=run_key)
    assert first.startswith("OTP template key programmed (first boot)") and "written" in first, first
    assert oct(run_key.stat().st_mode & 0o777) == "0o600"
    again = prepare_template_key(config, tmp_path / "data", run_key=run_key)  # every later boot
    assert again.startswith("OTP template key present"), again
    assert len((tmp_path / "otp-row.writes").read_text().split()) == 1  # programmed exactly once
    # the services read the same key through $CREDENTIALS_DIRECTORY as the OTP holds
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "presensi-template-key").write_bytes(run_key.read_bytes())
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    assert CredentialKeyProvider("presensi-template-key").secret() == OtpKeyProvider([str(otp_tool)]).secret()


def test_an_otp_unit_is_programmed_but_nothing_is_copied(otp_tool: Path, tmp_path: Path) -> None:
    run_key = tmp_path / "template-key"
    line = prepare_template_key(config_for("otp", otp_tool), tmp_path / "data", run_key=run_key)
    assert line == "OTP template key programmed (first boot)"
    assert not run_key.exists()


def test_an_unreadable_otp_is_never_programmed(otp_tool: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken-otp"
    broken.write_text("#!/bin/sh\nexit 1\n")  # e.g. no /dev/vcio in the service's sandbox
    broken.chmod(0o755)
    line = prepare_template_key(config_for("credential", broken), tmp_path / "data", run_key=tmp_path / "k")
    assert line.startswith("cannot read the OTP key") and "/dev/vcio" in line
    assert not (tmp_path / "otp-row.writes").exists() and not (tmp_path / "k").exists()


def test_without_the_otp_tool_the_unit_still_boots_and_says_why(tmp_path: Path) -> None:
    line = prepare_template_key(config_for("credential", tmp_path / "missing-tool"), tmp_path / "data")
    assert line.startswith("cannot read the OTP key") and "Raspberry Pi 4/5" in line


def test_the_key_file_is_made_once_under_the_given_root(tmp_path: Path) -> None:
    data = tmp_path / "root" / "var" / "lib" / "presensi"
    data.mkdir(parents=True)
    root = str(tmp_path / "root")
    config = config_for("keyfile")
    config.privacy.key_file = Path("/etc/presensi/template.key")  # an installed unit's
    line = prepare_template_key(config, data, root=root)
    key = tmp_path / "root" / "etc" / "presensi" / "template.key"
    assert line == f"template key {key} made" and oct(key.stat().st_mode & 0o777) == "0o600"
    before = key.read_text()
    assert prepare_template_key(config, data, root=root) == f"template key {key} kept"
    assert key.read_text() == before


def test_the_command_prints_one_line(presensi_cmd: list[str], tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[privacy]\nkey_provider = "keyfile"\nkey_file = "{tmp_path / "keys" / "template.key"}"\n')
    result = subprocess.run(
        [*presensi_cmd, "--config", str(config), "--data-dir", str(tmp_path / "data"), "privacy", "prepare-key"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"template key {tmp_path / 'keys' / 'template.key'} made"
