"""Keterangan with a document, approved by a second officer; TK after the cut-off; pembatalan
kehadiran (Jember Pasal 13) as an audited action. On SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.clock import FakeClock
from core.credentials import LoginRefused
from core.errors import AttendanceError, AuthError
from sync.server.daybook import DayBook
from sync.server.keterangan import MAX_DOCUMENT_BYTES, Document, KeteranganBook
from sync.server.officers import Officers
from sync.server.roster_versions import RosterAdmin
from sync.server.storage import Storage
from tests.helpers.recap_support import local, store_punch
from tests.helpers.sync_support import PG_BIN, postgres_cluster

NIP = "198001012006041001"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


@pytest.fixture(params=["sqlite", "postgresql"])
def office(request, tmp_path):
    if request.param == "postgresql":
        if not (PG_BIN / "initdb").exists():
            pytest.skip("PostgreSQL 15 is not installed (apt-get install postgresql-15)")
        with postgres_cluster() as url:
            yield from _office(Storage(url))
    else:
        yield from _office(Storage(f"sqlite:///{tmp_path}/server.db"))


def _office(storage: Storage):
    storage.create_schema()
    clock = FakeClock(datetime(2026, 11, 2, 1, 0, tzinfo=UTC))  # Monday 08:00 WIB
    roster = RosterAdmin(storage, clock)
    roster.add_unit("DISKOMINFO", "Dinas Kominfo")
    roster.add_unit("BAPPEDA", "Bappeda")
    roster.add_employee(NIP, "Budi", unit_code="DISKOMINFO", work_code="JEMBER-5H")
    roster.add_employee("199001012015041002", "Sari", unit_code="BAPPEDA", work_code="JEMBER-5H")
    officers = Officers(storage, clock)
    admin = officers.create("admin.kominfo", "kata-sandi-admin-1", "admin_pd", "DISKOMINFO")
    bkpsdm = officers.create("bkpsdm.ani", "kata-sandi-bkpsdm-1", "bkpsdm")
    days = DayBook(storage, clock)
    yield KeteranganBook(storage, clock, days), days, clock, admin, bkpsdm, officers, storage
    storage.close()


def test_keterangan_needs_a_second_officer_and_then_replaces_tk(office) -> None:
    book, days, clock, admin, bkpsdm, officers, _ = office
    clock.set_wall(datetime(2026, 11, 4, 17, 0, tzinfo=UTC))  # Thursday 00:00 WIB: Mon–Wed are over
    days.close_month("2026-11")
    assert days.day(NIP, date(2026, 11, 3))["status"] == "tk"
    number = book.submit(
        admin, NIP, "S", first=date(2026, 11, 3), last=date(2026, 11, 4), document=Document("surat dokter.jpg", JPEG)
    )
    assert days.day(NIP, date(2026, 11, 3))["status"] == "tk"  # not approved yet
    with pytest.raises(AttendanceError, match="only BKPSDM"):
        book.decide(admin, number, True)
    book.decide(bkpsdm, number, True, "surat dokter sah")
    assert days.day(NIP, date(2026, 11, 3))["status"] == "S"
    assert days.day(NIP, date(2026, 11, 4))["status"] == "S"  # the day not over yet is stored as S too
    assert days.day(NIP, date(2026, 11, 2))["status"] == "tk"
    versions = days.versions(NIP, date(2026, 11, 3))
    assert [v["body"]["status"] for v in versions] == ["tk", "S"]
    assert versions[1]["actor"] == "bkpsdm.ani" and "keterangan #" in versions[1]["reason"]
    with pytest.raises(AttendanceError, match="already disetujui"):
        book.decide(bkpsdm, number, False)
    name, kind, data = book.document(bkpsdm, number)
    assert (name, kind, data) == ("surat dokter.jpg", "image/jpeg", JPEG)
    actions = [a["action"] for a in officers.audit_log()]
    assert "keterangan diajukan" in actions and "keterangan disetujui" in actions


def test_the_one_who_entered_does_not_approve_and_documents_are_checked_by_content(office) -> None:
    book, _, _, admin, bkpsdm, _, _ = office
    mine = book.submit(bkpsdm, NIP, "DL", first=date(2026, 11, 5), last=date(2026, 11, 5), document=Document("spt.pdf", PDF))
    with pytest.raises(AttendanceError, match="second officer"):
        book.decide(bkpsdm, mine, True)
    with pytest.raises(AttendanceError, match="PDF or a JPEG"):
        book.submit(
            admin,
            NIP,
            "C",
            first=date(2026, 11, 5),
            last=date(2026, 11, 6),
            document=Document("cuti.pdf", b"MZ\x90\x00 not a pdf"),
        )
    with pytest.raises(AttendanceError, match="at most"):
        book.submit(
            admin,
            NIP,
            "C",
            first=date(2026, 11, 5),
            last=date(2026, 11, 6),
            document=Document("cuti.pdf", PDF + b"\x00" * MAX_DOCUMENT_BYTES),
        )
    with pytest.raises(AttendanceError, match="code"):
        book.submit(admin, NIP, "X", first=date(2026, 11, 5), last=date(2026, 11, 6), document=Document("a.pdf", PDF))
    with pytest.raises(AttendanceError, match="not in your office"):  # Admin PD sees their office only
        book.submit(
            admin, "199001012015041002", "C", first=date(2026, 11, 5), last=date(2026, 11, 6), document=Document("a.pdf", PDF)
        )
    with pytest.raises(AttendanceError, match="month of these days has closed"):  # malang juknis, Proses Input Keterangan angka 4
        book.submit(admin, NIP, "C", first=date(2026, 10, 30), last=date(2026, 11, 2), document=Document("a.pdf", PDF))
    assert [k["id"] for k in book.listing(admin)] == [mine]
    assert len(book.listing(bkpsdm)) == 1


def test_pembatalan_kehadiran_needs_two_witnesses_and_counts_the_day_as_without_reason(office) -> None:
    book, days, _clock, admin, _, officers, storage = office
    store_punch(storage, NIP, local("2026-11-02", "06:50"))
    store_punch(storage, NIP, local("2026-11-02", "15:05"), kind="pulang")
    days.refresh()
    letter = Document("lampiran-iii.pdf", PDF)
    with pytest.raises(AttendanceError, match="two witnesses"):
        book.cancel_attendance(admin, NIP, date(2026, 11, 2), reason="tidak di tempat", witnesses=["Andi"], letter=letter)
    with pytest.raises(AttendanceError, match="present on"):
        book.cancel_attendance(admin, NIP, date(2026, 11, 3), reason="x", witnesses=["Andi", "Citra"], letter=letter)
    book.cancel_attendance(
        admin, NIP, date(2026, 11, 2), reason="tidak di tempat tugas", witnesses=["Andi", "Citra"], letter=letter
    )
    day = days.day(NIP, date(2026, 11, 2))
    assert day["status"] == "batal" and day["body"]["masuk"] is not None  # the punches stay in the record
    assert "Pasal 13" in days.versions(NIP, date(2026, 11, 2))[-1]["reason"]
    assert any(a["action"] == "pembatalan kehadiran" for a in officers.audit_log())


def test_officer_login_sessions_and_lockout(office) -> None:
    _, _, clock, _, _, officers, _ = office
    token, session = officers.login("Admin.Kominfo", "kata-sandi-admin-1", "10.0.0.5")
    assert session.officer.unit_code == "DISKOMINFO" and officers.session(token).officer.name == "admin.kominfo"
    clock.advance(31 * 60)
    assert officers.session(token) is None  # idle for more than 30 minutes
    for _ in range(5):
        with pytest.raises(LoginRefused):
            officers.login("admin.kominfo", "salah-salah-salah", "10.0.0.9")
    with pytest.raises(LoginRefused, match="locked"):
        officers.login("admin.kominfo", "kata-sandi-admin-1", "10.0.0.9")
    with pytest.raises(AuthError):
        officers.create("x1", "short", "bkpsdm")
