"""Keterangan (reasons for absence) and pembatalan kehadiran, entered and decided in the back office.

The codes are the regulations' lists (:data:`CODES`, each cited). A keterangan covers a date
range, carries one document (PDF or JPEG, at most :data:`MAX_DOCUMENT_BYTES`, recognised by its
first bytes, never by its name), is entered by Admin PD or BKPSDM and takes effect only when a
BKPSDM officer other than the one who entered it approves it (jember-perbup-55-2021.txt, Pasal 11
ayat (3)–(5): the document is verified by the official for personnel matters, then entered).
It may be entered until the end of the month it begins in (malang-juknis-presensi-elektronik.txt,
Proses Input Keterangan angka 4: "maksimal diinputkan sebelum awal bulan berikutnya";
jember-perbup-55-2021.txt, Pasal 11 ayat (5): "paling lambat pada akhir bulan berjalan").

Pembatalan kehadiran (jember-perbup-55-2021.txt, Pasal 13): a day on which the employee is
present by the punches but was not at work without leave is cancelled, proven by the direct
superior's letter and at least two witnesses (ayat (2)), the letter of Lampiran III attached.
It is an audited action that takes effect at once (the letter is already signed by the superior
and the head of the office); the day becomes ``batal`` and counts as a day without valid reason.
Every entry, decision and cancellation is written to the audit log and versions the days.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from core.clock import Clock, local_time
from core.errors import AttendanceError
from core.store.punches import format_instant
from sync.server.daybook import DEFAULT_ZONE, DayBook
from sync.server.officers import BKPSDM, Officer, audit
from sync.server.storage import Storage, Tx

log = logging.getLogger(__name__)

#: Code → (name, where the regulations list it).
CODES: dict[str, tuple[str, str]] = {
    "S": ("Sakit", "purbalingga-perbup-35-2020.txt, Pasal 9 ayat (2) huruf a (surat keterangan dokter); jember-perbup-55-2021.txt, Pasal 11 ayat (2)"),
    "C": ("Cuti", "purbalingga-perbup-35-2020.txt, Pasal 9 ayat (2) huruf c (surat izin cuti); jember-perbup-55-2021.txt, Pasal 11 ayat (2)"),
    "DL": ("Dinas Luar", "purbalingga-perbup-35-2020.txt, Pasal 9 ayat (2) huruf b (surat perintah tugas); malang-juknis-presensi-elektronik.txt, Lokasi Presensi angka 3"),
    "TB": ("Tugas Belajar", "purbalingga-perbup-35-2020.txt, Pasal 9 ayat (2) huruf d (surat tugas belajar); jember-perbup-55-2021.txt, Pasal 11 ayat (2)"),
    "I": ("Izin", "jember-perbup-55-2021.txt, Pasal 11 ayat (2) (\"sakit atau izin\") dan Lampiran II (kolom Ijin); malang-juknis-presensi-elektronik.txt, Ketentuan lain angka 2"),
    "DIKLAT": ("Pendidikan dan Pelatihan", "jember-perbup-55-2021.txt, Pasal 11 ayat (2) dan Lampiran II (kolom Cuti/Sakit/Dinas Luar/Diklat); purbalingga-perbup-35-2020.txt, Pasal 9 ayat (1)"),
}  # fmt: skip
#: Assumed (no regulation gives a size): enough for a scanned letter of a few pages.
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
MAX_RANGE_DAYS = 366
DIAJUKAN, DISETUJUI, DITOLAK = "diajukan", "disetujui", "ditolak"
MIN_WITNESSES = 2  # jember-perbup-55-2021.txt, Pasal 13 ayat (2)


def document_type(data: bytes) -> str:
    """``application/pdf`` or ``image/jpeg`` from the first bytes, or :class:`AttendanceError`."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise AttendanceError(
            f"the document is {len(data)} bytes; at most {MAX_DOCUMENT_BYTES}",
            screen_text=f"Dokumen terlalu besar: paling banyak {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB",
        )
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    raise AttendanceError(
        "the document must be a PDF or a JPEG (checked by its content, not its name)",
        screen_text="Dokumen harus berupa PDF atau JPEG",
    )


@dataclass(frozen=True)
class Document:
    name: str
    data: bytes

    def checked(self) -> tuple[str, str, str, bytes]:
        """(safe name, type, SHA-256, bytes)."""
        kind = document_type(self.data)
        safe = "".join(c for c in self.name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1] if c.isalnum() or c in "._- ")[:100]
        return safe or "dokumen", kind, hashlib.sha256(self.data).hexdigest(), self.data


def _refuse(english: str, indonesian: str) -> AttendanceError:
    return AttendanceError(english, screen_text=indonesian)


class KeteranganBook:
    def __init__(self, storage: Storage, clock: Clock, days: DayBook) -> None:
        self.storage = storage
        self.clock = clock
        self.days = days

    def __repr__(self) -> str:
        return f"KeteranganBook({self.storage!r})"

    def _employee(self, tx: Tx, officer: Officer, employee_id: str) -> dict[str, Any]:
        row = tx.one(
            "SELECT e.id, e.unit_code, u.zone FROM employees e LEFT JOIN units u ON u.code = e.unit_code "
            "WHERE e.id = ? AND e.deleted = 0",
            (employee_id,),
        )
        if row is None or not officer.sees(row["unit_code"]):
            raise _refuse(f"unknown employee {employee_id!r} (or not in your office)", "Pegawai tidak dikenal di kantor Anda")
        return row

    def submit(
        self, officer: Officer, employee_id: str, code: str, *, first: date, last: date, document: Document, note: str = ""
    ) -> int:
        """Enter a keterangan (state ``diajukan``); returns its number."""
        if code not in CODES:
            raise _refuse(f"code {code!r}: use one of {', '.join(CODES)}", "Kode keterangan tidak dikenal")
        if last < first or (last - first).days >= MAX_RANGE_DAYS:
            raise _refuse("the range must run forwards and span at most a year", "Rentang tanggal tidak sah")
        name, kind, sha, data = document.checked()
        now = self.clock.now()
        with self.storage.tx() as tx:
            person = self._employee(tx, officer, employee_id)
            this_month = local_time(now, person["zone"] or DEFAULT_ZONE).date().replace(day=1)
            if first < this_month:
                raise _refuse(
                    "the month of these days has closed: a keterangan is entered by the end of the month it begins in",
                    "Bulan tersebut sudah ditutup: keterangan diinput paling lambat akhir bulan berjalan",
                )
            row = tx.one(
                "INSERT INTO keterangan (employee_id, code, first_day, last_day, note, doc_name, doc_type, doc_sha256, "
                "document, state, entered_by, entered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (employee_id, code, first.isoformat(), last.isoformat(), note[:500], name, kind, sha, data, DIAJUKAN,
                 officer.name, format_instant(now)),
            )  # fmt: skip
            assert row is not None
            number = int(row["id"])
            audit(
                tx,
                format_instant(now),
                officer.name,
                "keterangan diajukan",
                subject=employee_id,
                detail=f"#{number} {code} {first}–{last} sha256 {sha[:16]}",
            )
        log.info("keterangan %s entered", number)
        return number

    def decide(self, officer: Officer, number: int, approve: bool, note: str = "") -> None:
        """Approve or refuse keterangan ``number`` (BKPSDM, not the one who entered it); approval
        recomputes (and versions) the days it covers."""
        if officer.role != BKPSDM:
            raise _refuse("only BKPSDM approves a keterangan", "Hanya BKPSDM yang dapat menyetujui keterangan")
        now = format_instant(self.clock.now())
        with self.storage.tx() as tx:
            row = tx.one(
                "SELECT id, employee_id, code, first_day, last_day, state, entered_by FROM keterangan WHERE id = ?", (number,)
            )
            if row is None:
                raise _refuse(f"no keterangan #{number}", "Keterangan tidak ditemukan")
            if row["state"] != DIAJUKAN:
                raise _refuse(f"keterangan #{number} is already {row['state']}", f"Keterangan sudah {row['state']}")
            if row["entered_by"] == officer.name:
                raise _refuse(
                    "a second officer approves: not the one who entered it", "Persetujuan oleh petugas lain, bukan yang menginput"
                )
            state = DISETUJUI if approve else DITOLAK
            tx.execute(
                "UPDATE keterangan SET state = ?, decided_by = ?, decided_at = ?, decision_note = ? WHERE id = ?",
                (state, officer.name, now, note[:500], number),
            )
            audit(tx, now, officer.name, f"keterangan {state}", subject=row["employee_id"], detail=f"#{number} {row['code']}")
        if approve:
            first, last = date.fromisoformat(row["first_day"]), date.fromisoformat(row["last_day"])
            pairs = [(row["employee_id"], first + timedelta(days=n)) for n in range((last - first).days + 1)]
            self.days.recompute(pairs, f"keterangan #{number} ({row['code']}) disetujui", officer.name)

    def cancel_attendance(
        self, officer: Officer, employee_id: str, day: date, *, reason: str, witnesses: list[str], letter: Document
    ) -> int:
        """Pembatalan kehadiran of a day the employee is present on (Pasal 13); returns its number."""
        named = [w.strip() for w in witnesses if w.strip()]
        if len(named) < MIN_WITNESSES:
            raise _refuse(
                "a cancellation needs at least two witnesses (Jember Pasal 13 ayat (2))", "Pembatalan memerlukan minimal 2 saksi"
            )
        if not reason.strip():
            raise _refuse("say why the attendance is cancelled", "Alasan pembatalan wajib diisi")
        name, kind, sha, data = letter.checked()
        now = format_instant(self.clock.now())
        self.days.refresh()
        with self.storage.tx() as tx:
            self._employee(tx, officer, employee_id)
            stored = tx.one(
                "SELECT status FROM attendance_days WHERE employee_id = ? AND day = ?", (employee_id, day.isoformat())
            )
            if stored is None or stored["status"] != "hadir":
                raise _refuse(
                    "only a day the employee is present on can be cancelled", "Hanya hari berstatus hadir yang dapat dibatalkan"
                )
            row = tx.one(
                "INSERT INTO pembatalan (employee_id, day, reason, witnesses, doc_name, doc_type, doc_sha256, document, "
                "entered_by, entered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (employee_id, day.isoformat(), reason[:500], "; ".join(named)[:500], name, kind, sha, data, officer.name, now),
            )
            assert row is not None
            number = int(row["id"])
            audit(tx, now, officer.name, "pembatalan kehadiran", subject=employee_id, detail=f"#{number} {day} sha256 {sha[:16]}")
        self.days.recompute([(employee_id, day)], f"pembatalan kehadiran #{number} (Jember Pasal 13)", officer.name)
        return number

    # -- reading --------------------------------------------------------------------------------

    def listing(self, officer: Officer, state: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Keterangan the officer may see, newest first, without their documents. Read-only."""
        sql = (
            "SELECT k.id, k.employee_id, e.name, e.unit_code, k.code, k.first_day, k.last_day, k.note, k.doc_name, k.doc_type, "
            "k.state, k.entered_by, k.entered_at, k.decided_by, k.decided_at FROM keterangan k "
            "JOIN employees e ON e.id = k.employee_id WHERE 1 = 1"
        )
        params: list[Any] = []
        if officer.scope is not None:
            sql += " AND e.unit_code = ?"
            params.append(officer.scope)
        if state:
            sql += " AND k.state = ?"
            params.append(state)
        with self.storage.tx(write=False) as tx:
            return tx.all(sql + " ORDER BY k.id DESC LIMIT ?", [*params, limit])

    def document(self, officer: Officer, number: int) -> tuple[str, str, bytes]:
        """(name, type, bytes) of a keterangan's document the officer may see. Read-only."""
        with self.storage.tx(write=False) as tx:
            row = tx.one(
                "SELECT k.doc_name, k.doc_type, k.document, e.unit_code FROM keterangan k JOIN employees e ON e.id = k.employee_id "
                "WHERE k.id = ?",
                (number,),
            )
        if row is None or not officer.sees(row["unit_code"]):
            raise _refuse(f"no keterangan #{number}", "Keterangan tidak ditemukan")
        return row["doc_name"], row["doc_type"], bytes(row["document"])
