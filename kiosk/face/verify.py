"""Card then face: is the person in front of the camera the card holder, and alive?

A 1:1 verification: the face is compared with the templates of the one employee the card names,
never searched among everyone, so it needs no margin rule and its error rate does not grow with
the number enrolled. It runs on the face service's thread as a :class:`~kiosk.face.task.CameraTask`
(the 1:N pipeline pauses meanwhile) with the pipeline's own detector, tracker, quality gates and
liveness engine:

* one dominant face (a second face of similar size: "Satu orang saja");
* the quality gates of 1:N punching (size, light, centring, sharpness, head pose);
* liveness from the configured engine, or :class:`~kiosk.face.pipeline.SkipLiveness` (the demo:
  verdict ``skipped``); a spoof verdict ends the check;
* ``face.agree_frames`` consecutive probes of one approach under ``face.verify_threshold``: the
  card holder; as many at or over it: someone else;
* nothing decided by ``cards.face_timeout_s``: timeout, with what was missing in ``detail``.

The answer is a :class:`~kiosk.cards.policy.FaceVerification`; the card service records the
punch (method ``card+face``) with its liveness verdict, scores and distance.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt

from core.templates.face import Encoding
from kiosk.camera.base import Frame
from kiosk.cards.policy import FaceOutcome, FaceVerification
from kiosk.face.identify import Gallery
from kiosk.face.pipeline import FacePipeline, FrameResult, SkipLiveness
from kiosk.face.quality import Prompt
from kiosk.face.task import FaceTask
from kiosk.liveness.base import Box, LivenessEngine, LivenessResult, Verdict
from kiosk.privacy.evidence import face_jpeg

log = logging.getLogger(__name__)


def templates_of(gallery: Gallery, employee_id: str) -> npt.NDArray[np.float32]:
    """The (n, 128) templates of one employee in ``gallery`` (n = 0 when none)."""
    rows = [i for i, e in enumerate(gallery.employee_ids) if e == employee_id]
    return gallery.matrix[rows]


def nearest(templates: npt.NDArray[np.float32], probe: Encoding) -> float:
    """The smallest Euclidean distance from ``probe`` to one of ``templates``."""
    return float(np.sqrt(np.min(np.sum((templates - probe) ** 2, axis=1))))


class FaceCheck(FaceTask[FaceVerification]):
    """A 1:1 verification of ``employee_id``; see the module docstring for the rules."""

    name = "card+face"

    def __init__(self, employee_id: str, timeout_s: float) -> None:
        super().__init__(timeout_s)
        self.employee_id = employee_id
        self.templates: npt.NDArray[np.float32] = np.zeros((0, 0), np.float32)
        self.distances: list[float] = []  # the probes of the current approach
        self.matched: float | None = None  # the distance once the card holder is recognised

    def __repr__(self) -> str:
        return f"FaceCheck({self.employee_id}, {'done' if self.done else 'pending'}, frames={self.frames})"

    def prepare(self, pipeline: FacePipeline) -> None:
        self.templates = templates_of(pipeline.gallery, self.employee_id)
        if not len(self.templates):
            self.finish(
                FaceVerification(
                    FaceOutcome.UNAVAILABLE,
                    detail="no face templates for this employee on the unit; enrol the face on the maintenance page",
                )
            )
        elif isinstance(pipeline.liveness, LivenessEngine) and not pipeline.liveness.ready:
            self.finish(
                FaceVerification(
                    FaceOutcome.UNAVAILABLE, detail="the liveness engine is not ready (model missing); see `presensi doctor`"
                )
            )

    def new_approach(self) -> None:  # another approach: its own probes
        self.distances, self.matched = [], None

    def process(self, frame: Frame, pipeline: FacePipeline) -> FrameResult:
        look = self.look(frame, pipeline)
        if isinstance(look, FrameResult):
            return look
        t, seen, quality, prompt, rgb = look.t, look.faces, look.quality, look.prompt, look.rgb
        config, engine = pipeline.config, pipeline.liveness
        if look.liveness is not None and look.liveness.verdict is Verdict.SPOOF:
            log.warning("card then face for %s: liveness refused the face (%s)", self.employee_id, look.liveness.reason)
            self._answer(FaceOutcome.SPOOF, min(self.distances, default=None), look.liveness, "liveness: spoof")
            return FrameResult(t, seen, None, look.track_id, quality)

        if quality.ok and self.matched is None:
            self.distances.append(nearest(self.templates, pipeline.detector.encode(rgb, look.box)))
            recent = self.distances[-config.agree_frames :]
            if len(recent) == config.agree_frames:
                if all(d < config.rules.verify_threshold for d in recent):
                    self.matched = min(recent)
                elif all(d >= config.rules.verify_threshold for d in recent):
                    self._answer(FaceOutcome.MISMATCH, min(recent), self._liveness, "not the card holder")
                    return FrameResult(t, seen, None, look.track_id, quality)

        if self.matched is not None:
            if isinstance(engine, SkipLiveness):
                self._answer(
                    FaceOutcome.MATCH, self.matched, None, f"liveness skipped: {engine.reason}", _photo(frame, look.box, pipeline)
                )
                return FrameResult(t, seen, None, look.track_id, quality)
            if self._liveness is not None and self._liveness.verdict is Verdict.LIVE:
                self._answer(FaceOutcome.MATCH, self.matched, self._liveness, "", _photo(frame, look.box, pipeline))
                return FrameResult(t, seen, None, look.track_id, quality)
            self._missing = f"liveness undecided: {self._liveness.reason if self._liveness else 'no sample yet'}"
            if self._liveness is not None and self._liveness.prompt:
                prompt = self._liveness.prompt
            elif prompt is None:
                prompt = Prompt.LOOK_AT_CAMERA.value
        return FrameResult(t, seen, prompt, look.track_id, quality)

    def _answer(
        self, outcome: FaceOutcome, distance: float | None, liveness: LivenessResult | None, detail: str, photo: bytes = b""
    ) -> None:
        verdict = "skipped" if liveness is None and outcome is FaceOutcome.MATCH else None
        if liveness is not None:
            verdict = liveness.verdict.value
        self.finish(
            FaceVerification(
                outcome,
                distance=distance,
                liveness_verdict=verdict,
                liveness_scores=dict(liveness.scores) if liveness else {},
                detail=detail,
                photo=photo,
            )
        )
        log.info(
            "card then face for %s: %s after %d frames%s",
            self.employee_id,
            outcome.value,
            self.frames,
            "" if distance is None else f", distance {distance:.3f}",
        )

    def timed_out(self) -> FaceVerification:
        live = self._liveness
        return FaceVerification(
            FaceOutcome.TIMEOUT,
            distance=self.matched if self.matched is not None else min(self.distances, default=None),
            liveness_verdict=live.verdict.value if live else None,
            liveness_scores=dict(live.scores) if live else {},
            detail=f"time up: {self._missing}",
        )

    def failed(self, detail: str) -> FaceVerification:
        return FaceVerification(FaceOutcome.UNAVAILABLE, detail=detail)


def _photo(frame: Frame, box: Box, pipeline: FacePipeline) -> bytes:
    """The evidence photo of the matched face when evidence photos are on (the card service keeps
    it with the punch); a failure costs the photo, never the verification."""
    if pipeline.evidence is None:
        return b""
    try:
        return face_jpeg(frame.image, box)
    except Exception:  # never stop the face thread for a photo
        log.exception("evidence photo of a card-then-face match not cut")
        return b""
