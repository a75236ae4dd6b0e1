"""The device's signing key is sealed under the unit's key (issue 22, "Also"): copying the data
directory to another machine does not let ``presensi`` sign a punch there; a plain key of an older
version is sealed on the unit itself; doctor says which protection is in force."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import KioskConfig
from core.errors import IdentityError
from core.identity import KEY_FILENAME, PUBLIC_FILENAME, SEALED_FILENAME, DeviceIdentity
from core.privacy.keys import KeyFileProvider
from core.runtime import Runtime
from core.store.punches import PunchRequest
from kiosk.checks.findings import Status
from kiosk.doctor import device_key


def unit(data: Path, key_file: Path) -> Runtime:
    config = KioskConfig()
    config.unit.hardware = "sim"
    config.clock.state = "synced"
    config.privacy.key_file = key_file  # the unit's key, outside the data directory
    return Runtime(config=config, data_dir=data)


def test_a_copied_data_directory_cannot_sign_on_another_machine(tmp_path: Path) -> None:
    KeyFileProvider(tmp_path / "unit-a" / "template.key").ensure()
    a = unit(tmp_path / "a-data", tmp_path / "unit-a" / "template.key")
    a.store().record(PunchRequest("198503302010011001", "card"))
    assert (tmp_path / "a-data" / SEALED_FILENAME).exists() and not (tmp_path / "a-data" / KEY_FILENAME).exists()
    assert DeviceIdentity.public_hex_of(tmp_path / "a-data") == a.identity().public_hex
    assert [f.status for f in device_key(a)] == [Status.OK]

    shutil.copytree(tmp_path / "a-data", tmp_path / "copy")  # the SD card's data, on another machine
    KeyFileProvider(tmp_path / "machine-b" / "template.key").ensure()  # which has its own key
    b = unit(tmp_path / "copy", tmp_path / "machine-b" / "template.key")
    with pytest.raises(IdentityError, match="copied from another unit cannot sign"):
        b.store().record(PunchRequest("198503302010011001", "card"))
    assert [f.status for f in device_key(b)] == [Status.FAIL]
    without = unit(tmp_path / "copy", tmp_path / "nowhere" / "template.key")  # or no key at all
    with pytest.raises(IdentityError, match="sealed with the unit's key"):
        without.identity()


def test_a_plain_key_is_sealed_by_the_boot_service_not_by_other_commands(tmp_path: Path) -> None:
    data, key = tmp_path / "data", tmp_path / "etc" / "template.key"
    old = DeviceIdentity.load_or_create(data)  # an older version's plain key
    runtime = unit(data, key)
    findings = device_key(runtime)
    assert findings[0].status is Status.WARN and "a copy of the card can sign" in findings[0].detail
    KeyFileProvider(key).ensure()
    assert unit(data, key).identity().device_id == old.device_id  # read as it is: no side effect
    assert (data / KEY_FILENAME).exists() and not (data / SEALED_FILENAME).exists()
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[unit]\nhardware = "sim"\n\n[privacy]\nkey_provider = "keyfile"\nkey_file = "{key}"\n')
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "--config", str(config), "--data-dir", str(data), "privacy", "prepare-key"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"device key of {old.device_id} sealed under the unit's key" in done.stdout
    assert not (data / KEY_FILENAME).exists() and (data / SEALED_FILENAME).exists()
    assert (data / PUBLIC_FILENAME).read_text().strip() == old.public_hex
    assert unit(data, key).identity().device_id == old.device_id  # the same identity, now sealed
    assert [f.status for f in device_key(unit(data, key))] == [Status.OK]
