"""The Raspberry Pi camera through picamera2, on a real Pi with a camera module.

Skipped anywhere picamera2 is not importable. To run it on a Pi:

    sudo apt install python3-picamera2          # Raspberry Pi OS
    python3 -m venv --system-site-packages .venv && .venv/bin/pip install -e '.[dev]'
    .venv/bin/pytest -m hardware tests/hardware/test_picamera2_hw.py

The camera must be connected (check with ``rpicam-hello --list-cameras``).
"""

from __future__ import annotations

import pytest

from core.clock import SystemClock
from kiosk.camera.base import CameraState
from kiosk.camera.picamera2 import Picamera2Camera

picamera2 = pytest.importorskip("picamera2", reason="needs a Raspberry Pi with python3-picamera2 (see this file's docstring)")
pytestmark = pytest.mark.hardware


def test_frames_arrive_as_bgr_with_rising_times() -> None:
    camera = Picamera2Camera(SystemClock(), width=640, height=480, fps=15)
    with camera:
        first = camera.read(timeout=5)
        second = camera.read(after_seq=first.seq, timeout=5)
        assert first.image.shape == (480, 640, 3)
        assert second.t_mono_ns > first.t_mono_ns
        assert camera.state is CameraState.OPEN
    assert camera.state is CameraState.CLOSED
    camera.close()
