"""Camera preview for the kiosk screen: frames from a :class:`FrameSource` as JPEG with the
face boxes drawn.

The preview is shown on the kiosk's own screen only; frames are never stored or logged.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
import numpy.typing as npt

from core.errors import DeviceError
from kiosk.web.ports import PreviewFrame

log = logging.getLogger(__name__)

BOX_COLOURS = {"ok": (80, 200, 60), "tracking": (0, 190, 255), "refused": (60, 60, 230)}  # BGR


def render_jpeg(frame: PreviewFrame, *, max_width: int = 640, quality: int = 75) -> bytes:
    """The frame mirrored (people expect a mirror), scaled to ``max_width``, boxes drawn, as JPEG."""
    h, w = frame.image.shape[:2]
    scale = min(1.0, max_width / w)
    image: npt.NDArray[np.uint8] = frame.image
    if scale < 1.0:
        image = np.asarray(cv2.resize(image, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA), dtype=np.uint8)
    image = np.ascontiguousarray(cv2.flip(image, 1), dtype=np.uint8)
    width = image.shape[1]
    for box in frame.boxes:
        left, right = width - int(box.right * scale), width - int(box.left * scale)
        colour = BOX_COLOURS.get(box.state, BOX_COLOURS["tracking"])
        cv2.rectangle(image, (left, int(box.top * scale)), (right, int(box.bottom * scale)), colour, 3)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise DeviceError("the preview frame could not be encoded as JPEG")
    return bytes(buf)
