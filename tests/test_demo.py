"""``presensi demo``: where its faces come from, the scripted run end to end (reference server,
camera on the test photos, cards, fingers, sync, video) and the control panel in Chromium."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import KioskConfig
from core.errors import ConfigError
from kiosk.demo.session import DemoSession, demo_config
from kiosk.demo.sources import DemoSources, find_sources

CHROMIUM = Path("/usr/bin/chromium")


# -- sources ---------------------------------------------------------------------------------------


def test_sources_are_the_shared_faces_when_present(faces_dir: Path) -> None:
    sources = find_sources(None, None, shared=faces_dir)
    assert sources.train == faces_dir / "train" and sources.test == faces_dir / "test"
    assert sources.video is not None and sources.video.name == "short_hamilton_clip.mp4"
    assert "shared test data" in sources.note


def test_without_shared_data_a_webcam_is_used_and_said(tmp_path: Path) -> None:
    webcam = tmp_path / "video0"
    webcam.touch()
    sources = find_sources(None, None, shared=tmp_path / "absent", webcam=webcam)
    assert sources.webcam == webcam and sources.train is None
    assert "is absent" in sources.note and "webcam" in sources.note and "--faces" in sources.note


def test_without_shared_data_or_webcam_face_punching_is_off_and_said(tmp_path: Path) -> None:
    sources = find_sources(None, None, shared=tmp_path / "absent", webcam=tmp_path / "no-video0")
    assert not sources.has_faces
    assert "punching by face is off" in sources.note and "--faces DIR" in sources.note
    config = demo_config(KioskConfig(), sources, None)
    assert not config.face.enabled and config.unit.hardware == "sim" and config.cards.reader == "sim"


def test_faces_option_must_hold_train_and_test(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        find_sources(tmp_path, None)
    assert "train/" in str(err.value) and "test/" in str(err.value)
    (tmp_path / "train").mkdir()
    (tmp_path / "test").mkdir()
    with pytest.raises(ConfigError, match="test/ holds no photos"):
        find_sources(tmp_path, None)
    with pytest.raises(ConfigError, match="no such file"):
        find_sources(None, tmp_path / "missing.mp4", shared=tmp_path / "absent", webcam=tmp_path / "none")


def test_a_bad_faces_option_is_one_clear_line(presensi_cmd: list[str], tmp_path: Path) -> None:
    result = subprocess.run(
        [*presensi_cmd, "demo", "--once", "--faces", str(tmp_path), "--data-dir", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "has no train/ and test/ folders" in result.stderr and "Traceback" not in result.stderr


# -- the scripted run ------------------------------------------------------------------------------


def test_event_demo_punches_by_face_card_and_finger_and_syncs(presensi_cmd: list[str], faces_dir: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [*presensi_cmd, "demo", "--once", "--event", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr[-3000:]
    assert "liveness: skipped" in out and "liveness=skipped" in out
    face_lines = [line for line in out.splitlines() if line.strip().startswith("face  #")]
    named = {line.split()[2] for line in face_lines}
    assert {"Obama", "Kit", "Alex"} <= named  # the three single-face test photos of enrolled people
    assert "Bukan peserta unit ini – silakan ke Unit V" in out  # the staff member of unit V
    assert "Kartu tidak terdaftar" in out and "Sidik jari tidak dikenali" in out
    assert re.search(r"[Ss]udah presensi pukul \d\d:\d\d", out)  # the second press of the same person
    acked = re.search(r"reference server acknowledged #(\d+) of #(\d+)", out)
    assert acked and acked.group(1) == acked.group(2)
    assert re.search(r"approach\(es\), at most 2 face\(s\) at once", out)
    assert " apel " in out and "verify: OK" in out and "FAILED" not in out
    # the data directory is a real unit's: the chain verifies again from the command line
    again = subprocess.run([*presensi_cmd, "--data-dir", str(tmp_path), "verify"], capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stdout + again.stderr
    # doctor with the configuration the demo left beside its data sees the demo's own key (issue 23.11)
    assert f"--config {tmp_path / 'demo.toml'}" in out
    doctor = subprocess.run(
        [*presensi_cmd, "--config", str(tmp_path / "demo.toml"), "--data-dir", str(tmp_path), "doctor"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "stored templates" in doctor.stdout and "another unit's key" not in doctor.stdout + doctor.stderr


# -- the control panel in a browser ----------------------------------------------------------------


@pytest.fixture
def session(tmp_path: Path) -> Iterator[DemoSession]:
    """A demo without faces (cards and fingers only), so it starts in seconds."""
    sources = DemoSources(None, None, None, None, "no faces (test)")
    s = DemoSession(demo_config(KioskConfig(), sources, None), tmp_path / "data", sources, staff_count=3).start()
    try:
        yield s
    finally:
        s.stop()
        s.stop()  # stopping twice is harmless


@pytest.mark.browser
def test_panel_buttons_punch_and_the_kiosk_screen_shows_it(session: DemoSession, artifacts_dir: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (./dev test installs it)")
    from playwright import sync_api

    siti = session.people[0]
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(session.panel_url, wait_until="domcontentloaded")
            page.locator(f'button[data-card="{siti.employee_id}"]').click()
            page.wait_for_function("document.querySelector('#said').textContent.includes('ditempel')")
            screen = page.frame_locator("iframe")
            screen.get_by_text(siti.name).first.wait_for(timeout=15000)
            page.locator("#punches tbody tr").first.wait_for(timeout=15000)
            assert siti.name in page.locator("#punches").inner_text()
            budi = session.people[1]
            page.locator(f'button[data-finger="{budi.employee_id}"]').click()
            page.wait_for_function("document.querySelector('#said').textContent.includes('Jari dibaca')", timeout=20000)
            screen.get_by_text(budi.name).first.wait_for(timeout=15000)
            page.locator('button[data-finger=""]').click()
            page.wait_for_function("document.querySelector('#said').textContent.includes('Jari dibaca')", timeout=20000)
            screen.get_by_text("Sidik jari tidak dikenali").first.wait_for(timeout=15000)
            page.screenshot(path=str(artifacts_dir / "demo_panel.png"))
            # without the panel's header a page of another origin cannot press a button
            refused = page.request.post(f"{session.panel_url}/api/card", data={"employee_id": siti.employee_id})
            assert refused.status == 403
        finally:
            browser.close()
    conn = session.runtime.connect() if session.runtime else None
    assert conn is not None
    try:
        methods = [r[0] for r in conn.execute("SELECT method FROM punches ORDER BY seq")]
    finally:
        conn.close()
    assert methods == ["card", "finger"]


def test_the_log_page_and_addresses_show_what_the_demo_did(session: DemoSession) -> None:
    """Issue 23.8 and 23.9: the maintenance page's log reads the demo's service logs, and the
    address shown for the maintenance page is one it listens on (127.0.0.1 in the demo)."""
    from kiosk.web.sources.logs import FileLogSource, LogFilter

    siti = session.people[0]
    assert session.place_finger(siti.employee_id)
    assert session.config.web.log_file is not None
    lines = FileLogSource(session.config.web.log_file).read(LogFilter(min_level="info", limit=500))
    messages = " ".join(f"{line.unit}: {line.message}" for line in lines)
    assert "core.store.punches: recorded punch" in messages and "firmware_bridge" in messages
    assert session.unit is not None and session.unit.web is not None
    assert session.unit.web.ctx.maintenance_url is not None
    assert session.unit.web.ctx.maintenance_url.startswith("https://127.0.0.1:")
