"""Blank forms for manual attendance when the system fails, printed per office with its people.

* The daily form of jember-perbup-55-2021.txt, Lampiran I ("Presensi Harian Pegawai Manual",
  Pasal 11 ayat (7)–(8)): No., Nama/NIP, Jabatan, Kedatangan (Jam, Tanda Tangan), Kepulangan (Jam,
  Tanda Tangan), TK/C/S/DL/I, Keterangan; signed by the Pimpinan OPD.
* The monthly list of purbalingga-perbup-35-2020.txt ("Format Daftar Hadir Manual", Bulan Tahun,
  "kolom tanggal diisi dengan jam presensi masuk dan jam presensi pulang", signed by the
  Penanggung Jawab). The text of its table is illegible in the published copy; the grid here (one
  column per date, a masuk and a pulang line in each) follows its caption and is assumed.

The hour columns are in the office's zone (WIB, WITA, WIT), not always WIB as Jember's form says.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date
from typing import Any

from core.clock import zone_abbreviation
from core.schedule.report import _fit, _font
from core.schedule.workcodes import WEEKDAY_LABELS
from sync.server.recap import MONTHS


def _heading(pdf: Any, family: str, clean: Any, office_name: str, lines: Sequence[str]) -> None:
    pdf.set_font(family, size=12)
    pdf.cell(0, 7, clean(office_name.upper()), align="C", new_x="LMARGIN", new_y="NEXT")
    for line in lines:
        pdf.cell(0, 7, clean(line), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _signature(pdf: Any, clean: Any, x: float, place_date: str, title: str) -> None:
    pdf.ln(6)
    y = pdf.get_y()
    for n, text in enumerate((place_date, title)):
        pdf.set_xy(x, y + 5 * n)
        pdf.cell(80, 5, clean(text))
    pdf.set_xy(x, y + 30)
    pdf.cell(80, 5, "(........................................)")
    pdf.set_xy(x, y + 35)
    pdf.cell(80, 5, "NIP. ..................................")


def daily_form_pdf(office_name: str, zone: str, day: date, people: Sequence[dict[str, Any]], place: str = "") -> bytes:
    """Jember Lampiran I for ``day``: one row per employee (``id``, ``name``, ``position``)."""
    # late: fpdf loads only when this runs
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    family, clean = _font(pdf)
    abbr = zone_abbreviation(zone)
    when = f"{WEEKDAY_LABELS[day.weekday()]}, {day.day} {MONTHS[day.month - 1]} {day.year}"
    widths = (10, 75, 45, 20, 30, 20, 30, 22, 25)
    pdf.add_page()
    _heading(pdf, family, clean, office_name, ("PRESENSI HARIAN PEGAWAI MANUAL", when))

    def header() -> None:
        pdf.set_font(family, size=8)
        pdf.set_fill_color(225, 225, 225)
        x, y = pdf.l_margin, pdf.get_y()
        for w, text in zip(widths[:3], ("No.", "Nama/NIP", "Jabatan"), strict=True):
            pdf.rect(x, y, w, 12, style="DF")
            pdf.set_xy(x, y + 3.5)
            pdf.cell(w, 5, text, align="C")
            x += w
        for label, (w1, w2) in (("Kedatangan", widths[3:5]), ("Kepulangan", widths[5:7])):
            pdf.rect(x, y, w1 + w2, 6, style="DF")
            pdf.set_xy(x, y + 0.5)
            pdf.cell(w1 + w2, 5, label, align="C")
            for w, text in ((w1, f"Jam ({abbr})"), (w2, "Tanda Tangan")):
                pdf.rect(x, y + 6, w, 6, style="DF")
                pdf.set_xy(x, y + 6.5)
                pdf.cell(w, 5, clean(text), align="C")
                x += w
        for w, text in zip(widths[7:], ("TK/C/S/DL/I", "Keterangan"), strict=True):
            pdf.rect(x, y, w, 12, style="DF")
            pdf.set_xy(x, y + 3.5)
            pdf.cell(w, 5, text, align="C")
            x += w
        pdf.set_xy(pdf.l_margin, y + 12)

    header()
    for number, person in enumerate(people, 1):
        if pdf.will_page_break(9):
            pdf.add_page()
            header()
        cells = (str(number), f"{person['name']} / {person['id']}", person.get("position") or "", "", "", "", "", "", "")
        for w, text in zip(widths, cells, strict=True):
            pdf.cell(w, 9, clean(_fit(pdf, text, w)), border=1)
        pdf.ln()
    if pdf.will_page_break(45):
        pdf.add_page()
    pdf.set_font(family, size=9)
    _signature(pdf, clean, 190.0, f"{place + ', ' if place else ''}{'.' * 30}", "Pimpinan OPD")
    return bytes(pdf.output())


def monthly_list_pdf(office_name: str, zone: str, month: str, people: Sequence[dict[str, Any]], place: str = "") -> bytes:
    """Purbalingga's manual list for ``YYYY-MM``: a column per date, masuk above pulang."""
    # late: fpdf loads only when this runs
    from fpdf import FPDF

    year, number = (int(x) for x in month.split("-"))
    last = calendar.monthrange(year, number)[1]
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    family, clean = _font(pdf)
    name_w, day_w = 62.0, (297 - 20 - 8 - 62) / last
    pdf.add_page()
    _heading(pdf, family, clean, office_name, ("DAFTAR HADIR MANUAL", f"Bulan {MONTHS[number - 1]} Tahun {year}"))

    def header() -> None:
        pdf.set_font(family, size=7)
        pdf.set_fill_color(225, 225, 225)
        pdf.cell(8, 6, "No.", border=1, fill=True, align="C")
        pdf.cell(name_w, 6, "Nama/NIP", border=1, fill=True, align="C")
        for d in range(1, last + 1):
            weekend = date(year, number, d).weekday() >= 5
            pdf.set_fill_color(200, 200, 200) if weekend else pdf.set_fill_color(225, 225, 225)
            pdf.cell(day_w, 6, str(d), border=1, fill=True, align="C")
        pdf.ln()

    header()
    for n, person in enumerate(people, 1):
        if pdf.will_page_break(10):
            pdf.add_page()
            header()
        pdf.cell(8, 10, str(n), border=1, align="C")
        pdf.cell(name_w, 10, clean(_fit(pdf, f"{person['name']} / {person['id']}", name_w)), border=1)
        x, y = pdf.get_x(), pdf.get_y()
        for d in range(last):
            pdf.rect(x + d * day_w, y, day_w, 5)
            pdf.rect(x + d * day_w, y + 5, day_w, 5)
        pdf.set_xy(pdf.l_margin, y + 10)
    pdf.set_font(family, size=7)
    pdf.cell(
        0,
        5,
        clean(f"Keterangan: kolom tanggal diisi dengan jam presensi masuk (atas) dan pulang (bawah), {zone_abbreviation(zone)}"),
    )
    pdf.ln()
    if pdf.will_page_break(45):
        pdf.add_page()
    pdf.set_font(family, size=9)
    _signature(pdf, clean, 190.0, f"{place + ', ' if place else ''}{'.' * 30}", "Penanggung Jawab,")
    return bytes(pdf.output())
