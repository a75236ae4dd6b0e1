"""The Raspberry Pi camera (libcamera) through picamera2; importable only on a Pi.

picamera2 is a Raspberry Pi OS package (``apt install python3-picamera2``), not on PyPI for
other machines, so it is imported when the camera opens, never at module import. The hardware
test is tests/hardware/test_picamera2_hw.py.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import numpy.typing as npt

from core.clock import Clock
from core.errors import DeviceError
from kiosk.camera.base import Camera

log = logging.getLogger(__name__)


class Picamera2Camera(Camera):
    """A CSI camera module; frames as BGR (picamera2's "RGB888" is B, G, R in memory)."""

    type_key = "picamera2"

    def __init__(self, clock: Clock, *, width: int = 640, height: int = 480, fps: float = 15.0, index: int = 0) -> None:
        super().__init__(clock, fps=fps)
        self.width, self.height, self.index = width, height, index
        self._cam: Any = None

    def describe(self) -> str:
        return f"picamera2:{self.index}"

    def _open_device(self) -> None:
        try:
            from picamera2 import Picamera2  # type: ignore[import-not-found,unused-ignore]
        except ImportError as exc:
            raise DeviceError(
                "picamera2 is not installed; on Raspberry Pi OS run `apt install python3-picamera2`, "
                "elsewhere set camera.source to 'v4l2' or 'file'"
            ) from exc
        try:
            cam = Picamera2(self.index)
            config = cam.create_video_configuration(
                main={"size": (self.width, self.height), "format": "RGB888"},
                controls={"FrameRate": self.fps},
                buffer_count=2,
            )
            cam.configure(config)
            cam.start()
        except (RuntimeError, IndexError, OSError) as exc:
            raise DeviceError(
                f"the Pi camera {self.index} cannot start: {exc}; check the ribbon cable and `rpicam-hello --list-cameras`"
            ) from exc
        self._cam = cam

    def _grab(self) -> npt.NDArray[np.uint8] | None:
        if self._cam is None:
            return None
        image = self._cam.capture_array("main")
        return np.ascontiguousarray(image[:, :, :3], dtype=np.uint8)

    def _close_device(self) -> None:
        cam, self._cam = self._cam, None
        if cam is not None:
            try:
                cam.stop()
            finally:
                cam.close()
