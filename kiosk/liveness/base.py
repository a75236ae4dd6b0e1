"""The contract between the face pipeline and the liveness checks.

The pipeline opens one :class:`LivenessSession` per tracked approach (one person walking up),
feeds it a :class:`FaceSample` for every frame in which the tracked face passed the quality gates,
and asks :meth:`LivenessSession.result` after each sample. Each check is a plugin
(:class:`LivenessCheck`) with its own configuration; the rule that combines their scores is one
function (``kiosk.liveness.decide``).
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import numpy.typing as npt

#: face_recognition's box order: top, right, bottom, left (full-frame pixels).
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class FaceSample:
    """One frame of a tracked face."""

    frame_bgr: npt.NDArray[np.uint8]  # the full frame, BGR, uint8 (never stored, never logged)
    box: Box
    landmarks: Mapping[str, Sequence[tuple[int, int]]]  # face_recognition.face_landmarks, full-frame pixels
    t_mono_ns: int


class Verdict(enum.StrEnum):
    LIVE = "live"
    SPOOF = "spoof"
    UNDECIDED = "undecided"  # not enough evidence yet: keep feeding samples


@dataclass(frozen=True)
class CheckScore:
    """What one check says: ``score`` in [0, 1], 1 = certainly live; ``confident`` when the
    check has seen enough to be relied on; ``detail`` for logs (numbers only, no images)."""

    name: str
    score: float
    confident: bool
    detail: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class LivenessResult:
    verdict: Verdict
    scores: Mapping[str, float]  # every check's score, stored with the punch
    prompt: str | None = None  # a challenge to show ("Toleh ke kiri"), Bahasa Indonesia
    reason: str = ""  # why not live, for the screen and the log


class LivenessCheck(abc.ABC):
    """One independent liveness check; ``type_key`` names it in configuration and scores."""

    type_key: ClassVar[str]

    @abc.abstractmethod
    def new_session(self) -> CheckSession:
        """State for one approach."""


class CheckSession(abc.ABC):
    @abc.abstractmethod
    def add(self, sample: FaceSample) -> None:
        """Take one more frame of the tracked face."""

    @abc.abstractmethod
    def score(self) -> CheckScore | None:
        """The score so far, or None before the check has anything to say."""


class LivenessSession(abc.ABC):
    """All checks for one approach, combined by the configured rule."""

    @abc.abstractmethod
    def add(self, sample: FaceSample) -> None: ...

    @abc.abstractmethod
    def result(self) -> LivenessResult: ...


class LivenessEngine(abc.ABC):
    """Built once from configuration; makes a session per approach."""

    @abc.abstractmethod
    def new_session(self, *, one_to_one: bool = False) -> LivenessSession:
        """State for one approach; ``one_to_one`` when the face only confirms a card (card then
        face), which the policy may judge on the passive checks alone."""

    @property
    @abc.abstractmethod
    def ready(self) -> bool:
        """False when face-only punching must be refused (model missing and challenge-only not allowed)."""
