"""One frame at a time: detect → track → quality → liveness → identify → decide → punch.

:class:`FacePipeline` is synchronous and owns no thread (the service runs it on one); given a
frame it returns a :class:`FrameResult` with the prompt to show and any :class:`FaceAttempt` made
in that frame. A decision is made once per approach (track): accepted (a punch committed through
the store), duplicate ("Sudah presensi pukul 07:42"), unknown, spoof, or refused with a reason.

Liveness comes from an injected :class:`kiosk.liveness.base.LivenessEngine`. The only way to
punch without it is to pass :class:`SkipLiveness` explicitly (the demo does, on photos from disk):
the pipeline then logs a warning and every punch records ``liveness_verdict = 'skipped'``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import cv2
import numpy as np

from core.admission import Admit, no_schedule, refusal, request_fields, status_text
from core.clock import Clock, local_time, zone_abbreviation
from core.config import FaceConfig
from core.errors import PresensiError
from core.store.punches import Punch, PunchRequest, PunchStore
from kiosk.camera.base import Frame
from kiosk.face.attempt import FaceAttempt, Outcome
from kiosk.face.detect import FaceDetector, make_detector, to_rgb
from kiosk.face.identify import Gallery, Match
from kiosk.face.quality import Prompt, Quality, assess
from kiosk.face.track import Track, Tracker
from kiosk.liveness.base import Box, FaceSample, LivenessEngine, LivenessResult, Verdict

log = logging.getLogger(__name__)

#: Shown when a card-then-face employee shows only their face (cards.policy / employees.card_policy).
CARD_FIRST_TEXT = "Tempelkan kartu, lalu lihat ke kamera"


#: (punch, frame BGR, face box) → whether a photo was kept; called after a face punch committed.
EvidenceHook = Callable[[Punch, np.ndarray, Box], bool]

#: After "Wajah tidak dikenali", how long before the same approach is probed again.
UNKNOWN_RETRY_S = 1.0

STAGES = ("capture", "prepare", "detection", "landmarks", "quality", "liveness", "encoding", "matching", "commit")


@dataclass(frozen=True)
class SkipLiveness:
    """Punch without any liveness check, recording verdict 'skipped'. Only for photos from disk
    (demo, tests of identification); ``reason`` is logged and shown in the decision."""

    reason: str


@dataclass(frozen=True)
class FrameResult:
    t_mono_ns: int
    faces: int
    prompt: str | None = None
    track_id: int | None = None
    quality: Quality | None = None
    decisions: tuple[FaceAttempt, ...] = ()
    timings_ms: Mapping[str, float] = field(default_factory=dict)


class StageStats:
    """Total time and count per stage, for health and the benchmark."""

    def __init__(self) -> None:
        self.total_s: dict[str, float] = dict.fromkeys(STAGES, 0.0)
        self.count: dict[str, int] = dict.fromkeys(STAGES, 0)

    def add(self, stage: str, seconds: float) -> None:
        self.total_s[stage] = self.total_s.get(stage, 0.0) + seconds
        self.count[stage] = self.count.get(stage, 0) + 1

    def mean_ms(self) -> dict[str, float]:
        return {s: round(self.total_s[s] / self.count[s] * 1000, 3) for s in self.total_s if self.count.get(s)}


class FacePipeline:
    """The face pipeline of one kiosk; not thread-safe (one thread drives it)."""

    def __init__(
        self,
        config: FaceConfig,
        *,
        store: PunchStore,
        gallery: Gallery,
        liveness: LivenessEngine | SkipLiveness,
        clock: Clock,
        detector: FaceDetector | None = None,
        classify: Admit = no_schedule,
        card_first: Callable[[str], bool] = lambda _employee_id: False,
        evidence: EvidenceHook | None = None,
    ) -> None:
        """``card_first(employee_id)``: that employee's policy is card then face (1:1), so their
        face alone does not punch; the screen asks for the card first. ``evidence(punch, frame,
        box)`` keeps a photo of each face punch, called by :meth:`keep_evidence` after the decision
        was shown (``kiosk.privacy.evidence``)."""
        self.config = config
        self.store = store
        self.gallery = gallery
        self.liveness = liveness
        self.clock = clock
        self.detector = detector or make_detector(config)
        self.classify = classify
        self.card_first = card_first
        self.evidence = evidence
        self._evidence_due: list[tuple[Punch, np.ndarray, Box]] = []
        self.tracker = Tracker(lost_after_s=config.track_lost_s, agree_frames=config.agree_frames)
        self.stats = StageStats()
        self.frames = 0
        self.encodings = 0
        self._since_full = config.redetect_frames  # the first frame gets a full detection
        self._recent: dict[str, datetime] = {}
        if isinstance(liveness, SkipLiveness):
            log.warning("face punching WITHOUT liveness checks (%s): punches record verdict 'skipped'", liveness.reason)

    def __repr__(self) -> str:
        mode = "skipped" if isinstance(self.liveness, SkipLiveness) else type(self.liveness).__name__
        return f"FacePipeline({self.gallery!r}, liveness={mode}, {self.tracker!r})"

    def set_gallery(self, gallery: Gallery) -> None:
        """Use a new gallery from the next probe on (after enrolment or a roster update)."""
        self.gallery = gallery

    @contextmanager
    def _stage(self, name: str, timings: dict[str, float]) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            timings[name] = timings.get(name, 0.0) + elapsed * 1000
            self.stats.add(name, elapsed)

    # -- one frame -------------------------------------------------------------------------

    def process(self, frame: Frame) -> FrameResult:
        """Run one frame through the pipeline."""
        self.frames += 1
        t = frame.t_mono_ns
        timings: dict[str, float] = {}
        with self._stage("prepare", timings):
            rgb = to_rgb(frame.image)
        with self._stage("detection", timings):
            seen = self.follow(rgb, t)
        if not seen:
            return FrameResult(t, 0, timings_ms=timings)
        dominant = max(seen, key=lambda tr: tr.area)
        crowded = any(tr is not dominant and tr.area >= self.config.dominance_ratio * dominant.area for tr in seen)
        if dominant.decision is not None and not self._may_retry(dominant, t):
            # this approach is decided: the screen keeps showing its decision
            return FrameResult(t, len(seen), None, dominant.id, timings_ms=timings)
        if crowded:
            return FrameResult(t, len(seen), Prompt.ONE_PERSON.value, dominant.id, timings_ms=timings)
        decisions, prompt, quality = self._judge(frame, rgb, dominant, timings)
        return FrameResult(t, len(seen), prompt, dominant.id, quality, tuple(decisions), timings)

    def _may_retry(self, track: Track, t: int) -> bool:
        """An 'unknown' approach keeps trying (a person turned at first may face the camera
        later), one encoding per ``UNKNOWN_RETRY_S`` at most, until the decision timeout."""
        decision = track.decision
        if decision is None or decision.outcome is not Outcome.UNKNOWN:
            return False
        if track.age_s(t) > self.config.decision_timeout_s:
            return False
        return t >= int(track.extra.get("retry_at_ns", 0))

    def follow(self, rgb: np.ndarray, t: int) -> list[Track]:
        """Find and track the faces of one frame (RGB, taken at ``t``); returns the tracks seen in it
        and ends those gone too long. The modes that borrow the camera (card then face, enrolment)
        call it too, so an approach they handled keeps its track when the pipeline takes over."""
        seen = self._detect(rgb, t)
        self.tracker.expire(t)
        return seen

    def hold(self, reason: str, t: int) -> None:
        """The faces now in view were handled by another mode (card then face, enrolment): their
        approach makes no 1:N decision; a face that leaves and comes back is judged as usual."""
        for track in self.tracker.tracks:
            track.decision = FaceAttempt(
                Outcome.REFUSED, "", track.id, reason=reason, t_first_seen_ns=track.first_seen_ns, t_decided_ns=t
            )

    def _detect(self, rgb: np.ndarray, t: int) -> list[Track]:
        tracks = self.tracker.tracks
        self._since_full += 1
        if not tracks or self._since_full >= self.config.redetect_frames or any(tr.missed for tr in tracks):
            self._since_full = 0
            return self.tracker.update(self.detector.detect(rgb), t)
        seen = []
        for track in tracks:
            box = self.detector.detect_near(rgb, track.box)
            self.tracker.refresh(track, box, t)
            if box is not None:
                seen.append(track)
        return seen

    def _judge(
        self, frame: Frame, rgb: np.ndarray, track: Track, timings: dict[str, float]
    ) -> tuple[list[FaceAttempt], str | None, Quality | None]:
        t = frame.t_mono_ns
        with self._stage("landmarks", timings):
            landmarks = self.detector.landmarks(rgb, track.box)
        with self._stage("quality", timings):
            gray = np.asarray(cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
            quality = assess(gray, track.box, landmarks, self.config)
        track.last_quality = quality
        prompt: str | None = quality.prompt.value if quality.prompt else None

        result: LivenessResult | None = None
        if isinstance(self.liveness, LivenessEngine):
            if not self.liveness.ready:
                return (
                    [
                        self._decide(
                            track, t, Outcome.REFUSED, "liveness_unavailable", "Presensi wajah tidak tersedia — gunakan kartu"
                        )
                    ],
                    None,
                    quality,
                )
            if quality.for_liveness:
                with self._stage("liveness", timings):
                    if track.liveness is None:
                        track.liveness = self.liveness.new_session()
                    track.liveness.add(FaceSample(frame.image, track.box, landmarks, t))
                    result = track.liveness.result()
                if result.verdict is Verdict.SPOOF:
                    log.warning("liveness refused track %d: %s", track.id, result.reason)
                    return (
                        [
                            self._decide(
                                track,
                                t,
                                Outcome.SPOOF,
                                "liveness_spoof",
                                "Wajah tidak lolos pemeriksaan keaslian",
                                liveness=result,
                            )
                        ],
                        None,
                        quality,
                    )

        if quality.ok and track.voter.agreed is None and not track.voter.agreed_unknown:
            with self._stage("encoding", timings):
                encoding = self.detector.encode(rgb, track.box, landmarks)
            track.encodings += 1
            self.encodings += 1
            with self._stage("matching", timings):
                match = self.gallery.identify(encoding, threshold=self.config.rules.threshold, margin=self.config.rules.margin)
            if match.accepted or abs(quality.metrics.get("yaw_deg", 0.0)) <= self.config.frontal_limit_deg:
                track.voter.add(match)
            else:
                # A turned face that matches nobody may be an employee not yet facing the camera:
                # no vote either way (it breaks any run of matches) and no "unknown" verdict.
                track.voter.history.clear()
                prompt = Prompt.FACE_FORWARD.value

        if track.voter.agreed_unknown:
            last = track.voter.history[-1]
            track.voter.history.clear()
            track.extra["retry_at_ns"] = t + int(UNKNOWN_RETRY_S * 1e9)
            if track.decision is not None:  # already told "unknown": say it once per approach
                return [], None, quality
            return (
                [self._decide(track, t, Outcome.UNKNOWN, last.reason or "no_match", "Wajah tidak dikenali", match=last)],
                None,
                quality,
            )
        agreed = track.voter.agreed
        if agreed is not None:
            if isinstance(self.liveness, SkipLiveness):
                with self._stage("commit", timings):
                    decision = self._commit(track, frame, agreed, "skipped", {})
                return [decision], None, quality
            if result is not None and result.verdict is Verdict.LIVE:
                with self._stage("commit", timings):
                    decision = self._commit(track, frame, agreed, Verdict.LIVE.value, result.scores)
                return [decision], None, quality
            if result is not None and result.prompt:
                prompt = result.prompt
            elif prompt is None:
                prompt = Prompt.LOOK_AT_CAMERA.value
        if track.age_s(t) > self.config.decision_timeout_s:
            why = (result.reason if result else "") or (quality.reason if not quality.ok else "")
            return (
                [
                    self._decide(
                        track,
                        t,
                        Outcome.REFUSED,
                        f"timeout:{why}" if why else "timeout",
                        "Waktu habis — coba lagi",
                        liveness=result,
                    )
                ],
                None,
                quality,
            )
        return [], prompt, quality

    # -- decisions -------------------------------------------------------------------------

    def _decide(
        self,
        track: Track,
        t: int,
        outcome: Outcome,
        reason: str,
        message: str,
        *,
        match: Match | None = None,
        liveness: LivenessResult | None = None,
        at: str | None = None,
        zone_abbr: str | None = None,
    ) -> FaceAttempt:
        show_identity = outcome in (Outcome.ACCEPTED, Outcome.DUPLICATE)
        decision = FaceAttempt(
            outcome=outcome,
            message=message,
            track_id=track.id,
            employee_id=match.employee_id if match and show_identity else None,
            name=match.name if match and show_identity else None,
            reason=reason,
            distance=match.distance if match else None,
            margin=match.margin if match else None,
            liveness_verdict=liveness.verdict.value if liveness else None,
            liveness_scores=dict(liveness.scores) if liveness else {},
            t_first_seen_ns=track.first_seen_ns,
            t_decided_ns=t,
            encodings=track.encodings,
            local_time=at,
            zone_abbr=zone_abbr,
        )
        track.decision = decision
        log.info(
            "track %d: %s (%s) after %.0f ms, %d encodings", track.id, outcome.value, reason, decision.latency_ms, track.encodings
        )
        return decision

    def _commit(self, track: Track, frame: Frame, match: Match, verdict: str, scores: Mapping[str, float]) -> FaceAttempt:
        assert match.employee_id is not None
        t = frame.t_mono_ns
        employee = match.employee_id
        name = match.name or employee
        zone = self.store.zone
        abbr = zone_abbreviation(zone)
        now = self.clock.now()
        last = self.store.repeats_last(employee, now, self.config.duplicate_interval_s)
        if last is not None:
            at = local_time(last.at, zone).strftime("%H:%M")
            return self._decide(
                track, t, Outcome.DUPLICATE, "duplicate", f"Sudah presensi pukul {at} {abbr}", match=match, at=at, zone_abbr=abbr
            )
        if self.card_first(employee):
            return self._decide(track, t, Outcome.REFUSED, "card_first", CARD_FIRST_TEXT, match=match)
        admitted = self.classify(employee, now)
        refused = refusal(admitted)
        if refused is not None:  # event mode: not a participant here, already counted, …
            return self._decide(track, t, Outcome.REFUSED, refused[0], refused[1], match=match)
        try:
            punch = self.store.record(
                PunchRequest(
                    employee,
                    "face",
                    **request_fields(admitted),
                    liveness_verdict=verdict,
                    liveness_scores=dict(scores),
                    match_distance=match.distance,
                )
            )
        except PresensiError as exc:
            log.error("punch for track %d not recorded: %s", track.id, exc)
            return self._decide(track, t, Outcome.REFUSED, "store_error", exc.screen_text, match=match)
        if self.evidence is not None:  # kept by keep_evidence(), once the decision is on the screen
            self._evidence_due.append((punch, frame.image, track.box))
        at = local_time(punch.at, zone).strftime("%H:%M")
        decision = FaceAttempt(
            outcome=Outcome.ACCEPTED,
            message=f"Terima kasih, {name} — tercatat pukul {at} {abbr}",
            track_id=track.id,
            employee_id=employee,
            name=name,
            punch=punch,
            reason="",
            distance=match.distance,
            margin=match.margin,
            liveness_verdict=verdict,
            liveness_scores=dict(scores),
            local_time=at,
            zone_abbr=abbr,
            t_first_seen_ns=track.first_seen_ns,
            t_decided_ns=t,
            encodings=track.encodings,
            status_text=status_text(admitted),
        )
        track.decision = decision
        log.info("track %d: punch seq %d after %.0f ms, %d encodings", track.id, punch.seq, decision.latency_ms, track.encodings)
        return decision

    def keep_evidence(self) -> int:
        """Hand the punches committed since the last call to the evidence hook (the service calls
        this after showing the decisions, so the photo's write never delays "Terima kasih").
        A failing hook is logged and never touches the punch. Returns the photos kept."""
        due, self._evidence_due = self._evidence_due, []
        kept = 0
        for punch, image, box in due:
            assert self.evidence is not None
            try:
                kept += bool(self.evidence(punch, image, box))
            except Exception:  # a photo must never cost a punch or the face thread
                log.exception("evidence photo of punch seq %d not kept (the punch is recorded)", punch.seq)
        return kept
