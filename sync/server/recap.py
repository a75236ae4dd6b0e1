"""The monthly recap per office and employee, in the columns of jember-perbup-55-2021.txt,
Lampiran II (Rekapitulasi Kehadiran Pegawai): Nama/NIP, Jabatan, Rekap Terlambat Datang (Jumlah
Menit), Rekap Pulang Sebelum Waktu (Jumlah Menit), Tidak Hadir Tanpa Alasan Sah (Jumlah Hari),
Cuti/Sakit/Dinas Luar/Diklat (Jumlah Hari), Ijin (Jumlah Hari); then, beside them, what the
other regencies count separately: days present, each keterangan code (Purbalingga Pasal 9 ayat
(2): S, DL, C, TB), days without the masuk or the pulang punch, and overtime minutes.

Made from the stored attendance days (:mod:`sync.server.daybook`) after bringing them up to date
(:meth:`~sync.server.daybook.DayBook.refresh` and :meth:`~sync.server.daybook.DayBook.close_month`),
by one grouped query per office. Assumed where Lampiran II is silent: TB is counted with
Cuti/Sakit/Dinas Luar/Diklat (all are valid absences under Pasal 11 ayat (2)); a cancelled day
(Pasal 13) is counted as a day without valid reason.

The report leaves the deadline to people: Malang's is the 10th of the next month
(malang-juknis-presensi-elektronik.txt, Proses Pelaporan angka 4), signed by the head of the
office (angka 3); the PDF carries the signature blocks.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from core.clock import Clock, local_time, zone_abbreviation
from core.i18n import CODES
from sync.server.daybook import DEFAULT_ZONE, DayBook, month_range
from sync.server.storage import Storage

log = logging.getLogger(__name__)

#: The months as the regulations' forms (recap, manual forms) print them: the catalogue's, in Bahasa Indonesia.
MONTHS = tuple(CODES["month"][str(n)][0] for n in range(1, 13))

#: (key, Indonesian header, English header); the first eight are Lampiran II's.
COLUMNS: tuple[tuple[str, str, str], ...] = tuple(
    (key, *CODES["recap_column"][key])
    for key in (
        "no", "name_nip", "position", "late_min", "early_min", "tk", "csdl", "ijin", "hadir",
        "S", "C", "DL", "TB", "DIKLAT", "batal", "no_masuk", "no_pulang", "overtime_min",
    )
)  # fmt: skip
LAMPIRAN_II = 8  # the first columns, as in the regulation's table
CSDL = ("C", "S", "DL", "DIKLAT", "TB")


@dataclass(frozen=True)
class RecapRow:
    employee_id: str
    name: str
    position: str
    counts: dict[str, int]

    def cells(self, number: int) -> list[Any]:
        values: dict[str, Any] = {"no": number, "name_nip": f"{self.name} / {self.employee_id}", "position": self.position}
        return [values.get(key, self.counts.get(key, 0)) for key, _, _ in COLUMNS]


@dataclass(frozen=True)
class OfficeRecap:
    office: str
    office_name: str
    zone: str
    month: str
    generated_at: datetime
    rows: list[RecapRow] = field(default_factory=list)

    @property
    def title(self) -> str:
        first, _ = month_range(self.month)
        return f"Rekapitulasi Kehadiran Pegawai Bulan {MONTHS[first.month - 1]} {first.year}"

    @property
    def generated_local(self) -> str:
        return f"{local_time(self.generated_at, self.zone):%d-%m-%Y %H:%M} {zone_abbreviation(self.zone)}"


_COUNTS = (
    "SELECT employee_id, sum(late_min) AS late_min, sum(early_min) AS early_min, sum(overtime_min) AS overtime_min, "
    "sum(CASE WHEN status = 'hadir' THEN 1 ELSE 0 END) AS hadir, "
    "sum(CASE WHEN status = 'tk' THEN 1 ELSE 0 END) AS tk_only, "
    "sum(CASE WHEN status = 'batal' THEN 1 ELSE 0 END) AS batal, "
    + ", ".join(
        f"sum(CASE WHEN status = '{code}' THEN 1 ELSE 0 END) AS k_{code}" for code in ("S", "C", "DL", "TB", "I", "DIKLAT")
    )
    + ", sum(CASE WHEN status = 'hadir' AND body LIKE ? THEN 1 ELSE 0 END) AS no_masuk"
    ", sum(CASE WHEN status = 'hadir' AND body LIKE ? THEN 1 ELSE 0 END) AS no_pulang "
    "FROM attendance_days WHERE unit_code = ? AND day >= ? AND day <= ? GROUP BY employee_id"
)


class Recaps:
    def __init__(self, storage: Storage, clock: Clock, days: DayBook) -> None:
        self.storage = storage
        self.clock = clock
        self.days = days

    def __repr__(self) -> str:
        return f"Recaps({self.storage!r})"

    def offices(self, scope: str | None = None) -> list[dict[str, Any]]:
        """Offices (code, name, zone), or only ``scope``. Read-only."""
        with self.storage.tx(write=False) as tx:
            rows = tx.all("SELECT code, name, zone FROM units WHERE deleted = 0 ORDER BY code")
        return [r for r in rows if scope is None or r["code"] == scope]

    def bring_up_to_date(self, month: str, office: str | None = None) -> None:
        """Recompute what new punches touched and close the month's past days."""
        self.days.refresh()
        self.days.close_month(month, office)

    def office(self, month: str, office: str, *, update: bool = True) -> OfficeRecap:
        """The recap of one office for ``YYYY-MM``, one row per active employee."""
        first, last = month_range(month)
        if update:
            self.bring_up_to_date(month, office)
        found = self.offices(office)
        if not found:
            raise ValueError(f"unknown office {office!r}")
        with self.storage.tx(write=False) as tx:
            people = tx.all(
                "SELECT id, name, position FROM employees WHERE unit_code = ? AND deleted = 0 AND active = 1 ORDER BY name, id",
                (office,),
            )
            counts = {
                r["employee_id"]: r
                for r in tx.all(_COUNTS, ('%"masuk": null%', "%tanpa_pulang%", office, first.isoformat(), last.isoformat()))
            }
        rows = []
        for person in people:
            c = counts.get(person["id"]) or {}

            def n(key: str, c: dict[str, Any] = c) -> int:
                return int(c.get(key) or 0)

            values = {
                "late_min": n("late_min"),
                "early_min": n("early_min"),
                "tk": n("tk_only") + n("batal"),
                "csdl": sum(n(f"k_{code}") for code in CSDL),
                "ijin": n("k_I"),
                "hadir": n("hadir"),
                **{code: n(f"k_{code}") for code in ("S", "C", "DL", "TB", "DIKLAT")},
                "batal": n("batal"),
                "no_masuk": n("no_masuk"),
                "no_pulang": n("no_pulang"),
                "overtime_min": n("overtime_min"),
            }
            rows.append(RecapRow(person["id"], person["name"], person["position"], values))
        zone = found[0]["zone"] or DEFAULT_ZONE
        return OfficeRecap(office, found[0]["name"], zone, month, self.clock.now(), rows)

    def people_on(self, office: str, day: date) -> list[dict[str, Any]]:
        """The office's active employees with their stored day on ``day`` (``None``: no record
        yet). Read-only."""
        with self.storage.tx(write=False) as tx:
            rows = tx.all(
                "SELECT e.id, e.name, e.position, d.status, d.late_min, d.early_min, d.body FROM employees e "
                "LEFT JOIN attendance_days d ON d.employee_id = e.id AND d.day = ? "
                "WHERE e.unit_code = ? AND e.deleted = 0 AND e.active = 1 ORDER BY e.name, e.id",
                (day.isoformat(), office),
            )
        return [{**r, "body": json.loads(r["body"]) if r["body"] else None} for r in rows]

    def all_offices(self, month: str, scope: str | None = None) -> list[OfficeRecap]:
        """Every office's recap (or only ``scope``'s), brought up to date once."""
        self.bring_up_to_date(month, scope)
        return [self.office(month, o["code"], update=False) for o in self.offices(scope)]
