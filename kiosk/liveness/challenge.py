"""Active challenge: a random prompt ("Toleh ke kiri", "Toleh ke kanan", "Kedipkan mata") checked
on landmarks, with a planar test that a flat photo cannot pass however it is moved.

Both tests compare each frame after the prompt with a reference frame through a homography fitted
on points that a rigid flat picture carries along exactly (brows, eye corners, mouth):

- **Turn**: the nose tip must move along the eye line in the asked direction (a flat picture turned
  keeps it where it was, since a plane preserves ratios along a line), and it must leave the place
  the homography predicts for it by ``min_parallax`` eye distances: a real nose stands out of the
  eye/mouth plane, a photo's nose lies in it (moved, tilted or bent: a bend is smooth across the
  face, far from the few centimetres a nose stands out).
- **Blink**: the lid gap must fall below ``blink_closed`` of where the homography puts the open
  lids of the reference frame, then come back over ``blink_open``. Tilting a photo shrinks the lid
  gap and the predicted gap alike, so it is no blink.

The deadline runs on the injected clock from the moment the prompt is first issued.
"""

from __future__ import annotations

import collections
import random
from dataclasses import dataclass
from typing import ClassVar, Literal

import cv2
import numpy as np

from core.clock import Clock
from core.config import LivenessConfig
from kiosk.liveness import landmarks as lm
from kiosk.liveness.base import CheckScore, CheckSession, FaceSample, LivenessCheck

Prompt = Literal["left", "right", "blink"]

#: What the screen shows for each prompt (Bahasa Indonesia first).
PROMPT_TEXT: dict[str, str] = {"left": "Toleh ke kiri", "right": "Toleh ke kanan", "blink": "Kedipkan mata"}
#: Direction of the nose tip along the eye line, in image x, for each turn. The camera image is
#: not mirrored: a person turning to their own left moves the nose to the image right.
TURN_SIGN: dict[str, float] = {"left": 1.0, "right": -1.0}

HISTORY = 90  # frames kept per approach (landmarks only)
PRE_PROMPT = 5  # frames before the prompt that may serve as the reference


@dataclass(frozen=True)
class ChallengeSettings:
    prompts: tuple[Prompt, ...] = ("left", "right")
    timeout_s: float = 6.0
    min_turn: float = 0.09
    min_parallax: float = 0.08
    blink_closed: float = 0.6
    blink_open: float = 0.85

    @classmethod
    def from_config(cls, config: LivenessConfig) -> ChallengeSettings:
        return cls(
            prompts=tuple(config.challenge_prompts),
            timeout_s=config.challenge_timeout_s,
            min_turn=config.challenge_min_turn,
            min_parallax=config.challenge_min_parallax,
            blink_closed=config.challenge_blink_closed,
            blink_open=max(config.challenge_blink_open, config.challenge_blink_closed),
        )


def _homography(src: lm.Points, dst: lm.Points) -> np.ndarray | None:
    matrix, _ = cv2.findHomography(src.astype(np.float32), dst.astype(np.float32), 0)
    return matrix


def _apply(matrix: np.ndarray, points: lm.Points) -> lm.Points:
    out: np.ndarray = cv2.perspectiveTransform(points.astype(np.float64).reshape(-1, 1, 2), matrix)
    return out.reshape(-1, 2)


def nose_parallax(reference: lm.Points, current: lm.Points, iod: float, direction: float) -> float:
    """How far (eye-distance units, median over the nose points) the nose has moved ahead of where a
    homography fitted on the eye/mouth plane carries it, along the eye line towards ``direction``
    (+1 image right): a real nose leads the turn; anything flat stays at ~0 give or take noise."""
    plane = list(lm.PLANE_POINTS)
    nose = list(lm.NOSE_POINTS)
    matrix = _homography(reference[plane], current[plane])
    if matrix is None or iod <= 0:
        return 0.0
    predicted = _apply(matrix, reference[nose])
    left, right = lm.eye_centres(current)
    axis = (right - left) / max(float(np.linalg.norm(right - left)), 1e-6)
    along = (current[nose] - predicted) @ axis * direction
    return float(np.median(along) / iod)


def lid_ratio(reference: lm.Points, current: lm.Points) -> float:
    """Lid gap now over the gap the reference's lids would have if nothing but the view changed."""
    still = list(lm.STILL_POINTS)
    matrix = _homography(reference[still], current[still])
    if matrix is None:
        return 1.0
    predicted = lm.eye_openness(_apply(matrix, reference))
    observed = lm.eye_openness(current)
    return observed / predicted if predicted > 0.5 else 1.0


def turn_offset(points: lm.Points) -> float:
    return lm.nose_offset(points)


class ChallengeCheck(LivenessCheck):
    type_key: ClassVar[str] = "challenge"

    def __init__(self, settings: ChallengeSettings, *, clock: Clock, rng: random.Random) -> None:
        self.settings = settings
        self.clock = clock
        self.rng = rng

    def new_session(self) -> ChallengeSession:
        return ChallengeSession(self)


class ChallengeSession(CheckSession):
    """Records landmarks from the first frame; judges only after :meth:`begin` issued a prompt."""

    def __init__(self, check: ChallengeCheck) -> None:
        self._check = check
        self._settings = check.settings
        self._history: collections.deque[lm.Points] = collections.deque(maxlen=HISTORY)
        self.prompt: Prompt | None = None
        self._deadline_ns = 0
        self._reference: lm.Points | None = None
        self._reference_iod = 0.0
        self._start_offset = 0.0
        self._after = 0
        self._passed = False
        self._best_turn = 0.0
        self._best_parallax = 0.0
        self._min_lids = 1.0
        self._closed = False

    @property
    def started(self) -> bool:
        return self.prompt is not None

    @property
    def prompt_text(self) -> str | None:
        return PROMPT_TEXT[self.prompt] if self.prompt else None

    def begin(self, prompt: Prompt | None = None) -> str:
        """Draw a prompt (or take the given one), start the deadline; returns the screen text."""
        if self.prompt is None:
            self.prompt = prompt or self._check.rng.choice(self._settings.prompts)
            self._deadline_ns = self._check.clock.monotonic_ns() + int(self._settings.timeout_s * 1e9)
            recent = list(self._history)[-PRE_PROMPT:]
            if recent:
                self._set_reference(recent)
        assert self.prompt is not None
        return PROMPT_TEXT[self.prompt]

    def _set_reference(self, candidates: list[lm.Points]) -> None:
        if self.prompt == "blink":  # the frame with the most open eyes
            best = max(candidates, key=lambda p: lm.eye_openness(p) / max(lm.inter_ocular(p), 1.0))
        else:  # the frame closest to facing the camera
            best = min(candidates, key=lambda p: abs(turn_offset(p)))
        self._reference = best
        self._reference_iod = lm.inter_ocular(best)
        self._start_offset = turn_offset(best)

    def add(self, sample: FaceSample) -> None:
        if self._passed or not lm.complete(sample.landmarks):
            return
        points = lm.as_array(sample.landmarks)
        self._history.append(points)
        if self.prompt is None:
            return
        if self._reference is None:
            self._set_reference([points])
            return
        self._after += 1
        if self.prompt == "blink":
            self._judge_blink(points)
        else:
            self._judge_turn(points)

    def _judge_turn(self, points: lm.Points) -> None:
        assert self._reference is not None and self.prompt is not None
        turn = (turn_offset(points) - self._start_offset) * TURN_SIGN[self.prompt]
        parallax = nose_parallax(self._reference, points, self._reference_iod, TURN_SIGN[self.prompt])
        self._best_turn = max(self._best_turn, turn)
        if turn >= self._settings.min_turn:
            self._best_parallax = max(self._best_parallax, parallax)
            if parallax >= self._settings.min_parallax:
                self._passed = True

    def _judge_blink(self, points: lm.Points) -> None:
        assert self._reference is not None
        ratio = lid_ratio(self._reference, points)
        self._min_lids = min(self._min_lids, ratio)
        if ratio <= self._settings.blink_closed:
            self._closed = True
        elif self._closed and ratio >= self._settings.blink_open:
            self._passed = True

    def expired(self) -> bool:
        return self.started and not self._passed and self._check.clock.monotonic_ns() >= self._deadline_ns

    def score(self) -> CheckScore | None:
        if self.prompt is None:
            return None
        detail = {"frames": float(self._after)}
        if self.prompt == "blink":
            detail["lids_min"] = round(self._min_lids, 4)
            progress = min(1.0, (1.0 - self._min_lids) / max(1.0 - self._settings.blink_closed, 1e-6))
        else:
            detail["turn"] = round(self._best_turn, 4)
            detail["parallax"] = round(self._best_parallax, 4)
            progress = min(
                max(self._best_turn, 0.0) / self._settings.min_turn,
                max(self._best_parallax, 0.0) / self._settings.min_parallax,
                1.0,
            )
        if self._passed:
            return CheckScore(ChallengeCheck.type_key, 1.0, confident=True, detail=detail)
        if self.expired():
            return CheckScore(ChallengeCheck.type_key, 0.0, confident=True, detail=detail)
        # Not done yet: how far along, never enough to pass.
        return CheckScore(ChallengeCheck.type_key, 0.49 * progress, confident=False, detail=detail)
