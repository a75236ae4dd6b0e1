"""Face enrolment from the kiosk camera, on the maintenance page, in Debian's Chromium (Playwright).

The unit as ``presensi run`` composes it (:class:`kiosk.unit.KioskUnit`: face service, kiosk
screen, maintenance page over TLS) on a real SQLite file, its camera a FileCamera playing a test
photo of a face and an empty wall in turn (the person stands at the kiosk, steps away, comes
back), liveness in the demo's documented mode (photos cannot pass it: verdict 'skipped'):

first-boot setup code from the kiosk screen → account → add an employee → "Daftarkan wajah dari
kamera kiosk" → the kiosk screen is sent the quality/progress prompts and the page shows them
while it waits → the page says the face is
enrolled → the face, coming back, is identified on the kiosk screen with the employee's name.
Time is a FakeClock moved a tenth of a second per processed frame.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers.face_data import image

from core.clock import FakeClock
from core.config import KioskConfig
from core.runtime import Runtime
from core.store import roster
from kiosk.camera.base import Frame, fit_within
from kiosk.camera.file import FileCamera
from kiosk.face.pipeline import FrameResult, SkipLiveness
from kiosk.unit import KioskUnit
from kiosk.web.ports import Message, Prompt

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
PASSWORD = "Rahasia-Kantor-2026"
EMPLOYEE = "196108041985031002"
NAME = "Barack Obama"
FRAME_S = 0.1  # virtual seconds per processed frame: samples 0.4 s apart are a few frames apart


@pytest.fixture
def unit(tmp_path: Path, faces_dir: Path) -> Iterator[KioskUnit]:
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    config = KioskConfig()
    config.unit.hardware = "sim"
    config.unit.name = "Dinas Kominfo — Lobi"
    config.clock.state = "synced"
    config.cards.reader = "none"
    data = tmp_path / "data"
    data.mkdir()
    config.web.usb_root = data / "media"
    config.web.log_file = data / "presensi.log"
    folder = tmp_path / "camera"
    folder.mkdir()
    cv2.imwrite(str(folder / "00-face.png"), fit_within(image(faces_dir / "obama-720p.jpg"), 1280, 960))
    cv2.imwrite(str(folder / "01-wall.png"), np.full((720, 1280, 3), 110, np.uint8))
    camera = FileCamera(folder, clock, fps=10, hold_s=3.0, width=1280, height=960)
    runtime = Runtime(config, data, clock)
    kiosk = KioskUnit(runtime, camera=camera, liveness=SkipLiveness("test photos from disk"), screen_port=0, maintenance_port=0)
    try:
        kiosk.start()
        assert kiosk.face is not None

        def tick(_frame: Frame, _result: FrameResult) -> None:
            clock.advance(FRAME_S)

        kiosk.face.subscribe_frames(tick)
        yield kiosk
    finally:
        kiosk.stop()
        runtime.close()


def test_enrol_a_face_from_the_video_source_then_it_is_identified(unit: KioskUnit, artifacts_dir: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    expect = sync_api.expect
    assert unit.web is not None
    screen_url = unit.web.screen.url
    maint_url = f"https://127.0.0.1:{unit.web.maintenance.port}"
    sent: list[Message] = []
    lock = threading.Lock()

    def keep(message: Message) -> None:
        with lock:
            sent.append(message)

    unit.hub.subscribe(keep)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            kiosk = browser.new_context(viewport={"width": 800, "height": 480}).new_page()
            kiosk.goto(f"{screen_url}/")
            kiosk.wait_for_selector("#setup-code:not(:empty)", timeout=10000)
            code = kiosk.inner_text("#setup-code")

            page = browser.new_context(ignore_https_errors=True, viewport={"width": 1366, "height": 900}).new_page()
            page.goto(f"{maint_url}/")
            page.fill("#code", code)
            page.fill("#username", "kepala")
            page.fill("#password", PASSWORD)
            page.fill("#password2", PASSWORD)
            page.click("#create")
            page.wait_for_selector("#dashboard", timeout=10000, state="attached")

            page.goto(f"{maint_url}/employees")
            page.fill("#new-id", EMPLOYEE)
            page.fill("#new-name", NAME)
            page.click("#add-employee")
            page.wait_for_selector("#enrol-face:not([disabled])", timeout=10000)

            polled: list[str] = []

            def record(route: object) -> None:  # what the page's live feedback (maint-face.js) received
                response = route.fetch()  # type: ignore[attr-defined]
                polled.append(response.text())
                route.fulfill(response=response)  # type: ignore[attr-defined]

            page.route("**/api/face/prompt", record)
            page.click("#enrol-face")  # the request waits while the face service takes samples
            expect(page.locator(".msg.ok")).to_contain_text(f"Wajah {NAME} terdaftar: 3 sampel", timeout=90000)
            assert "Wajah: 3" in page.inner_text("main")
            assert any('"prompt":"Pendaftaran wajah' in body for body in polled), polled  # it polled live prompts
            page.screenshot(path=str(artifacts_dir / "web_face_enrolled.png"), full_page=True)

            # the face steps away and comes back: the kiosk screen names it
            expect(kiosk.locator("#r-name")).to_have_text(NAME, timeout=60000)
            kiosk.screenshot(path=str(artifacts_dir / "web_screen_face_identified_800x480.png"))

            page.goto(f"{maint_url}/audit")
            cells = page.locator("#audit td.action")
            assert "face.enrol" in cells.evaluate_all("cells => cells.map((c) => c.dataset.code)")
            assert "wajah didaftarkan" in cells.all_inner_texts()  # in words (issue 23.5)
        finally:
            browser.close()

    with lock:
        prompts = [m.text for m in sent if isinstance(m, Prompt)]
    assert "Pendaftaran wajah: 1 dari 3 — tahan" in prompts, prompts  # live feedback on the kiosk screen
    conn = unit.runtime.connect()
    try:
        assert roster.count_face_templates(conn, EMPLOYEE) == 3
        punches = conn.execute("SELECT employee_id, method, liveness_verdict FROM punches").fetchall()
        assert [tuple(p) for p in punches] == [(EMPLOYEE, "face", "skipped")]
    finally:
        conn.close()
    stored_images = [p for p in unit.runtime.data_dir.rglob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg")]
    assert stored_images == []  # templates only: no enrolment photo is kept
