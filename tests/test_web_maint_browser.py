"""The maintenance page's work pages in Debian's Chromium (Playwright) against the real servers
as ``presensi web`` starts them (:func:`kiosk.web.runner.start_web`), beside the real fingerprint
bridge on a simulated module on a pty, all on one SQLite file:

- Admin PD enrols a finger from the page while the test plays the person at the module (placing
  and lifting the simulated finger as the page's prompts ask); then that finger punches;
- Admin PD exports the signed bundle, downloads it and the bundle verifier accepts it; the same
  bundle with one byte changed is refused on the page's bundle check; a bundle goes to a stick;
- a technician makes the fault report (prefilled from health) and prints it to PDF;
- the audit log shows each of these actions with who did it.
"""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.clock import FakeClock, local_time
from core.config import KioskConfig
from core.health import Health, report
from core.runtime import Runtime
from core.store.accounts import Accounts, Role
from firmware_bridge.factory import SimulatedUnit, sim_finger_name, start_simulated_bridge
from kiosk.web.maintenance.actions import SimSystemActions
from kiosk.web.maintenance.fingers import finger_enrolment
from kiosk.web.ports import Services
from kiosk.web.runner import WebRunning, start_web
from kiosk.web.sources.export import check_bundle
from sync.bundle import read_bundle

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
ADMIN_PASSWORD = "Rahasia-Kantor-2026"
TECH_PASSWORD = "Obeng-Tang-4567"
EMPLOYEE = "198503302010011001"
WAIT_MS = 15000


@dataclass
class Env:
    runtime: Runtime
    web: WebRunning
    bridge: SimulatedUnit

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.web.maintenance.port}"

    def punches(self) -> list[tuple[str, str]]:
        conn = self.runtime.connect()
        try:
            return [(r["employee_id"], r["method"]) for r in conn.execute("SELECT employee_id, method FROM punches ORDER BY seq")]
        finally:
            conn.close()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    data = tmp_path_factory.mktemp("unit")
    config = KioskConfig()
    config.unit.hardware = "sim"
    config.unit.name = "Dinas Kominfo — Lobi"
    config.clock.state = "synced"
    config.web.maintenance_host = "127.0.0.1"
    config.web.screen_host = "127.0.0.1"
    config.web.usb_root = data / "media"
    (data / "media" / "FLASHDISK").mkdir(parents=True)
    for key, value in {
        "module": "sim",
        "poll_ms": 20,
        "timeout_s": 0.5,
        "backoff_initial_s": 0.05,
        "enrol_timeout_s": 15,
    }.items():
        setattr(config.fingerprint, key, value)
    runtime = Runtime(config=config, data_dir=data, clock=FakeClock(datetime.now(UTC).replace(microsecond=0)))
    conn = runtime.connect()
    runtime.identity()
    conn.execute("INSERT INTO employees (id, name, source, updated_at) VALUES (?, 'Budi Santoso', 'local', 'x')", (EMPLOYEE,))
    accounts = Accounts(conn, runtime.clock)
    code = accounts.setup_code()
    assert code
    accounts.create_first(code, "kepala", ADMIN_PASSWORD, "127.0.0.1")
    accounts.create("adminpd", ADMIN_PASSWORD, [Role.ADMIN], by="kepala")
    accounts.create("teknisi", TECH_PASSWORD, [Role.TECHNICIAN], by="kepala")
    conn.close()
    bridge = start_simulated_bridge(runtime, classify=None, pace=False)
    assert bridge.service.connected.wait(10)
    services = Services(fingers=finger_enrolment(runtime), system=SimSystemActions())
    web = start_web(runtime, services=services, screen_port=0, maintenance_port=0)
    yield Env(runtime, web, bridge)
    web.stop()
    bridge.stop()
    runtime.close()


@pytest.fixture(scope="module")
def browser(env: Env) -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def logged_in(browser: object, env: Env, username: str, password: str) -> object:
    page = browser.new_context(ignore_https_errors=True, accept_downloads=True).new_page()  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{env.url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login")
    page.wait_for_selector("#dashboard", state="attached")
    page.script_errors = errors  # type: ignore[attr-defined]
    return page


def test_admin_enrols_a_finger_from_the_page_and_it_punches(env: Env, browser: object, artifacts_dir: Path) -> None:
    from playwright.sync_api import expect

    page = logged_in(browser, env, "adminpd", ADMIN_PASSWORD)
    sim = env.bridge.simulator
    finger = sim_finger_name(EMPLOYEE, 1)
    page.goto(f"{env.url}/employees/{EMPLOYEE}")  # type: ignore[attr-defined]
    page.select_option("#finger", "1")  # type: ignore[attr-defined]
    page.click("#enrol-finger")  # type: ignore[attr-defined]
    prompt = page.locator("#finger-prompt")  # type: ignore[attr-defined]
    expect(prompt).to_have_text("Letakkan jari (1/2)", timeout=WAIT_MS)
    page.screenshot(path=str(artifacts_dir / "web_maint_finger_prompt.png"), full_page=True)  # type: ignore[attr-defined]
    sim.place_finger(finger)
    expect(prompt).to_have_text("Angkat jari", timeout=WAIT_MS)
    assert sim.lift_and_wait_seen()
    expect(prompt).to_have_text("Letakkan jari yang sama lagi (2/2)", timeout=WAIT_MS)
    sim.place_finger(finger)
    page.wait_for_selector("text=Sidik jari (telunjuk kanan) terdaftar.", timeout=WAIT_MS)  # type: ignore[attr-defined]
    assert "telunjuk kanan (1)" in page.inner_text("#fingers")  # type: ignore[attr-defined]
    expect(page.locator("#fingers-count")).to_have_text("1")  # without a reload (issue 23.12)  # type: ignore[attr-defined]
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d WIB", page.inner_text("#fingers"))  # type: ignore[attr-defined]
    assert page.script_errors == []  # type: ignore[attr-defined]

    # the person lifts and puts the same finger down again: a punch by finger
    assert sim.lift_and_wait_seen()
    sim.place_finger(finger)
    assert sim.wait_for(lambda: env.punches() == [(EMPLOYEE, "finger")], 10), env.punches()
    assert sim.lift_and_wait_seen()
    page.goto(f"{env.url}/punches?employee={EMPLOYEE}")  # type: ignore[attr-defined]
    assert "sidik jari" in page.inner_text("table")  # the method in words (issue 23.5)  # type: ignore[attr-defined]
    page.context.close()  # type: ignore[attr-defined]


def test_admin_exports_the_signed_bundle_and_a_tampered_one_is_refused(env: Env, browser: object, tmp_path: Path) -> None:
    if not env.punches():
        conn = env.runtime.connect()
        from core.store.punches import PunchRequest, PunchStore

        PunchStore(conn, env.runtime.identity(), env.runtime.clock, env.runtime.clock_state(conn)).record(
            PunchRequest(EMPLOYEE, "card", kind="masuk")
        )
        conn.close()
    page = logged_in(browser, env, "adminpd", ADMIN_PASSWORD)
    page.goto(f"{env.url}/export")  # type: ignore[attr-defined]
    page.select_option("#fmt", "bundle_all")  # type: ignore[attr-defined]
    page.click("#export")  # type: ignore[attr-defined]
    with page.expect_download() as info:  # type: ignore[attr-defined]
        page.click("#download")  # type: ignore[attr-defined]
    bundle = tmp_path / info.value.suggested_filename
    info.value.save_as(bundle)
    assert bundle.suffix == ".zip"
    data = bundle.read_bytes()
    identity = env.runtime.identity()
    opened = read_bundle(data, lambda device: identity.private_key.public_key() if device == identity.device_id else None)
    assert opened.device_id == identity.device_id and opened.punches
    assert check_bundle(data, identity.public_hex).ok

    # the page's own check: the genuine file passes, one changed byte in the punches is refused
    page.set_input_files("#bundle-file", str(bundle))  # type: ignore[attr-defined]
    page.click("#verify-bundle")  # type: ignore[attr-defined]
    assert "Bundel sah" in page.inner_text(".msg.ok")  # type: ignore[attr-defined]
    tampered = tmp_path / "tampered.zip"
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            body = src.read(name)
            dst.writestr(name, body.replace(b'"finger"', b'"manual"') if name == "punches.jsonl" else body)
    tampered.write_bytes(out.getvalue())
    page.set_input_files("#bundle-file", str(tampered))  # type: ignore[attr-defined]
    page.click("#verify-bundle")  # type: ignore[attr-defined]
    refusal = page.inner_text(".msg.bad")  # type: ignore[attr-defined]
    assert "Bundel DITOLAK" in refusal and "diubah" in refusal, refusal

    # to the stick: the bundle and its CSV, whole
    page.select_option("#fmt", "bundle_all")  # type: ignore[attr-defined]
    page.select_option("#target", "FLASHDISK")  # type: ignore[attr-defined]
    page.click("#export")  # type: ignore[attr-defined]
    assert "disalin ke flashdisk FLASHDISK" in page.inner_text(".msg.ok")  # type: ignore[attr-defined]
    on_stick = env.runtime.config.web.usb_root / "FLASHDISK" / bundle.name
    assert check_bundle(on_stick.read_bytes(), identity.public_hex).ok
    assert on_stick.with_suffix(".csv").exists()
    assert page.script_errors == []  # type: ignore[attr-defined]
    page.context.close()  # type: ignore[attr-defined]


def test_fault_report_prefilled_from_health_prints_to_pdf(env: Env, browser: object, artifacts_dir: Path) -> None:
    conn = env.runtime.connect()
    report(
        conn, "camera", Health.FAIL, "no frames", now=env.runtime.clock.now(), error="kamera /dev/video0 tidak mengirim gambar"
    )
    conn.close()
    page = logged_in(browser, env, "teknisi", TECH_PASSWORD)
    page.goto(f"{env.url}/report")  # type: ignore[attr-defined]
    assert page.input_value("#kind") == "kamera"  # type: ignore[attr-defined]
    assert "tidak mengirim gambar" in page.input_value("textarea[name=description]")  # type: ignore[attr-defined]
    page.fill("input[name=reporter]", "Andi (teknisi Diskominfo)")  # type: ignore[attr-defined]
    page.click("#make-report")  # type: ignore[attr-defined]
    page.wait_for_selector("#report")  # type: ignore[attr-defined]
    pdf = artifacts_dir / "laporan_kerusakan_alat.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)  # type: ignore[attr-defined]
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True, timeout=60).stdout
    device_id = env.runtime.identity().device_id
    today = local_time(env.runtime.clock.now(), env.runtime.config.unit.zone).strftime("%Y-%m-%d")
    for expected in ("LAPORAN KERUSAKAN ALAT PRESENSI", device_id, "Kamera tidak berfungsi", today, "Andi (teknisi Diskominfo)"):
        assert expected in text, expected
    assert "Keluar" not in text and "Cetak / simpan PDF" not in text  # the page's controls are not printed
    page.context.close()  # type: ignore[attr-defined]


def test_audit_log_shows_who_did_each_action(env: Env, browser: object) -> None:
    page = logged_in(browser, env, "kepala", ADMIN_PASSWORD)
    page.goto(f"{env.url}/audit")  # type: ignore[attr-defined]
    rows = page.locator("#audit tbody tr")  # type: ignore[attr-defined]
    # the action and its details as stored (the page shows them in words, issue 23.5)
    seen = rows.evaluate_all(
        "rows => rows.map((r) => [r.cells[0].innerText, r.cells[1].innerText, r.cells[2].dataset.code, r.cells[3].dataset.detail])"
    )
    by_action = {(actor, action) for _at, actor, action, _detail in seen}
    for who, action in (
        ("adminpd", "finger.enrol"),
        ("adminpd", "export"),
        ("adminpd", "export.download"),
        ("adminpd", "export.verify"),
        ("teknisi", "report.make"),
    ):
        assert (who, action) in by_action, (who, action)
    finger = next(detail for _at, actor, action, detail in seen if action == "finger.enrol")
    assert f"employee_id={EMPLOYEE}" in finger and "finger=1" in finger and "state=done" in finger
    verdicts = [detail for _at, _actor, action, detail in seen if action == "export.verify"]
    assert any("ok=True" in d for d in verdicts) and any("ok=False" in d for d in verdicts)
    assert all(at for at, *_ in seen)  # when
    words = page.locator("#audit td.action").all_inner_texts()
    assert "pendaftaran sidik jari" in words and "laporan kerusakan dibuat" in words, words
    page.context.close()  # type: ignore[attr-defined]
