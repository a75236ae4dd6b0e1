"""Camera sources: newest frame only, monotonic timestamps from the injected clock, idempotent close."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.clock import SystemClock
from core.config import CameraConfig
from core.errors import ConfigError, DeviceError
from kiosk.camera import open_camera
from kiosk.camera.base import CameraState
from kiosk.camera.file import FileCamera
from kiosk.camera.sim import SimCamera
from kiosk.camera.v4l2 import V4l2Camera


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for i, shade in enumerate((40, 160)):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((60, 80, 3), shade, np.uint8))
    return tmp_path


def test_image_folder_plays_in_order_holds_and_ends(folder: Path) -> None:
    camera = FileCamera(folder, SystemClock(), fps=60, loop=False, hold_s=2 / 60)
    shades, seq = [], -1
    with camera:
        assert camera.state is CameraState.OPEN and "open" in repr(camera)
        while True:
            try:
                frame = camera.read(after_seq=seq, timeout=2)
            except DeviceError:
                break
            assert frame.seq > seq
            seq = frame.seq
            shades.append(int(frame.image[0, 0, 0]))
        assert camera.state is CameraState.ENDED
    assert shades and set(shades) <= {40, 160} and shades == sorted(shades)
    assert camera.state is CameraState.CLOSED and "closed" in repr(camera)
    camera.close()  # idempotent


def test_capture_keeps_only_the_newest_frame_with_monotonic_times() -> None:
    camera = SimCamera(SystemClock(), width=64, height=48, fps=200)
    with camera:
        first = camera.read(timeout=2)
        arrived = threading.Event()
        # a slow reader: by the time it reads again many frames have passed, and it gets the newest
        while camera.frames_captured < first.seq + 10:
            arrived.wait(0.01)
        later = camera.read(after_seq=first.seq, timeout=2)
        assert later.seq >= first.seq + 10
        assert later.t_mono_ns > first.t_mono_ns
        assert camera.latest() is not None and camera.latest().seq >= later.seq  # type: ignore[union-attr]
    assert camera.state is CameraState.CLOSED


def test_simulator_shows_a_picture_and_fails_like_a_cable() -> None:
    camera = SimCamera(SystemClock(), width=64, height=48, fps=100)
    camera.show(np.full((20, 20, 3), 250, np.uint8))
    with camera:
        frame = camera.read(timeout=2)
        assert frame.image[24, 32, 0] == 250 and frame.image[0, 0, 0] == 110
        camera.fail("kabel lepas")
        with pytest.raises(DeviceError, match="kabel lepas"):
            for _ in range(50):
                frame = camera.read(after_seq=frame.seq, timeout=2)
        assert camera.state is CameraState.FAILED


def test_missing_devices_say_what_to_check(tmp_path: Path) -> None:
    with pytest.raises(DeviceError, match=r"camera\.path"):
        FileCamera(tmp_path / "nothing.mp4", SystemClock()).open()
    with pytest.raises(DeviceError, match="no images"):
        FileCamera(tmp_path, SystemClock()).open()
    with pytest.raises(DeviceError, match="does not exist"):
        V4l2Camera(63, SystemClock()).open()


def test_open_camera_follows_the_config(folder: Path) -> None:
    assert isinstance(open_camera(CameraConfig(source="v4l2"), SystemClock(), hardware="sim"), SimCamera)
    assert isinstance(open_camera(CameraConfig(source="file", path=folder), SystemClock()), FileCamera)
    with pytest.raises(ConfigError):
        open_camera(CameraConfig(source="file"), SystemClock())


def test_video_file_frames(faces_dir: Path) -> None:
    with FileCamera(faces_dir / "short_hamilton_clip.mp4", SystemClock(), fps=60, width=320, height=240) as camera:
        frame = camera.read(timeout=5)
        assert frame.image.shape == (180, 320, 3) and frame.image.dtype == np.uint8
