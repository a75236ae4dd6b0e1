"""The monthly recap as CSV, XLSX and PDF, from the command line."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date

import pytest
from openpyxl import load_workbook

from core.clock import SystemClock
from kiosk.cli import main
from sync.server.daybook import DayBook
from sync.server.recap import COLUMNS, Recaps
from sync.server.recap_export import recap_xlsx
from sync.server.roster_versions import RosterAdmin
from sync.server.storage import Storage
from tests.helpers.recap_support import local, store_punch


@pytest.fixture
def database(tmp_path):
    url = f"sqlite:///{tmp_path}/server.db"
    storage = Storage(url)
    storage.create_schema()
    roster = RosterAdmin(storage, SystemClock())
    roster.add_unit("DISKOMINFO", "Dinas Komunikasi dan Informatika")
    roster.add_employee("198001012006041001", "=Budi", unit_code="DISKOMINFO", work_code="JEMBER-5H", position="Pranata Komputer")
    store_punch(storage, "198001012006041001", local("2026-11-02", "07:12"))
    storage.close()
    return url


def test_recap_command_writes_csv_xlsx_and_pdf(database, tmp_path, capsys) -> None:
    for fmt in ("csv", "xlsx", "pdf"):
        out = tmp_path / f"rekap.{fmt}"
        assert (
            main(
                [
                    "server",
                    "recap",
                    "--month",
                    "2026-11",
                    "--office",
                    "DISKOMINFO",
                    "--format",
                    fmt,
                    "--output",
                    str(out),
                    "--database",
                    database,
                    "--place",
                    "Jember",
                ]
            )
            == 0
        )
        assert out.stat().st_size > 100
    text = (tmp_path / "rekap.csv").read_text(encoding="utf-8-sig").splitlines()
    assert text[0].split(",")[2:10] == [h for _, h, _ in COLUMNS[:8]]  # Lampiran II's columns first
    assert text[1].startswith("DISKOMINFO,2026-11,1,'=Budi / 198001012006041001,Pranata Komputer,12,")  # formula-safe
    sheet = load_workbook(tmp_path / "rekap.xlsx").active
    assert sheet["A2"].value.startswith("Rekapitulasi Kehadiran Pegawai Bulan November 2026")
    assert sheet["D5"].value == 12
    assert (tmp_path / "rekap.pdf").read_bytes().startswith(b"%PDF-")
    assert main(["server", "recap", "--month", "2026-11", "--office", "NOPE", "--database", database]) == 1
    assert "unknown office" in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not installed")
def test_the_pdf_renders_with_its_signature_blocks(database, tmp_path) -> None:
    storage = Storage(database)
    recaps = Recaps(storage, SystemClock(), DayBook(storage, SystemClock())).all_offices("2026-11")
    from sync.server.recap_export import recap_pdf

    pdf = tmp_path / "rekap.pdf"
    pdf.write_bytes(recap_pdf(recaps, "Jember"))
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "page")], check=True)
    assert (tmp_path / "page-1.png").stat().st_size > 2000
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "REKAPITULASI KEHADIRAN PEGAWAI BULAN NOVEMBER 2026" in text
    assert "Pimpinan OPD" in text and "Admin Perangkat Daerah" in text and "Jember, " in text
    assert load_workbook(io.BytesIO(recap_xlsx(recaps))).sheetnames == ["DISKOMINFO"]
    assert date(2026, 11, 2).isoformat() in {
        d["day"] for d in DayBook(storage, SystemClock()).days(date(2026, 11, 1), date(2026, 11, 30))
    }
    storage.close()


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_manual_forms_of_an_office(database, tmp_path) -> None:
    daily, monthly = tmp_path / "harian.pdf", tmp_path / "bulanan.pdf"
    assert (
        main(
            [
                "server",
                "manual-form",
                "--office",
                "DISKOMINFO",
                "--day",
                "2026-11-02",
                "--output",
                str(daily),
                "--database",
                database,
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "server",
                "manual-form",
                "--office",
                "DISKOMINFO",
                "--month",
                "2026-11",
                "--output",
                str(monthly),
                "--database",
                database,
            ]
        )
        == 0
    )
    text = subprocess.run(["pdftotext", "-layout", str(daily), "-"], capture_output=True, text=True, check=True).stdout
    assert "PRESENSI HARIAN PEGAWAI MANUAL" in text and "Senin, 2 November 2026" in text  # Jember Lampiran I
    assert "Kedatangan" in text and "TK/C/S/DL/I" in text and "Pimpinan OPD" in text and "198001012006041001" in text
    text = subprocess.run(["pdftotext", "-layout", str(monthly), "-"], capture_output=True, text=True, check=True).stdout
    assert "DAFTAR HADIR MANUAL" in text and "Bulan November Tahun 2026" in text and "Penanggung Jawab" in text
