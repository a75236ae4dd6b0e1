"""The monthly recap as CSV (UTF-8 with BOM, formula-safe), XLSX (openpyxl: one sheet per office)
and PDF (fpdf2, A4 landscape, one page set per office, with the signature blocks of
jember-perbup-55-2021.txt, Lampiran II: place and date, "Pimpinan OPD"; Malang's report is signed
by the head of the office before it is sent: malang-juknis-presensi-elektronik.txt, Proses
Pelaporan angka 3)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime

from core.clock import local_time
from core.schedule.report import _fit, _font, csv_cell
from sync.server.recap import COLUMNS, LAMPIRAN_II, MONTHS, OfficeRecap

FORMATS = ("csv", "xlsx", "pdf")


def recap_csv(recaps: Sequence[OfficeRecap]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Kantor", "Bulan", *(header for _, header, _ in COLUMNS)])
    for recap in recaps:
        for number, row in enumerate(recap.rows, 1):
            writer.writerow([csv_cell(c) for c in (recap.office, recap.month, *row.cells(number))])
    return "\ufeff" + out.getvalue()


def recap_xlsx(recaps: Sequence[OfficeRecap]) -> bytes:
    # late: openpyxl loads only when this runs
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    book.remove(book.active)
    for recap in recaps or []:
        sheet = book.create_sheet(recap.office[:31] or "kantor")
        sheet.append([recap.office_name])
        sheet.append([recap.title])
        sheet.append([])
        sheet.append([header for _, header, _ in COLUMNS])
        for cell in sheet[4]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for number, row in enumerate(recap.rows, 1):
            sheet.append([csv_cell(c) for c in row.cells(number)])
        sheet.column_dimensions["B"].width = 40
        sheet.column_dimensions["C"].width = 20
    if not book.sheetnames:
        book.create_sheet("kosong")
    out = io.BytesIO()
    book.properties.created = datetime(2000, 1, 1)  # the same recap makes the same file
    book.save(out)
    return out.getvalue()


def _local_date(recap: OfficeRecap) -> str:
    d = local_time(recap.generated_at, recap.zone)
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def recap_pdf(recaps: Sequence[OfficeRecap], place: str = "") -> bytes:
    # late: fpdf loads only when this runs
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    if recaps:
        pdf.set_creation_date(recaps[0].generated_at)
    family, clean = _font(pdf)
    widths = (9, 62, 34, 22, 22, 22, 24, 15, 15, 9, 9, 9, 9, 11)
    shown = (*COLUMNS[:LAMPIRAN_II], *COLUMNS[8:14])  # Lampiran II, then hadir and the codes
    headers = [h for _, h, _ in shown]
    for recap in recaps:
        pdf.add_page()
        pdf.set_font(family, size=12)
        pdf.cell(0, 7, clean(recap.office_name.upper()), align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.cell(0, 7, clean(recap.title.upper()), align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, size=8)
        pdf.cell(
            0, 5, clean(f"Dibuat {recap.generated_local} dari presensi elektronik"), align="C", new_x="LMARGIN", new_y="NEXT"
        )
        pdf.ln(2)

        def header() -> None:
            pdf.set_fill_color(225, 225, 225)
            pdf.set_font(family, size=7)
            y = pdf.get_y()
            x = pdf.l_margin
            for w, h in zip(widths, headers, strict=True):
                pdf.rect(x, y, w, 18, style="DF")
                pdf.set_xy(x, y + 0.5)
                pdf.multi_cell(w, 3.2, clean(h), border=0, align="C")
                x += w
            pdf.set_xy(pdf.l_margin, y + 18)
            pdf.set_font(family, size=8)

        header()
        for number, row in enumerate(recap.rows, 1):
            if pdf.will_page_break(6):
                pdf.add_page()
                header()
            values = dict(zip((k for k, _, _ in COLUMNS), row.cells(number), strict=True))
            for (key, _, _), w in zip(shown, widths, strict=True):
                text = str(values[key])
                pdf.cell(w, 6, clean(_fit(pdf, text, w)), border=1, align="L" if key in ("name_nip", "position") else "C")
            pdf.ln()
        if pdf.will_page_break(45):
            pdf.add_page()
        pdf.ln(8)
        pdf.set_font(family, size=9)
        left, right = 20.0, 190.0
        where = f"{place}, " if place else ""
        for x, lines in (
            (left, ("Dibuat oleh,", "Admin Perangkat Daerah")),
            (right, (f"{where}{_local_date(recap)}", "Pimpinan OPD / Kepala Perangkat Daerah")),
        ):
            y = pdf.get_y()
            for n, text in enumerate(lines):
                pdf.set_xy(x, y + 5 * n)
                pdf.cell(80, 5, clean(text))
            pdf.set_xy(x, y + 30)
            pdf.cell(80, 5, "(........................................)")
            pdf.set_xy(x, y + 35)
            pdf.cell(80, 5, "NIP. ..................................")
            pdf.set_y(y)
    return bytes(pdf.output())


def render(recaps: Sequence[OfficeRecap], fmt: str, place: str = "") -> tuple[bytes, str]:
    """(file bytes, media type) of the recaps in ``fmt``."""
    if fmt == "csv":
        return recap_csv(recaps).encode("utf-8"), "text/csv; charset=utf-8"
    if fmt == "xlsx":
        return recap_xlsx(recaps), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    if fmt == "pdf":
        return recap_pdf(recaps, place), "application/pdf"
    raise ValueError(f"format {fmt!r}: use one of {', '.join(FORMATS)}")
