"""A USB or CSI camera through V4L2, read with OpenCV."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import numpy.typing as npt

from core.clock import Clock
from core.errors import DeviceError
from kiosk.camera.base import Camera, to_bgr

log = logging.getLogger(__name__)


class V4l2Camera(Camera):
    """``/dev/videoN`` through OpenCV's V4L2 backend; the driver's own queue is kept at one buffer."""

    type_key = "v4l2"

    def __init__(self, device: int, clock: Clock, *, width: int = 640, height: int = 480, fps: float = 15.0) -> None:
        super().__init__(clock, fps=fps)
        self.device = device
        self.width, self.height = width, height
        self._capture: object | None = None

    @property
    def node(self) -> Path:
        return Path(f"/dev/video{self.device}")

    def describe(self) -> str:
        return f"v4l2:{self.node}"

    def _open_device(self) -> None:
        # late: cv2 loads only when this runs
        import cv2

        if not self.node.exists():
            raise DeviceError(f"{self.node} does not exist; check the camera's USB cable, or set camera.device")
        capture = cv2.VideoCapture(self.device, cv2.CAP_V4L2)
        if not capture.isOpened():
            raise DeviceError(f"cannot open {self.node}; is another program using the camera? (check with `fuser {self.node}`)")
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        capture.set(cv2.CAP_PROP_FPS, self.fps)
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        self._capture = capture
        log.info(
            "v4l2 %s: asked %dx%d@%g, got %dx%d@%g",
            self.node,
            self.width,
            self.height,
            self.fps,
            int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            capture.get(cv2.CAP_PROP_FPS),
        )

    def _grab(self) -> npt.NDArray[np.uint8] | None:
        capture = self._capture
        if capture is None:
            return None
        ok, image = capture.read()  # type: ignore[attr-defined]
        if not ok or image is None:
            raise DeviceError(f"{self.node} stopped delivering frames; check the cable and the power supply")
        return to_bgr(np.asarray(image, dtype=np.uint8))

    def _close_device(self) -> None:
        if self._capture is not None:
            self._capture.release()  # type: ignore[attr-defined]
            self._capture = None
