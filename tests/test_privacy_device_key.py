"""The device's signing key is sealed under the unit's key (issue 22, "Also"): copying the data
directory to another machine does not let ``presensi`` sign a punch there; a plain key of an older
version is sealed on the unit itself; doctor says which protection is in force."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core.config import KioskConfig
from core.errors import IdentityError
from core.identity import KEY_FILENAME, PUBLIC_FILENAME, SEALED_FILENAME, DeviceIdentity
from core.privacy.keys import KeyFileProvider
from core.runtime import Runtime
from core.store.punches import PunchRequest
from kiosk.checks.findings import Status
from kiosk.commands.privacy_cmd import seal_plain_device_key
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


def test_racing_processes_leave_the_public_key_of_the_key_that_was_kept(tmp_path: Path) -> None:
    """Provisioning reads the device id (and the hostname) from device_key.pub: when several
    processes make the first key at once, the public half must be the winner's."""
    provider = KeyFileProvider(tmp_path / "template.key")
    provider.ensure()
    sealer = provider.device_key_sealer()
    for round_ in range(20):
        data = tmp_path / f"unit{round_}"
        data.mkdir()
        barrier = threading.Barrier(3)

        def make(data: Path = data, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            DeviceIdentity.load_or_create(data, sealer)

        threads = [threading.Thread(target=make) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        kept = DeviceIdentity.load_or_create(data, sealer)
        assert DeviceIdentity.public_hex_of(data) == kept.public_hex, round_


def test_a_lost_public_half_is_written_again_from_the_sealed_key(tmp_path: Path) -> None:
    provider = KeyFileProvider(tmp_path / "template.key")
    provider.ensure()
    sealer = provider.device_key_sealer()
    made = DeviceIdentity.load_or_create(tmp_path / "unit", sealer)
    (tmp_path / "unit" / PUBLIC_FILENAME).unlink()  # a power cut between the two writes
    DeviceIdentity.load_or_create(tmp_path / "unit", sealer)
    assert DeviceIdentity.public_hex_of(tmp_path / "unit") == made.public_hex


@pytest.mark.skipif(os.geteuid() != 0, reason="root's side of provisioning: run as root")
def test_root_leaves_a_plain_key_it_would_seal_under_a_key_the_services_cannot_read(tmp_path: Path) -> None:
    """The OTP (and the credential made from it) is read by root directly and by the services
    only through what they are given: a key root sealed under it could not be opened by them."""
    data = tmp_path / "unit"
    DeviceIdentity.load_or_create(data)  # an older unit's plain key
    config = KioskConfig()
    config.privacy.key_provider = "credential"
    outcome = seal_plain_device_key(Runtime(config=config, data_dir=data))
    assert outcome is not None and "left a plain file" in outcome
    assert (data / KEY_FILENAME).exists() and not (data / SEALED_FILENAME).exists()
