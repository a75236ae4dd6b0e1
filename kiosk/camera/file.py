"""A video file or a folder of images played as a camera, at a set frame rate, optionally looping.

Used by the demo, the benchmark and tests, and on a unit to replay a recording for a technician.
Each image of a folder stays in view for ``hold_s`` seconds (a person standing at the kiosk);
frames larger than ``width`` × ``height`` are scaled down to fit, as a camera of that size would
deliver them.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
import numpy.typing as npt

from core.clock import Clock
from core.errors import DeviceError
from kiosk.camera.base import Camera, fit_within, to_bgr

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def list_images(folder: Path) -> list[Path]:
    """The images of ``folder``, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def read_image(path: Path) -> npt.NDArray[np.uint8]:
    """An image file as BGR uint8; DeviceError when it cannot be read."""
    # late: cv2 loads only when this runs
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise DeviceError(f"cannot read the image {path}; check that it is a JPEG or PNG file")
    return to_bgr(np.asarray(image, dtype=np.uint8))


class FileCamera(Camera):
    """Frames from a video file or an image folder."""

    type_key = "file"
    paced = True

    def __init__(
        self,
        path: Path,
        clock: Clock,
        *,
        fps: float = 15.0,
        loop: bool = True,
        hold_s: float = 1.0,
        width: int = 3840,
        height: int = 2160,
    ) -> None:
        super().__init__(clock, fps=fps)
        self.path = Path(path)
        self.loop = loop
        self.hold_frames = max(1, round(hold_s * fps))
        self.width, self.height = width, height
        self._video: object | None = None
        self._images: list[Path] = []
        self._image_index = 0
        self._held = 0
        self._current: npt.NDArray[np.uint8] | None = None
        self._stepped = False
        self._advance = threading.Event()

    def describe(self) -> str:
        return f"file:{self.path.name}"

    def hold_each_image(self) -> None:
        """Keep each image of a folder in view until :meth:`advance` is called, instead of for
        ``hold_s``: a script then moves on when the pipeline has judged the picture, so a slow
        machine is slower, never different (``presensi demo --once``)."""
        self._stepped = True

    def advance(self) -> None:
        """Show the next image at the next frame (stepped mode)."""
        self._advance.set()

    @property
    def current_image(self) -> npt.NDArray[np.uint8] | None:
        """The image in view now (the very array the frames carry), or None before the first."""
        return self._current

    def _open_device(self) -> None:
        # late: cv2 loads only when this runs
        import cv2

        if self.path.is_dir():
            self._images = list_images(self.path)
            if not self._images:
                raise DeviceError(f"{self.path} holds no images (.jpg, .png); set camera.path to a video or an image folder")
            self._image_index, self._held, self._current = 0, 0, None
            return
        if not self.path.is_file():
            raise DeviceError(f"{self.path} does not exist; set camera.path to a video file or an image folder")
        video = cv2.VideoCapture(str(self.path))
        if not video.isOpened():
            raise DeviceError(f"cannot open the video {self.path}; check that OpenCV can decode it (mp4/H.264, avi/MJPEG)")
        self._video = video

    def _grab(self) -> npt.NDArray[np.uint8] | None:
        if self._images:
            return self._next_image()
        return self._next_video_frame()

    def _next_image(self) -> npt.NDArray[np.uint8] | None:
        if self._stepped and self._current is not None:
            if not self._advance.is_set():
                return self._current
            self._advance.clear()
        elif self._current is not None and self._held < self.hold_frames:
            self._held += 1
            return self._current
        if self._image_index >= len(self._images):
            if not self.loop:
                return None
            self._image_index = 0
        path = self._images[self._image_index]
        self._image_index += 1
        self._current = fit_within(read_image(path), self.width, self.height)
        self._held = 1
        return self._current

    def _next_video_frame(self) -> npt.NDArray[np.uint8] | None:
        # late: cv2 loads only when this runs
        import cv2

        video = self._video
        if video is None:
            return None
        ok, image = video.read()  # type: ignore[attr-defined]
        if not ok:
            if not self.loop:
                return None
            video.set(cv2.CAP_PROP_POS_FRAMES, 0)  # type: ignore[attr-defined]
            ok, image = video.read()  # type: ignore[attr-defined]
            if not ok:
                raise DeviceError(f"the video {self.path} has no readable frames")
        return fit_within(to_bgr(np.asarray(image, dtype=np.uint8)), self.width, self.height)

    def _close_device(self) -> None:
        if self._video is not None:
            self._video.release()  # type: ignore[attr-defined]
            self._video = None
        self._current = None


def read_video_frames(path: Path, *, limit: int | None = None) -> list[npt.NDArray[np.uint8]]:
    """Every frame of a video (BGR), for benchmarks that replay the same frames twice."""
    # late: cv2 loads only when this runs
    import cv2

    video = cv2.VideoCapture(str(path))
    if not video.isOpened():
        raise DeviceError(f"cannot open the video {path}")
    frames: list[npt.NDArray[np.uint8]] = []
    try:
        while limit is None or len(frames) < limit:
            ok, image = video.read()
            if not ok:
                break
            frames.append(np.asarray(image, dtype=np.uint8))
    finally:
        video.release()
    return frames


def video_fps(path: Path, default: float = 30.0) -> float:
    """The frame rate a video file declares (``default`` when it declares none)."""
    # late: cv2 loads only when this runs
    import cv2

    video = cv2.VideoCapture(str(path))
    try:
        fps = float(video.get(cv2.CAP_PROP_FPS) or 0.0)
    finally:
        video.release()
    return fps if fps > 0 else default
