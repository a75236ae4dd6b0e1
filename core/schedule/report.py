"""The attendance list at the end of an event: each participant hadir or tidak hadir, per unit,
as CSV (for the operator's spreadsheet and the central server) and PDF (to print and sign).

:func:`build_report` is pure (pack + punches in, report out), so the reference server can make
the same report from the punches of every unit after :func:`~core.schedule.events.attendance_once`.

The PDF is made with fpdf2 (pure Python, maintained, no system libraries): a unit in a field
has no office suite to turn CSV into something to sign. It embeds DejaVu Sans when the system
has it (Debian's fonts-dejavu-core) so names with any letters print; otherwise it falls back to
the PDF core font and writes non-Latin-1 letters as '?'.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from core import i18n
from core.clock import local_time, zone_abbreviation
from core.schedule.classify import TERLAMBAT, duration_text
from core.schedule.events import EventPack, attendance_once
from core.store.punches import parse_instant

log = logging.getLogger(__name__)

HADIR_TEXT = i18n.text("s.present", "id")  # the attendance list is the regency's form, in Bahasa Indonesia
TIDAK_HADIR_TEXT = i18n.text("s.absent", "id")
CSV_COLUMNS = ("acara", "unit", "kantor", "nip", "nama", "kehadiran", "waktu", "keterangan", "metode", "perangkat")
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
)


@dataclass(frozen=True)
class AttendanceRow:
    unit: str
    office: str
    employee_id: str
    name: str
    present: bool
    time: str = ""  # local HH:MM:SS
    note: str = ""  # "Terlambat 5 menit"
    method: str = ""
    device_id: str = ""

    @property
    def status_text(self) -> str:
        return HADIR_TEXT if self.present else TIDAK_HADIR_TEXT


@dataclass(frozen=True)
class UnitSummary:
    unit: str
    label: str
    expected: int
    present: int

    @property
    def absent(self) -> int:
        return self.expected - self.present


@dataclass
class AttendanceReport:
    pack: EventPack
    unit: str | None
    generated_at: str
    rows: list[AttendanceRow] = field(default_factory=list)
    summaries: list[UnitSummary] = field(default_factory=list)

    @property
    def expected(self) -> int:
        return len(self.rows)

    @property
    def present(self) -> int:
        return sum(1 for r in self.rows if r.present)

    @property
    def absent(self) -> int:
        return self.expected - self.present

    def title(self) -> str:
        start = local_time(self.pack.start, self.pack.zone)
        return f"{self.pack.kind_label} – {self.pack.title}, {start:%d-%m-%Y} ({self.pack.location.name})"

    # -- CSV ----------------------------------------------------------------------------------

    def csv_text(self) -> str:
        """The report as CSV; cells a spreadsheet would run as a formula are quoted (issue 22, 11)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for r in self.rows:
            cells = (self.pack.id, r.unit, r.office, r.employee_id, r.name, r.status_text, r.time, r.note, r.method, r.device_id)
            writer.writerow([csv_cell(c) for c in cells])
        return out.getvalue()

    def write_csv(self, path: Path) -> None:
        # UTF-8 with a byte order mark so spreadsheet programs on Windows read names right.
        path.write_text(self.csv_text(), encoding="utf-8-sig", newline="")

    # -- PDF ----------------------------------------------------------------------------------

    def pdf_bytes(self) -> bytes:
        # late: fpdf loads only when this runs
        from fpdf import FPDF

        pdf = FPDF(orientation="P", unit="mm", format="A4")
        pdf.set_creation_date(self.pack.start)  # the same report makes the same file
        pdf.set_auto_page_break(auto=True, margin=15)
        family, clean = _font(pdf)
        pdf.add_page()
        pdf.set_font(family, size=13)
        pdf.multi_cell(0, 7, clean("Daftar Hadir " + self.title()), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, size=9)
        origin = "paket lokal (tidak ditandatangani server)" if self.pack.origin == "local" else "paket server"
        pdf.multi_cell(
            0,
            5,
            clean(
                f"Acara {self.pack.id} · {origin} · dibuat {self.generated_at}"
                + (f" · unit {self.unit}" if self.unit else " · semua unit")
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.ln(2)
        pdf.set_font(family, size=10)
        for s in self.summaries:
            pdf.cell(
                0,
                6,
                clean(f"{s.label}: hadir {s.present}, tidak hadir {s.absent}, dari {s.expected}"),
                new_x="LMARGIN",
                new_y="NEXT",
            )
        pdf.cell(
            0,
            6,
            clean(f"Jumlah: hadir {self.present}, tidak hadir {self.absent}, dari {self.expected}"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.ln(3)
        zone = zone_abbreviation(self.pack.zone)
        widths = (9, 11, 22, 36, 46, 20, 18, 28)
        headers = ("No", "Unit", "Kantor", "NIP", "Nama", "Kehadiran", f"Waktu {zone}", "Keterangan")
        pdf.set_font(family, size=8)

        def header() -> None:
            pdf.set_fill_color(225, 225, 225)
            for w, h in zip(widths, headers, strict=True):
                pdf.cell(w, 6, h, border=1, fill=True)
            pdf.ln()

        header()
        for n, r in enumerate(self.rows, 1):
            if pdf.will_page_break(6):
                pdf.add_page()
                header()
            cells = (str(n), r.unit, r.office, r.employee_id, r.name, r.status_text, r.time.split(" ")[0], r.note)
            for w, text in zip(widths, cells, strict=True):
                pdf.cell(w, 6, clean(_fit(pdf, text, w)), border=1)
            pdf.ln()
        pdf.ln(8)
        pdf.set_font(family, size=9)
        pdf.cell(95, 5, clean("Petugas unit,"))
        pdf.cell(95, 5, clean("Mengetahui,"), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(16)
        pdf.cell(95, 5, "(........................................)")
        pdf.cell(95, 5, "(........................................)", new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())

    def write_pdf(self, path: Path) -> None:
        path.write_bytes(self.pdf_bytes())


def _font(pdf: Any) -> tuple[str, Any]:
    for candidate in FONT_CANDIDATES:
        if candidate.is_file():
            pdf.add_font("DejaVu", "", str(candidate))
            return "DejaVu", lambda text: text
    log.info("DejaVu Sans not found; the PDF uses a core font (Latin-1 only)")
    return "Helvetica", lambda text: text.replace("–", "-").replace("·", "-").encode("latin-1", "replace").decode("latin-1")


def _fit(pdf: Any, text: str, width: float) -> str:
    """``text`` shortened with an ellipsis to fit ``width`` mm less padding."""
    limit = width - 2
    if pdf.get_string_width(text) <= limit:
        return text
    while text and pdf.get_string_width(text + "…") > limit:
        text = text[:-1]
    return text + "…"


def build_report(
    pack: EventPack, punches: Iterable[Mapping[str, Any]], *, unit: str | None = None, generated_at: str = ""
) -> AttendanceReport:
    """Attendance of ``unit``'s participants (everyone's when None) from the event's punches
    (each with ``id``, ``employee_id``, ``instant``, ``event_id``, and optionally ``method``,
    ``status``, ``minutes``, ``device_id``). A participant counts once however many times and at
    however many units they punched; punches of non-participants are ignored."""
    first = attendance_once(p for p in punches if p.get("event_id") == pack.id)
    zone = pack.zone
    report = AttendanceReport(pack=pack, unit=unit, generated_at=generated_at)
    order = {u.code: i for i, u in enumerate(pack.units)}
    roster = sorted(pack.participants_of(unit), key=lambda p: (order.get(p.unit, len(order)), p.office, p.name, p.id))
    counts: dict[str, list[int]] = {}
    for p in roster:
        punch = first.get((pack.id, p.id))
        tally = counts.setdefault(p.unit, [0, 0])
        tally[0] += 1
        if punch is None:
            report.rows.append(AttendanceRow(p.unit, p.office, p.id, p.name, False))
            continue
        tally[1] += 1
        instant = parse_instant(str(punch["instant"]))
        at = local_time(instant, zone)
        status, minutes = punch.get("status"), int(punch.get("minutes") or 0)
        if punch.get("corrected"):
            # the clock was wrong when it was punched: lateness judged again at the true time
            status, minutes = _lateness(pack, instant)
        note = f"Terlambat {duration_text(minutes)}" if status == TERLAMBAT else ""
        if punch.get("corrected"):
            recorded = local_time(parse_instant(str(punch["recorded_instant"])), zone)
            note = "; ".join(x for x in (note, f"jam dikoreksi (jam unit {recorded:%H:%M:%S})") if x)
        report.rows.append(
            AttendanceRow(
                p.unit,
                p.office,
                p.id,
                p.name,
                True,
                time=f"{at:%H:%M:%S} {zone_abbreviation(zone)}",
                note=note,
                method=str(punch.get("method") or ""),
                device_id=str(punch.get("device_id") or ""),
            )
        )
    for code, (expected, present) in sorted(counts.items(), key=lambda kv: order.get(kv[0], len(order))):
        found = pack.unit(code)
        label = found.display if found else (f"Unit {code}" if code else "Semua peserta")
        report.summaries.append(UnitSummary(code, label, expected, present))
    return report


def _lateness(pack: EventPack, instant: datetime) -> tuple[str, int]:
    """(status, minutes) of a punch at ``instant``: terlambat past the pack's on-time limit."""
    limit = pack.on_time_limit
    if limit is None:
        return "hadir", 0
    late_s = (instant.replace(second=0, microsecond=0) - limit.replace(second=0, microsecond=0)).total_seconds()
    return (TERLAMBAT, int(late_s // 60)) if late_s >= 60 else ("hadir", 0)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A cell made safe for Excel/LibreOffice: text starting with = + - @ gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
