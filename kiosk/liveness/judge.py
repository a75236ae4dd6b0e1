"""Judge a file (an image or a video) with the liveness engine: what ``presensi liveness`` runs.

Detection and landmarks come from face_recognition directly (HOG, one upsample), the largest face
of each frame, for the first approach in the file. The engine's clock follows the video's own timestamps, so a challenge deadline means
seconds of video. A still image is fed as repeated frames (a still cannot answer a challenge).
"""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from core.clock import FakeClock
from core.config import LivenessConfig
from core.errors import FaceError, LivenessError
from kiosk.liveness.base import Box, FaceSample, LivenessResult, Verdict
from kiosk.liveness.challenge import Prompt
from kiosk.liveness.engine import build_engine

log = logging.getLogger(__name__)

#: A face absent for longer than this ends the approach: only the first approach in a file is
#: judged (the kiosk's tracker would open a new session for the next person).
APPROACH_GAP_S = 0.5


def largest_face(frame: np.ndarray) -> tuple[Box, dict[str, list[tuple[int, int]]]] | None:
    # late: face_recognition loads only when this runs
    import face_recognition

    rgb = np.ascontiguousarray(frame[:, :, ::-1])
    boxes = face_recognition.face_locations(rgb, 1)
    if not boxes:
        return None
    box = max(boxes, key=lambda b: (b[1] - b[3]) * (b[2] - b[0]))
    marks = face_recognition.face_landmarks(rgb, [box])
    return tuple(int(v) for v in box), (marks[0] if marks else {})  # type: ignore[return-value]


def _frames(path: Path, *, image: bool, repeat: int, max_frames: int) -> tuple[list[np.ndarray], float]:
    if image:
        frame = cv2.imread(str(path))
        if frame is None:
            raise FaceError(f"{path} is not an image OpenCV can read; give a JPEG or PNG")
        return [frame] * repeat, 15.0
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise FaceError(f"{path} is not a video OpenCV can read; give an MP4/AVI file or an image")
    fps = capture.get(cv2.CAP_PROP_FPS) or 15.0
    frames: list[np.ndarray] = []
    while len(frames) < max_frames:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames, fps


def judge_file(
    path: Path,
    config: LivenessConfig,
    *,
    rng: random.Random,
    prompt: Prompt | None = None,
    max_frames: int = 150,
    image: bool = False,
    one_to_one: bool = False,
) -> dict[str, Any]:
    """The verdict on ``path`` and every score, as plain data."""
    clock = FakeClock()
    engine = build_engine(config, clock=clock, rng=rng)
    if not engine.ready:
        raise LivenessError(
            "the liveness model is missing ("
            + "; ".join(engine.problems)
            + "): set liveness.minifasnet_v2 and liveness.minifasnet_v1se, or pass --models"
        )
    frames, fps = _frames(path, image=image, repeat=max(config.texture_frames, config.cues_frames), max_frames=max_frames)
    session = engine.new_session(one_to_one=one_to_one)
    if prompt is not None:
        session.begin_challenge(prompt)
    step = 1.0 / fps
    result = LivenessResult(Verdict.UNDECIDED, {}, reason="no face found")
    with_face = 0
    last_face = 0
    gap_frames = max(int(fps * APPROACH_GAP_S), 1)
    detection: tuple[Box, dict[str, list[tuple[int, int]]]] | None = None
    for index, frame in enumerate(frames):
        clock.advance(step)
        if not image or index == 0:
            detection = largest_face(frame)
        if detection is None:
            if with_face and index - last_face > gap_frames:
                break  # the first approach has ended (the face left for over half a second)
            continue
        with_face += 1
        last_face = index
        session.add(FaceSample(frame, detection[0], detection[1], clock.monotonic_ns()))
        result = session.result()
        if result.verdict is not Verdict.UNDECIDED:
            break
    if result.verdict is Verdict.UNDECIDED and with_face and session.challenge.started:
        # The file ended with the challenge unanswered: judge as the kiosk would at the deadline.
        clock.advance(engine.challenge.settings.timeout_s)
        result = session.result()
    return {
        "file": str(path),
        "verdict": str(result.verdict),
        "reason": result.reason or ("" if with_face else "no face found"),
        "prompt": session.challenge.prompt_text,
        "scores": dict(result.scores),
        "frames_read": len(frames),
        "frames_with_face": with_face,
        "challenge_mode": config.challenge,
        "one_to_one": one_to_one,
    }
