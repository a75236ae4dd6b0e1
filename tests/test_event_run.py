"""An apel run end to end, offline: ten portable units (Balangan's nine, unit IV with two
kiosks) load one server-signed pack; 500 participants from every unit punch by card through
the simulated readers, the card directory and the real punch store (three of them by face from
the bundled photos when the shared test data is present); non-members and people at the wrong
unit are refused with their message; duplicates are suppressed; each unit's report and the
merged report (one attendance per person across units) are checked against what happened."""

from __future__ import annotations

import csv
import io
import random
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core.clock import FakeClock
from core.schedule.event_mode import BUKAN_PESERTA, DITERIMA, SUDAH_HADIR, UNIT_LAIN
from core.schedule.events import verify_pack
from core.schedule.local_packs import SamplePerson, sample_people
from core.schedule.report import build_report
from core.store.punches import verify_database
from kiosk.bench.event import SimEventUnit, build_units, server_public_hex

START = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # Monday 23 November 2026, 07:00 WITA
DEVICES = {
    "unit-I": "I",
    "unit-II": "II-III",  # machines II and III both serve eselon III (balangan-perbup-32-2020.txt Pasal 6 ayat 4 huruf b)
    "unit-III": "II-III",
    "unit-IV-a": "IV",
    "unit-IV-b": "IV",
    "unit-V": "V",
    "unit-VI": "VI",
    "unit-VII": "VII",
    "unit-VIII": "VIII",
    "unit-IX": "IX",
}


@dataclass
class Outcome:
    came: set[str] = field(default_factory=set)
    late: set[str] = field(default_factory=set)
    accepted_per_device: dict[str, int] = field(default_factory=dict)
    refusals: list[tuple[str, str, str]] = field(default_factory=list)  # (employee, code, text)


Run = tuple[list[SimEventUnit], dict[str, SimEventUnit], Outcome, list[SamplePerson], dict[str, Any], Ed25519PrivateKey]


def run_event(tmp_path: Path, faces_dir: Path | None) -> Run:
    rng = random.Random(8)
    roster = sample_people(540)
    participants, outsiders = roster[:500], roster[500:]
    clock = FakeClock(START - timedelta(minutes=10))
    server_key = Ed25519PrivateKey.generate()
    units, envelope = build_units(tmp_path, participants, roster, units=DEVICES, start=START, clock=clock, server_key=server_key)
    by_name = dict(zip(DEVICES, units, strict=True))
    home_of = {code: name for name, code in reversed(DEVICES.items())}  # unit code → its first kiosk
    outcome = Outcome(accepted_per_device=dict.fromkeys(DEVICES, 0))

    def tap(name: str, person: SamplePerson) -> str:
        admission, punch = by_name[name].tap(person.card_uid)
        assert admission is not None
        if admission.accepted:
            assert punch is not None and punch.event_id == envelope["pack"]["id"] and punch.kind == "apel"
            outcome.accepted_per_device[name] += 1
        else:
            assert punch is None
            outcome.refusals.append((person.id, admission.code, admission.text))
        return admission.code

    face_ids: dict[str, str] = {}
    unit_iv = [p for p in participants if p.unit == "IV"]
    if faces_dir is not None:
        from kiosk.bench._event_face import FaceEventSim

        face_sim = FaceEventSim.enrol(faces_dir, by_name["unit-IV-a"].mode, [p.id for p in unit_iv[:5]])
        face_ids = {str(path): who for path, who in face_sim.photos(faces_dir)}

    absent = {p.id for p in rng.sample(participants, 50)} - set(face_ids.values())
    arriving = [p for p in participants if p.id not in absent and p.id not in face_ids.values()]
    rng.shuffle(arriving)
    wrong_first = set(rng.sample([p.id for p in arriving], 20))
    for i, person in enumerate(arriving):
        clock.advance(4.0)  # 496 people over about 33 minutes
        home = home_of[person.unit]
        if person.unit == "II-III":  # machines II and III both serve eselon III: people use either
            home = ("unit-II", "unit-III")[i % 2]
        if person.id in wrong_first:
            wrong = next(n for n, c in DEVICES.items() if c != person.unit)
            assert tap(wrong, person) == UNIT_LAIN
            label = "Unit II dan III" if person.unit == "II-III" else f"Unit {person.unit}"
            assert outcome.refusals[-1][2] == f"Bukan peserta unit ini – silakan ke {label}"
        assert tap(home, person) == DITERIMA
        outcome.came.add(person.id)
        if clock.now().replace(second=0, microsecond=0) > START + timedelta(minutes=30):  # on time until 07:30
            outcome.late.add(person.id)
        if i % 17 == 0:  # taps again a little later: suppressed, with the time that counts
            clock.advance(2.0)
            assert tap(home, person) == SUDAH_HADIR
            assert outcome.refusals[-1][2].startswith(("Sudah tercatat hadir pukul 06:", "Sudah tercatat hadir pukul 07:"))
    # ten of unit IV also tap at the other unit IV kiosk: it accepts (it cannot know), the merge counts once
    for person in [p for p in arriving if p.unit == "IV"][:10]:
        assert tap("unit-IV-b", person) == DITERIMA
    # roster members who are not participants, and a card nobody owns
    for person in outsiders[:5]:
        assert tap(rng.choice(list(DEVICES)), person) == BUKAN_PESERTA
        assert outcome.refusals[-1][2] == "Bukan peserta unit ini"
    stranger = SamplePerson("0", "Orang asing", "", "", "DEADBEEF")
    admission, punch = by_name["unit-V"].tap(stranger.card_uid)
    assert admission is None and punch is None and by_name["unit-V"].log[-1][1] == "Kartu tidak dikenal"
    # by face at unit IV-a
    if faces_dir is not None:
        for path, who in face_sim.photos(faces_dir):
            clock.advance(4.0)
            match, admission, punch = face_sim.punch(path)
            assert match is not None and match.employee_id == who, path
            assert admission is not None and admission.accepted and punch is not None
            assert (punch.method, punch.liveness_verdict, punch.event_id) == ("face", "skipped", envelope["pack"]["id"])
            outcome.came.add(who)
            if clock.now().replace(second=0, microsecond=0) > START + timedelta(minutes=30):
                outcome.late.add(who)
            outcome.accepted_per_device["unit-IV-a"] += 1
        match, admission, punch = face_sim.punch(faces_dir / "test" / "obama1.jpg")
        assert admission is not None and admission.code == SUDAH_HADIR and punch is None
    return units, by_name, outcome, participants, envelope, server_key


def check_run(
    units: list[SimEventUnit],
    by_name: dict[str, SimEventUnit],
    outcome: Outcome,
    participants: list[SamplePerson],
    envelope: dict[str, Any],
    server_key: Ed25519PrivateKey,
    tmp_path: Path,
) -> None:
    pack = units[0].mode.pack
    everyone = {p.id: p for p in participants}
    all_punches = []
    for name, unit in by_name.items():
        punches = unit.mode.punches()
        assert len(punches) == outcome.accepted_per_device[name], name
        assert len({p["employee_id"] for p in punches}) == len(punches), f"{name} recorded a duplicate"
        assert verify_database(unit.store.conn).ok
        all_punches += punches
        # the unit's own report: its roster, hadir / tidak hadir
        report = unit.mode.attendance()
        roster = {p.id for p in participants if p.unit == unit.code}
        assert {r.employee_id for r in report.rows} == roster
        present_here = {p["employee_id"] for p in punches}
        if unit.code in ("IV", "II-III"):  # two kiosks serve these units: each sees only its own punches
            assert {r.employee_id for r in report.rows if r.present} == present_here
        else:
            assert {r.employee_id for r in report.rows if r.present} == outcome.came & roster
        banner = unit.mode.banner()
        assert (banner.expected, banner.present) == (len(roster), len(present_here))
        assert banner.window == "07:00–08:30 WITA" and banner.unit == (pack.unit(unit.code).display if unit.code else "")  # type: ignore[union-attr]
    # the merged attendance (as the server computes it): once per person across units
    merged = build_report(pack, all_punches, generated_at="2026-11-23T01:00:00Z")
    assert merged.expected == 500
    assert {r.employee_id for r in merged.rows if r.present} == outcome.came
    assert merged.present == len(outcome.came) and merged.absent == 500 - len(outcome.came)
    late_rows = {r.employee_id for r in merged.rows if r.note.startswith("Terlambat")}
    assert late_rows == outcome.late
    for summary in merged.summaries:
        roster = {i for i, p in everyone.items() if p.unit == summary.unit}
        assert (summary.expected, summary.present) == (len(roster), len(roster & outcome.came))
    assert sum(s.present for s in merged.summaries) == len(outcome.came)
    # CSV and PDF of unit V
    unit_v = by_name["unit-V"].mode.attendance()
    unit_v.write_csv(tmp_path / "apel-unit-V.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "apel-unit-V.csv").read_text(encoding="utf-8-sig"))))
    assert len(rows) == unit_v.expected
    assert sum(r["kehadiran"] == "Hadir" for r in rows) == unit_v.present
    assert sum(r["kehadiran"] == "Tidak hadir" for r in rows) == unit_v.absent
    assert all(r["unit"] == "V" and r["acara"] == pack.id for r in rows)
    unit_v.write_pdf(tmp_path / "apel-unit-V.pdf")
    assert (tmp_path / "apel-unit-V.pdf").read_bytes().startswith(b"%PDF-")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-layout", str(tmp_path / "apel-unit-V.pdf"), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "Daftar Hadir Apel" in text
        assert f"Unit V: hadir {unit_v.present}, tidak hadir {unit_v.absent}, dari {unit_v.expected}" in text
        assert text.count("Tidak hadir") == unit_v.absent
    # the envelope still verifies (nothing on the units changed the pack)
    assert verify_pack(envelope, server_public_hex(server_key)).id == pack.id
    for unit in units:
        unit.close()


def test_event_run_offline_500_by_card(tmp_path: Path) -> None:
    units, by_name, outcome, participants, envelope, key = run_event(tmp_path, None)
    assert len(outcome.came) == 450
    assert sum(1 for _, code, _ in outcome.refusals if code == UNIT_LAIN) == 20
    assert sum(1 for _, code, _ in outcome.refusals if code == BUKAN_PESERTA) == 5
    assert sum(1 for _, code, _ in outcome.refusals if code == SUDAH_HADIR) == len(range(0, 450, 17))
    check_run(units, by_name, outcome, participants, envelope, key, tmp_path)


def test_event_run_offline_with_face_punches(tmp_path: Path, faces_dir: Path, artifacts_dir: Path) -> None:
    pytest.importorskip("face_recognition")
    units, by_name, outcome, participants, envelope, key = run_event(tmp_path, faces_dir)
    face_punches = [p for p in by_name["unit-IV-a"].mode.punches() if p["method"] == "face"]
    assert len(face_punches) == 3
    check_run(units, by_name, outcome, participants, envelope, key, tmp_path)
    shutil.copy(tmp_path / "apel-unit-V.pdf", artifacts_dir / "event-report-unit-V.pdf")
