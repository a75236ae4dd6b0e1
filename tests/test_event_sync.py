"""The apel of tests/test_event_run.py, then sync delivering everything once: after the offline
run (500 participants at ten units, three of them by face when the face libraries and the shared
photos are here) every unit is provisioned to the real reference server (a
child process, TLS on 127.0.0.1) and syncs; unit IV-a first delivers by flash disk (``presensi
export`` → ``presensi server import``) and then syncs the same punches too. The server's event
report (admin API, web page, ``presensi server event-report``) must equal what happened at the
field: each person once even when they punched at two kiosks, non-members refused on the units
absent, duplicates not counted; a repeated sync and a repeated import change nothing."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers.sync_support import unit_runtime
from test_event_run import DEVICES, Outcome, run_event

from core.clock import FakeClock, FixedClockState
from core.identity import KEY_FILENAME
from core.runtime import Runtime
from core.schedule.event_mode import BUKAN_PESERTA, DITERIMA, SUDAH_HADIR, EventBook, EventMode
from core.schedule.events import EventPackError, verify_pack, write_envelope
from core.schedule.local_packs import create_local_pack, sample_people
from core.schedule.report import build_report
from core.store.db import DB_FILENAME
from core.store.punches import PunchStore
from kiosk.bench.event import SimEventUnit, load_roster
from kiosk.demo.server import ServerProcess
from sync.bundle import export_bundle
from sync.provision import provision
from sync.server.admin import ServerAdmin
from sync.server.events import EventAttendance
from sync.service import run_once
from sync.targets.presensi_v1 import tls_context

FLASH_DISK_UNIT = "unit-IV-a"  # the unit with the face punches in the long run and the most duplicates


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "server") as running:
        yield running


def as_unit_runtime(tmp_path: Path, name: str, unit: SimEventUnit) -> Runtime:
    """The simulated unit's database and device key moved into a data directory of its own, as
    a unit keeps them, so the real sync code runs on what the event recorded."""
    unit.close()
    data_dir = tmp_path / "units" / name
    data_dir.mkdir(parents=True)
    for suffix in ("", "-wal", "-shm"):
        if (tmp_path / f"{name}.db{suffix}").exists():
            os.replace(tmp_path / f"{name}.db{suffix}", data_dir / f"{DB_FILENAME}{suffix}")
    from cryptography.hazmat.primitives import serialization

    pem = unit.identity.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(data_dir / KEY_FILENAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, pem)
    finally:
        os.close(fd)
    runtime = unit_runtime(data_dir)
    assert runtime.identity().device_id == unit.identity.device_id
    return runtime


def cli(presensi_cmd: list[str], *args: str | Path) -> str:
    done = subprocess.run([*presensi_cmd, *map(str, args)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "generated_at"}


@pytest.fixture
def punched_by(request: pytest.FixtureRequest) -> Path | None:
    """The bundled photos when the face libraries and the shared test data are here (three
    participants then come by face at unit IV-a); None otherwise (everyone by card)."""
    if importlib.util.find_spec("face_recognition") is None:
        return None
    try:
        faces: Path = request.getfixturevalue("faces_dir")
    except pytest.skip.Exception:
        return None
    return faces


def test_event_then_sync_delivers_everything_once(
    tmp_path: Path, server: ServerProcess, presensi_cmd: list[str], punched_by: Path | None
) -> None:
    units, by_name, outcome, _, envelope, _ = run_event(tmp_path, punched_by)
    pack_id = envelope["pack"]["id"]
    recorded = {name: unit.mode.punches() for name, unit in by_name.items()}
    expected = build_report(units[0].mode.pack, [p for punches in recorded.values() for p in punches])
    outsiders = {p.id for p in sample_people(540)[500:]}
    total = sum(map(len, recorded.values()))
    assert total == len(outcome.came) + 10  # ten tapped at both unit IV kiosks
    assert len(outcome.came) == 450
    assert sum(p["method"] == "face" for p in recorded[FLASH_DISK_UNIT]) == (0 if punched_by is None else 3)

    # the pack on the server (the bare pack, as `presensi server publish-event` takes it)
    (tmp_path / "apel.json").write_text(json.dumps(envelope["pack"]), encoding="utf-8")
    config = ("--server-config", server.config_path)
    assert pack_id in cli(presensi_cmd, "server", "publish-event", tmp_path / "apel.json", *config)
    admin = server.admin()
    try:
        runtimes = {name: as_unit_runtime(tmp_path, name, unit) for name, unit in by_name.items()}
        device_of = {name: unit.identity.device_id for name, unit in by_name.items()}
        for name, runtime in runtimes.items():
            provision(runtime, server.url, admin.issue_token(DEVICES[name]), server.ca_file)

        # unit IV-a: the flash disk first, then the network with the same punches
        usb = tmp_path / "usb"
        cli(presensi_cmd, "export", "--to", usb, "--data-dir", runtimes[FLASH_DISK_UNIT].data_dir)
        (bundle,) = usb.glob("presensi-*.zip")
        count = len(recorded[FLASH_DISK_UNIT])
        assert f"{count} new, 0 already held" in cli(presensi_cmd, "server", "import", bundle, *config)
        for name, runtime in runtimes.items():
            result = run_once(runtime)
            assert result["ok"] and result["pending"] == 0, (name, result)
            assert result["acked_seq"] == len(recorded[name])
        for name, device_id in device_of.items():
            assert admin.ledger.punch_seqs(device_id) == list(range(1, len(recorded[name]) + 1)), name
        assert admin.ledger.punch_count() == total
        # the pack came back with the roster, signed by this server: a unit can verify and run it
        conn = runtimes["unit-V"].connect()
        found = EventBook(conn, runtimes["unit-V"].clock).get(pack_id)
        conn.close()
        assert found is not None and found[0] == units[0].mode.pack
        assert verify_pack(found[1], admin.public_key_hex()) == found[0]

        first = check_server_report(tmp_path, server, admin, presensi_cmd, outcome, expected, outsiders, device_of, recorded)

        # again: nothing changes
        for runtime in runtimes.values():
            result = run_once(runtime)
            assert result["ok"] and result["uploaded"] == 0 and result["pending"] == 0
        assert f"0 new, {count} already held" in cli(presensi_cmd, "server", "import", bundle, *config)
        assert admin.ledger.punch_count() == total
        again = check_server_report(tmp_path, server, admin, presensi_cmd, outcome, expected, outsiders, device_of, recorded)
        assert comparable(again) == comparable(first)
    finally:
        admin.storage.close()


def check_server_report(
    tmp_path: Path,
    server: ServerProcess,
    admin: ServerAdmin,
    presensi_cmd: list[str],
    outcome: Outcome,
    expected: Any,
    outsiders: set[str],
    device_of: dict[str, str],
    recorded: dict[str, list[dict[str, Any]]],
) -> dict[str, Any]:
    pack_id = expected.pack.id
    came, total = len(outcome.came), sum(map(len, recorded.values()))
    with httpx.Client(base_url=server.url, verify=tls_context(server.ca_file), timeout=30) as http:
        answer = http.get(f"/admin/events/{pack_id}/attendance")
        assert answer.status_code == 200, answer.text
        report = answer.json()
        page = http.get(f"/events/{pack_id}")
        listing = http.get("/events")
        devices_page = http.get("/")
        unit_v = http.get(f"/admin/events/{pack_id}/attendance", params={"unit": "V"}).json()
        assert http.get("/admin/events/NO-SUCH-EVENT/attendance").status_code == 404

    # each participant once, whatever units they punched at
    assert (report["expected"], report["present"], report["absent"]) == (500, came, 500 - came)
    rows = {r["employee_id"]: r for r in report["rows"]}
    assert len(rows) == 500 and not outsiders & set(rows)
    assert {i for i, r in rows.items() if r["present"]} == outcome.came
    assert {i for i, r in rows.items() if r["late"]} == outcome.late and report["late"] == len(outcome.late)
    assert all(r["note"].startswith("Terlambat ") for r in rows.values() if r["late"])
    # the same rows, in the same order, as the merge of every unit's own punches
    assert [
        (r["unit"], r["employee_id"], r["status"], r["time"], r["note"], r["method"], r["device_id"]) for r in report["rows"]
    ] == [(r.unit, r.employee_id, r.status_text, r.time, r.note, r.method, r.device_id) for r in expected.rows]
    assert [(u["code"], u["expected"], u["present"]) for u in report["units"]] == [
        (s.unit, s.expected, s.present) for s in expected.summaries
    ]
    # what the server received: every punch once; the ten second punches at unit IV are duplicates
    assert report["punches"] == {
        "received": total,
        "duplicates": 10,
        "not_participants": 0,
        "devices": dict(sorted((device_of[n], len(p)) for n, p in recorded.items())),
    }
    both = {p["employee_id"] for p in recorded["unit-IV-b"]}
    assert all(rows[i]["device_id"] == device_of["unit-IV-a"] for i in both)  # the earlier punch counts
    assert unit_v["expected"] == sum(1 for r in report["rows"] if r["unit"] == "V")
    assert {r["unit"] for r in unit_v["rows"]} == {"V"}

    # the page
    assert page.status_code == 200
    assert f"<th>Jumlah</th><th>500</th><th>{came} (terlambat {len(outcome.late)})</th><th>{500 - came}</th>" in page.text
    assert f"{total} dari 10 perangkat" in page.text and "10 ganda tidak dihitung" in page.text
    assert listing.status_code == 200 and f"/events/{pack_id}" in listing.text
    assert devices_page.status_code == 200 and 'href="/events"' in devices_page.text

    # the command, with the files
    out = tmp_path / "report"
    out.mkdir(exist_ok=True)
    text = cli(
        presensi_cmd,
        "server",
        "event-report",
        pack_id,
        "--csv",
        out / "apel.csv",
        "--pdf",
        out / "apel.pdf",
        "--server-config",
        server.config_path,
    )
    assert f"Jumlah: hadir {came} (terlambat {len(outcome.late)}), tidak hadir {500 - came}, dari 500" in text
    assert f"Presensi diterima server: {total} dari 10 perangkat; 10 ganda tidak dihitung" in text
    for summary in expected.summaries:
        assert f"{summary.label}: hadir {summary.present}, tidak hadir {summary.absent}, dari {summary.expected}" in text
    listed = list(csv.DictReader(io.StringIO((out / "apel.csv").read_text(encoding="utf-8-sig"))))
    assert [r["nip"] for r in listed] == [r.employee_id for r in expected.rows]
    assert sum(r["kehadiran"] == "Hadir" for r in listed) == came
    assert (out / "apel.pdf").read_bytes().startswith(b"%PDF-")
    if shutil.which("pdftotext"):
        pdf_text = subprocess.run(
            ["pdftotext", "-layout", str(out / "apel.pdf"), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert f"Jumlah: hadir {came}, tidak hadir {500 - came}, dari 500" in pdf_text
    assert admin.event_report(pack_id).as_json()["present"] == came
    return dict(report)


def test_unknown_event_and_unit_are_refused_with_what_to_do(tmp_path: Path, presensi_cmd: list[str]) -> None:
    server = ServerProcess(tmp_path / "server")  # not started: the commands work on the database
    pack = {
        "id": "SENAM-1",
        "kind": "senam",
        "title": "Senam Jumat",
        "location": {"name": "Halaman Kantor Bupati"},
        "zone": "Asia/Makassar",
        "starts_at": "2026-11-26T22:30:00Z",
        "ends_at": "2026-11-27T00:00:00Z",
        "participants": [{"id": p.id, "name": p.name, "office": p.office} for p in sample_people(3)],
        "issued_at": "2026-11-20T00:00:00Z",
    }
    (tmp_path / "senam.json").write_text(json.dumps(pack), encoding="utf-8")
    config = ("--server-config", server.config_path)
    cli(presensi_cmd, "server", "publish-event", tmp_path / "senam.json", *config)
    report = json.loads(cli(presensi_cmd, "server", "event-report", "SENAM-1", "--json", *config))
    assert (report["expected"], report["present"], report["punches"]["received"]) == (3, 0, 0)
    assert [u["label"] for u in report["units"]] == ["Semua peserta"]
    done = subprocess.run(
        [*presensi_cmd, "server", "event-report", "NO-SUCH", *config], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "no event 'NO-SUCH' on this server; publish its pack first (presensi server publish-event FILE)" in done.stderr

    admin = server.admin()
    try:
        # a pack that is not complete is still stored (units list it), but no report can be made of it
        loose = {k: pack[k] for k in ("kind", "title", "starts_at", "ends_at")} | {"id": "LOOSE"}
        (tmp_path / "loose.json").write_text(json.dumps(loose), encoding="utf-8")
        assert admin.load_event_pack(tmp_path / "loose.json") == "LOOSE"
        # a local pack (made on a unit, signed by its key) is not the server's to publish
        (tmp_path / "local.json").write_text(json.dumps(pack | {"id": "LOCAL-1", "origin": "local"}), encoding="utf-8")
        with pytest.raises(EventPackError, match="event LOCAL-1 is a local pack"):
            admin.load_event_pack(tmp_path / "local.json")
        for event_id, unit, message in (
            ("SENAM-1", "IV", "event SENAM-1 has no unit 'IV'"),
            ("LOOSE", None, "participants: Field required; issued_at: Field required; publish a corrected pack"),
            ("LOCAL-1", None, "no event 'LOCAL-1' on this server"),
        ):
            with pytest.raises(EventPackError, match=re.escape(message)):
                admin.event_report(event_id, unit)
        listed = {e["id"]: e for e in EventAttendance(admin.storage, admin.clock).events()}
        assert listed["SENAM-1"]["participants"] == 3 and listed["SENAM-1"]["problem"] is None
        assert "publish a corrected pack" in listed["LOOSE"]["problem"]
    finally:
        admin.storage.close()


def test_a_local_pack_brought_back_on_the_flash_disk_is_reported(tmp_path: Path, presensi_cmd: list[str]) -> None:
    """A senam with no network at all: the unit makes a local pack, punches, and the operator
    brings the bundle and the pack file back; the server verifies the pack with the key it
    registered for that unit, keeps it for reports only, and reports like for its own packs."""
    server = ServerProcess(tmp_path / "server")  # not started: the commands work on the database
    start = datetime(2026, 11, 26, 22, 30, tzinfo=UTC)  # Friday 27 November 06:30 WITA
    clock = FakeClock(start - timedelta(minutes=5))
    runtime = unit_runtime(tmp_path / "unit")
    identity = runtime.identity()
    conn = runtime.connect()
    store = PunchStore(conn, identity, clock, FixedClockState(), zone="Asia/Makassar")
    people = sample_people(120)
    load_roster(store, people, "2026-11-01T00:00:00Z")
    envelope = create_local_pack(
        conn,
        identity,
        event_id="SENAM-LOKAL-1",
        kind="senam",
        title="Senam Jumat",
        location="Halaman Kantor Bupati",
        starts_at=start,
        ends_at=start + timedelta(minutes=90),
        zone="Asia/Makassar",
        offices=["DINKES", "RSUD", "DISDIK"],
        on_time_until=start + timedelta(minutes=15),
        issued_at=clock.now(),
    )
    pack = verify_pack(envelope, None, device_public_key_hex=identity.public_hex)
    EventBook(conn, clock).save(pack, envelope, activate=True)
    mode = EventMode.for_device(pack, store, clock)
    members = [p.id for p in pack.participants]
    outsider = next(p.id for p in people if p.id not in members)
    on_time, late, away = members[:-3], members[-3:-1], members[-1]
    for employee_id in on_time:
        clock.advance(20.0)
        assert mode.punch(employee_id, "card")[0].code == DITERIMA
    clock.advance((start + timedelta(minutes=20) - clock.now()).total_seconds())  # on time until 06:45
    for employee_id in late:
        assert mode.punch(employee_id, "card")[0].code == DITERIMA
    assert mode.punch(members[0], "card")[0].code == SUDAH_HADIR
    assert mode.punch(outsider, "card")[0].code == BUKAN_PESERTA
    write_envelope(envelope, tmp_path / "senam-lokal.json")
    bundle = export_bundle(conn, identity, clock, tmp_path / "usb")
    assert bundle is not None
    tampered = json.loads(json.dumps(envelope))
    tampered["pack"]["participants"][0]["name"] = "Orang lain"
    write_envelope(tampered, tmp_path / "tampered.json")
    conn.close()

    admin = server.admin()
    try:
        with pytest.raises(EventPackError, match="which this server does not know; provision that unit"):
            admin.load_event_pack(tmp_path / "senam-lokal.json")
        admin.ledger.provision(admin.issue_token("DINKES"), identity.public_hex)
        assert admin.import_bundle(bundle.bundle).accepted == len(members) - 1
        with pytest.raises(EventPackError, match="signature does not verify"):
            admin.load_event_pack(tmp_path / "tampered.json")
        (tmp_path / "bare.json").write_text(json.dumps(envelope["pack"]), encoding="utf-8")
        with pytest.raises(EventPackError, match="is a local pack"):  # not the server's to publish and sign
            admin.load_event_pack(tmp_path / "bare.json")
        out = cli(presensi_cmd, "server", "publish-event", tmp_path / "senam-lokal.json", "--server-config", server.config_path)
        assert f"the local pack of {identity.device_id} is kept for reports" in out
        assert admin.roster.document(0)["events"] == []  # never sent to units
        found = admin.event_report("SENAM-LOKAL-1")
        report = found.as_json()
        assert (report["expected"], report["present"], report["late"]) == (len(members), len(members) - 1, 2)
        assert {r["employee_id"] for r in report["rows"] if not r["present"]} == {away}
        assert {r["employee_id"] for r in report["rows"] if r["late"]} == set(late)
        assert all(r["note"] == "Terlambat 5 menit" for r in report["rows"] if r["late"])
        assert report["punches"] == {
            "received": len(members) - 1,
            "duplicates": 0,
            "not_participants": 0,
            "devices": {identity.device_id: len(members) - 1},
        }
        listed = {e["id"]: e for e in EventAttendance(admin.storage, admin.clock).events()}
        assert listed["SENAM-LOKAL-1"]["origin"] == "local" and listed["SENAM-LOKAL-1"]["present"] == len(members) - 1
    finally:
        admin.storage.close()
