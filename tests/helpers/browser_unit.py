"""A simulated unit's maintenance page and kiosk screen served on 127.0.0.1 for the browser tests:
the configuration they share, a real video file for the camera preview, and the two servers
with their teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.clock import FakeClock, FixedClockState
from core.config import KioskConfig
from core.identity import DeviceIdentity
from core.store.db import open_database
from helpers.video_frames import VideoFileFrames
from kiosk.checks.findings import Finding
from kiosk.web.app import create_maintenance_app, create_screen_app
from kiosk.web.context import WebContext
from kiosk.web.maintenance.actions import SimSystemActions
from kiosk.web.ports import Services, TapCapture
from kiosk.web.server import Running, serve_in_thread
from kiosk.web.sources.netprobe import ServerProbe
from kiosk.web.tls import ensure_certificate


def make_video(path: Path, frames: int = 30) -> Path:
    """A short real video file (a moving face-like drawing) for the camera preview."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10, (640, 480))
    for i in range(frames):
        img = np.full((480, 640, 3), 90, np.uint8)
        cv2.circle(img, (300 + i * 2, 230), 110, (150, 180, 220), -1)
        cv2.circle(img, (260 + i * 2, 200), 14, (40, 40, 40), -1)
        cv2.circle(img, (340 + i * 2, 200), 14, (40, 40, 40), -1)
        cv2.ellipse(img, (300 + i * 2, 280), (40, 15), 0, 0, 180, (40, 40, 120), 4)
        writer.write(img)
    writer.release()
    return path


def sim_unit_config(data: Path) -> KioskConfig:
    """The lobby unit of the browser tests: simulated hardware, a USB root and a service log
    the log page reads."""
    config = KioskConfig()
    config.unit.hardware = "sim"
    config.unit.name = "Dinas Kominfo — Lobi"
    config.web.usb_root = data / "media"
    config.web.log_file = data / "presensi.log"
    (data / "presensi.log").write_text("2026-11-23 07:00:01,000 INFO kiosk.cards: reader ready\n")
    return config


@dataclass
class ServedUnit:
    ctx: WebContext
    screen: Running
    maint: Running
    frames: VideoFileFrames


@contextmanager
def served_unit(
    data: Path,
    clock: FakeClock,
    identity: DeviceIdentity,
    config: KioskConfig,
    doctor: Callable[[], list[Finding]] | None = None,
) -> Iterator[ServedUnit]:
    """The maintenance page (TLS) and the kiosk screen over ``data``'s database, the preview
    showing a real video file; both stopped and the connections closed afterwards."""
    tls = ensure_certificate(data / "tls", now=clock.now())
    frames = VideoFileFrames(make_video(data / "camera.avi"), fps=10)
    frames.start()
    assert frames.first_frame.wait(10)
    ctx = WebContext(
        config=config,
        connect=lambda: open_database(data / "presensi.db"),
        services=Services(cards=TapCapture(), system=SimSystemActions()),
        clock=clock,
        data_dir=data,
        clock_state=FixedClockState(),
        frames=frames,
        probe=ServerProbe("").run,
        tls_fingerprint=tls.fingerprint,
        device_id=identity.device_id,
        doctor=doctor,
    )
    maint = serve_in_thread(create_maintenance_app(ctx), "127.0.0.1", 0, certfile=tls.cert, keyfile=tls.key, name="maintenance")
    ctx.maintenance_url = f"https://127.0.0.1:{maint.port}"
    screen = serve_in_thread(create_screen_app(ctx), "127.0.0.1", 0, name="screen")
    try:
        yield ServedUnit(ctx, screen, maint, frames)
    finally:
        ctx.stopping.set()
        screen.stop()
        maint.stop()
        frames.stop()
        ctx.db.close_all()
