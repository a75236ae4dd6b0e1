"""The back office in Debian's Chromium (Playwright): a keterangan entered with its document and
approved by BKPSDM, TK appearing once the day's cut-off passes, the recap page, and its PDF
rendered to PNG (pdftoppm) and checked for its title and signature blocks."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from core.clock import FakeClock
from kiosk.web.server import serve_in_thread
from sync.server.app import create_app
from sync.server.config import ServerConfig
from sync.server.officers import Officers
from sync.server.roster_versions import RosterAdmin
from sync.server.storage import Storage
from tests.helpers.recap_support import local, store_punch

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
NIP, LATE = "198001012006041001", "198502022010012003"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def site(tmp_path) -> Iterator[tuple[str, FakeClock]]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    url = f"sqlite:///{tmp_path}/server.db"
    storage = Storage(url)
    storage.create_schema()
    clock = FakeClock(datetime(2026, 11, 3, 1, 0, tzinfo=UTC))  # Tuesday 3 November, 08:00 WIB
    roster = RosterAdmin(storage, clock)
    roster.add_unit("DISKOMINFO", "Dinas Komunikasi dan Informatika")
    roster.add_employee(NIP, "Budi Santoso", unit_code="DISKOMINFO", work_code="JEMBER-5H", position="Pranata Komputer")
    roster.add_employee(LATE, "Citra Lestari", unit_code="DISKOMINFO", work_code="JEMBER-5H", position="Analis")
    store_punch(storage, LATE, local("2026-11-03", "07:25"))
    officers = Officers(storage, clock)
    officers.create("admin.kominfo", "kata-sandi-admin-1", "admin_pd", "DISKOMINFO")
    officers.create("bkpsdm.ani", "kata-sandi-bkpsdm-1", "bkpsdm")
    app = create_app(ServerConfig(database_url=url, allow_plain_http=True, title="Presensi Kabupaten Jember"), storage, clock)
    running = serve_in_thread(app, "127.0.0.1", 0, name="backoffice")
    try:
        yield f"http://127.0.0.1:{running.port}", clock
    finally:
        running.stop()
        storage.close()


def _login(browser: object, base: str, name: str, password: str) -> object:
    page = browser.new_context(accept_downloads=True).new_page()  # type: ignore[attr-defined]
    page.goto(f"{base}/kantor")
    assert page.url.endswith("/kantor/masuk")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("#login")
    page.wait_for_selector("#who")
    return page


def test_keterangan_tk_recap_and_its_pdf(site, tmp_path) -> None:
    base, clock = site
    sync_api = pytest.importorskip("playwright.sync_api")
    document = tmp_path / "surat-dokter.pdf"
    document.write_bytes(PDF)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        admin = _login(browser, base, "admin.kominfo", "kata-sandi-admin-1")
        admin.goto(f"{base}/kantor/keterangan")
        admin.fill("input[name=employee_id]", NIP)
        admin.select_option("select[name=code]", "S")
        admin.fill("input[name=first_day]", "2026-11-03")
        admin.fill("input[name=last_day]", "2026-11-03")
        admin.set_input_files("input[name=document]", str(document))
        admin.click("#submit")
        assert "Keterangan #1 diajukan" in admin.inner_text("#message")
        assert admin.inner_text("#keterangan tr[data-id='1'] .state").startswith("diajukan")
        assert "Setujui" not in admin.content()  # Admin PD does not approve

        admin.goto(f"{base}/kantor?day=2026-11-03")
        assert "Belum ada catatan" in admin.inner_text(f"#days tr[data-nip='{NIP}'] .status")  # 08:00: the day is not over
        clock.set_wall(datetime(2026, 11, 4, 17, 1, tzinfo=UTC))  # Thursday 00:01 WIB: the 3rd and 4th are over
        bkpsdm = _login(browser, base, "bkpsdm.ani", "kata-sandi-bkpsdm-1")
        bkpsdm.goto(f"{base}/kantor?office=DISKOMINFO&day=2026-11-04")
        assert bkpsdm.inner_text(f"#days tr[data-nip='{NIP}'] .status").startswith("TK (tanpa keterangan)")
        bkpsdm.goto(f"{base}/kantor/keterangan")
        bkpsdm.click("#keterangan tr[data-id='1'] button[value=setujui]")
        assert bkpsdm.inner_text("#keterangan tr[data-id='1'] .state").startswith("disetujui")
        bkpsdm.goto(f"{base}/kantor?office=DISKOMINFO&day=2026-11-03")
        assert bkpsdm.inner_text(f"#days tr[data-nip='{NIP}'] .status").startswith("Sakit (S)")
        late_row = bkpsdm.inner_text(f"#days tr[data-nip='{LATE}']")
        assert "07:25 WIB" in late_row and "25 menit" in late_row

        bkpsdm.goto(f"{base}/kantor/rekap?office=DISKOMINFO&month=2026-11")
        assert "November 2026" in bkpsdm.inner_text("#recap-title")
        cells = bkpsdm.locator(f"#recap tr[data-nip='{LATE}'] td").all_inner_texts()
        assert cells[3] == "25" and cells[5] == "1"  # 25 minutes late on the 3rd; TK on the 4th (added on the 3rd)
        assert bkpsdm.locator(f"#recap tr[data-nip='{NIP}'] td").all_inner_texts()[6] == "1"  # one day S
        bkpsdm.screenshot(path=str(tmp_path / "recap-page.png"), full_page=True)
        with bkpsdm.expect_download() as download:
            bkpsdm.click("#files a:has-text('PDF')")
        pdf = tmp_path / "rekap.pdf"
        download.value.save_as(str(pdf))
        browser.close()
    assert pdf.read_bytes().startswith(b"%PDF-")
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "rekap")], check=True)
    image = Image.open(tmp_path / "rekap-1.png").convert("L")
    width, height = image.size
    assert width > height  # A4 landscape
    ink = sum(1 for value in image.getdata() if value < 128)
    assert ink > 2000  # title, table and signature blocks are drawn
    signatures = image.crop((0, height * 3 // 10, width, height * 6 // 10))  # below a short table
    assert sum(1 for value in signatures.getdata() if value < 128) > 150  # "Dibuat oleh", "Pimpinan OPD", the dotted lines
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "REKAPITULASI KEHADIRAN PEGAWAI BULAN NOVEMBER 2026" in text and "Pimpinan OPD" in text
    assert "Citra Lestari / 198502022010012003" in text
