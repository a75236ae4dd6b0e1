"""A preview source that plays a video file, with face boxes from OpenCV's Haar cascade: the
browser tests' stand-in for a camera with no face pipeline behind it (the product's cameras are
kiosk/camera)."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from core.errors import DeviceError
from kiosk.web.ports import FaceBox, LatestFrame


class HaarBoxes:
    """Face boxes from OpenCV's bundled Haar cascade: enough for a preview source that has no
    face pipeline behind it (the demo's video file). The pipeline's own boxes replace it."""

    def __init__(self) -> None:
        path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise DeviceError(f"cannot load the face cascade {path}; reinstall opencv-python-headless")

    def __call__(self, image: npt.NDArray[np.uint8]) -> tuple[FaceBox, ...]:
        small = cv2.resize(image, None, fx=0.5, fy=0.5) if image.shape[1] > 800 else image
        factor = image.shape[1] / small.shape[1]
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        found = self._cascade.detectMultiScale(gray, scaleFactor=1.2, minNeighbors=5, minSize=(40, 40))
        return tuple(
            FaceBox(int(y * factor), int((x + w) * factor), int((y + h) * factor), int(x * factor)) for (x, y, w, h) in found
        )


class VideoFileFrames(LatestFrame):
    """Plays a video file into the preview at ``fps`` (looping), with boxes from ``boxes``."""

    def __init__(self, path: Path, *, fps: float = 10.0, loop: bool = True, boxes: HaarBoxes | None = None) -> None:
        super().__init__()
        self.path = path
        self.fps = fps
        self.loop = loop
        self._boxes = boxes
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames_read = 0
        self.first_frame = threading.Event()

    def __repr__(self) -> str:
        return f"VideoFileFrames({self.path.name}, fps={self.fps}, frames={self.frames_read})"

    def __enter__(self) -> VideoFileFrames:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            raise DeviceError(f"cannot open the video {self.path}; check camera.path")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(capture,), name="preview-file", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self, capture: cv2.VideoCapture) -> None:
        try:
            while not self._stop.is_set():
                ok, raw = capture.read()
                if not ok:
                    if not self.loop:
                        break
                    capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                    continue
                image = np.asarray(raw, dtype=np.uint8)
                boxes = self._boxes(image) if self._boxes is not None else ()
                self.put(image, boxes)
                self.frames_read += 1
                self.first_frame.set()
                self._stop.wait(1.0 / self.fps)  # pacing playback, like a camera's frame rate
        finally:
            capture.release()
