"""Templates sealed at rest (issue 12): providers, binding, and a copied card that cannot open them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from core.config import PrivacyConfig
from core.privacy import Sealer, TemplateKeyError, build_key_provider, sealer_for
from core.privacy.keys import CredentialKeyProvider, KeyFileProvider, OtpKeyProvider

OTP_A = "a1" * 32
OTP_B = "b2" * 32


def sim(hex_key: str) -> Sealer:
    return sealer_for(PrivacyConfig(key_provider="sim", sim_otp_hex=hex_key))


def test_seal_and_open_round_trip_without_the_plaintext_in_the_bytes() -> None:
    sealer = sim(OTP_A)
    template = bytes(range(256)) * 2
    sealed = sealer.seal(template, "face_templates:1985")
    assert template not in sealed and template[:32] not in sealed
    assert sealer.open(sealed, "face_templates:1985") == template
    assert "a1a1" not in repr(sealer)


def test_another_units_key_cannot_open_and_says_why() -> None:
    sealed = sim(OTP_A).seal(b"x" * 512, "face_templates:1")
    with pytest.raises(TemplateKeyError, match="another unit's key"):
        sim(OTP_B).open(sealed, "face_templates:1")


def test_a_template_moved_to_another_employee_fails() -> None:
    sealer = sim(OTP_A)
    sealed = sealer.seal(b"x" * 512, "face_templates:1")
    with pytest.raises(TemplateKeyError, match="integrity"):
        sealer.open(sealed, "face_templates:2")
    with pytest.raises(TemplateKeyError, match="integrity"):
        sealer.open(sealed[:-1] + bytes([sealed[-1] ^ 1]), "face_templates:1")


def test_an_empty_otp_is_refused() -> None:
    with pytest.raises(TemplateKeyError, match="provision"):
        sim("00" * 32)


def test_otp_provider_reads_the_tool(tmp_path: Path) -> None:
    tool = tmp_path / "rpi-otp-private-key"
    tool.write_text(f"#!/bin/sh\necho {OTP_A}\n")
    tool.chmod(0o755)
    key = OtpKeyProvider([str(tool)]).template_key()
    assert key == build_key_provider(PrivacyConfig(key_provider="sim", sim_otp_hex=OTP_A)).template_key()
    failing = tmp_path / "fails"
    failing.write_text("#!/bin/sh\nexit 3\n")
    failing.chmod(0o755)
    with pytest.raises(TemplateKeyError, match="vcio"):
        OtpKeyProvider([str(failing)]).secret()


def test_keyfile_is_made_0600_outside_the_data_dir(tmp_path: Path) -> None:
    provider = KeyFileProvider(tmp_path / "etc" / "template.key", data_dir=tmp_path / "data")
    with pytest.raises(TemplateKeyError, match="does not exist"):  # reading never makes one (issue 21)
        provider.template_key()
    assert not (tmp_path / "etc" / "template.key").exists()
    assert provider.ensure() and not provider.ensure()  # provisioning makes it, once
    first = provider.template_key()
    assert stat.S_IMODE((tmp_path / "etc" / "template.key").stat().st_mode) == 0o600
    assert provider.template_key() == first
    with pytest.raises(TemplateKeyError, match="must not be inside"):
        KeyFileProvider(tmp_path / "data" / "k", data_dir=tmp_path / "data")
    os.chmod(tmp_path / "etc" / "template.key", 0o644)
    with pytest.raises(TemplateKeyError, match="chmod 600"):
        provider.secret()


def test_credential_provider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    with pytest.raises(TemplateKeyError, match="LoadCredential"):
        CredentialKeyProvider("k").secret()
    (tmp_path / "k").write_text(OTP_A)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert CredentialKeyProvider("k").secret() == bytes.fromhex(OTP_A)


def test_a_keyfile_that_cannot_be_made_says_how_to_make_it(tmp_path: Path) -> None:
    blocker = tmp_path / "etc"
    blocker.write_text("a file where the key's directory should be")  # as a read-only /etc would refuse
    with pytest.raises(TemplateKeyError, match="install -m 600"):
        KeyFileProvider(blocker / "presensi" / "template.key").ensure()


def test_a_credential_that_is_not_hex_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "k").write_text("not hex")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    with pytest.raises(TemplateKeyError, match="did not give a hex key"):
        CredentialKeyProvider("k").secret()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: a key made by a command run with sudo")
def test_a_keyfile_made_by_root_belongs_to_the_data_directory_owner(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    os.chown(data, 4321, 4321)  # the service user
    KeyFileProvider(tmp_path / "etc" / "template.key", data_dir=data).ensure()
    made = (tmp_path / "etc" / "template.key").stat()
    assert (made.st_uid, made.st_gid, stat.S_IMODE(made.st_mode)) == (4321, 4321, 0o600)


def test_doctor_makes_no_key_file_and_says_how(tmp_path: Path) -> None:
    from core.config import KioskConfig
    from core.runtime import Runtime
    from kiosk.checks.findings import Status
    from kiosk.checks.privacy import stored_templates, template_key

    config = KioskConfig()
    config.privacy.key_file = tmp_path / "etc" / "template.key"
    rt = Runtime(config=config, data_dir=tmp_path / "data")
    rt.connect().close()
    finding = template_key(rt)[0]
    assert finding.status is Status.FAIL and "does not exist" in finding.detail and "openssl rand" in finding.todo
    assert [f.status for f in stored_templates(rt)] == [Status.OK]  # nothing stored yet
    assert not config.privacy.key_file.exists()


def test_a_units_first_finger_enrolment_makes_its_key_but_a_lost_key_stays_lost(tmp_path: Path) -> None:
    """As the first face enrolment does: a unit enrolled before provisioning gets its key file
    from the bridge's first stored template; once templates are sealed, a missing key file is
    a lost key and enrolment is refused, never given a new key."""
    from datetime import UTC, datetime

    from core.config import KioskConfig
    from core.runtime import Runtime
    from firmware_bridge.factory import unit_finger_db

    config = KioskConfig()
    config.privacy.key_file = tmp_path / "etc" / "template.key"
    rt = Runtime(config=config, data_dir=tmp_path / "data")
    conn = rt.connect()
    conn.execute("INSERT INTO employees (id, name, updated_at) VALUES ('198503302010011001', 'Budi', '2026-12-03T01:00:00Z')")
    db = unit_finger_db(rt, conn)
    assert db.sealer is None and not config.privacy.key_file.exists()
    now = datetime(2026, 12, 3, 1, tzinfo=UTC)
    db.save_enrolled("198503302010011001", 6, "gt521", b"\x01" * 498, module="sim", slot=1, now=now)
    assert config.privacy.key_file.exists()
    assert conn.execute("SELECT scheme FROM finger_templates").fetchone()[0] != "plain"

    conn.close()

    config.privacy.key_file.unlink()  # the key is lost while sealed templates exist; the unit restarts
    restarted = Runtime(config=config, data_dir=tmp_path / "data")
    conn = restarted.connect()
    lost = unit_finger_db(restarted, conn)
    with pytest.raises(TemplateKeyError, match="not stored"):
        lost.save_enrolled("198503302010011001", 7, "gt521", b"\x02" * 498, module="sim", slot=2, now=now)
    assert not config.privacy.key_file.exists()
    conn.close()
