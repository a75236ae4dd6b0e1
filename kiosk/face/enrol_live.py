"""Enrolment from the kiosk camera (the maintenance page's "Daftarkan wajah dari kamera kiosk").

A :class:`~kiosk.face.task.CameraTask` on the face service's thread (1:N punching pauses
meanwhile): it takes ``face.enrol_samples`` samples of the one face in front of the camera, each
passing the quality gates of punching and at least ``LIVE_SAMPLE_GAP_S`` after the last, all from
one approach (the face leaving starts again) and all of one person; the liveness engine must call
that approach live (or :class:`~kiosk.face.pipeline.SkipLiveness`, the demo's, records
'skipped'). The samples are stored through :class:`kiosk.face.enroll.Enroller` (its duplicate
check against every other employee, sealing, replacing the employee's earlier templates). No
frame is kept: only the templates reach the database.

Each frame's prompt — the quality gate's ("Mendekat ke kamera"), the liveness challenge's, or the
progress ("Pendaftaran wajah: 2 dari 3 — tahan") — is shown on the kiosk screen through the face
service's prompt subscribers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from core.errors import EnrolmentError, PresensiError
from core.store import roster
from kiosk.camera.base import Frame
from kiosk.face.enroll import LIVE_SAMPLE_GAP_S, Enroller, EnrolSample
from kiosk.face.pipeline import FacePipeline, FrameResult, SkipLiveness
from kiosk.face.quality import Prompt
from kiosk.face.task import FaceTask
from kiosk.liveness.base import LivenessEngine, Verdict

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CameraEnrolResult:
    """How an enrolment from the camera ended; ``message`` is for the page (Bahasa Indonesia)."""

    ok: bool
    message: str
    reason: str  # enrolled | timeout | spoof | refused | unavailable | busy
    samples: int = 0
    templates_added: int = 0
    templates_total: int = 0
    liveness_verdict: str | None = None

    def detail(self) -> dict[str, float | int | str]:
        """Counts and verdicts only (no biometric data), for the page and the audit log."""
        out: dict[str, float | int | str] = {
            "reason": self.reason,
            "samples": self.samples,
            "templates_added": self.templates_added,
            "templates_total": self.templates_total,
        }
        if self.liveness_verdict:
            out["liveness"] = self.liveness_verdict
        return out


def progress_prompt(taken: int, needed: int) -> str:
    return f"Pendaftaran wajah: {taken} dari {needed} — tahan"


class CameraEnrolment(FaceTask[CameraEnrolResult]):
    """Enrol ``employee_id`` (already on the unit) from the faces the camera sees."""

    name = "enrolment"

    def __init__(self, employee_id: str, timeout_s: float, *, samples: int | None = None, replace: bool = True) -> None:
        super().__init__(timeout_s)
        self.employee_id = employee_id
        self.wanted = samples
        self.needed = samples or 1
        self.replace = replace
        self.samples: list[EnrolSample] = []
        self.restarts = 0
        self._last_ns: int | None = None

    def __repr__(self) -> str:
        return f"CameraEnrolment({self.employee_id}, {len(self.samples)}/{self.needed}, {'done' if self.done else 'pending'})"

    def prepare(self, pipeline: FacePipeline) -> None:
        self.needed = self.wanted or pipeline.config.enrol_samples
        employee = roster.get_employee(pipeline.store.conn, self.employee_id)
        if employee is None:
            self.finish(
                CameraEnrolResult(False, f"Pegawai {self.employee_id} tidak ada di perangkat ini — tambahkan dulu", "refused")
            )
            return
        if isinstance(pipeline.liveness, LivenessEngine) and not pipeline.liveness.ready:
            self.finish(
                CameraEnrolResult(
                    False, "Pemeriksaan keaslian wajah tidak siap (model tidak ada) — lihat Diagnostik", "unavailable"
                )
            )

    def _restart(self, why: str) -> None:
        if self.samples:
            self.restarts += 1
            log.info("enrolment of %s starts again: %s", self.employee_id, why)
        self.samples, self._last_ns = [], None

    def new_approach(self) -> None:  # samples start again too
        self._restart("the face left the camera")

    def process(self, frame: Frame, pipeline: FacePipeline) -> FrameResult:
        look = self.look(frame, pipeline)
        if isinstance(look, FrameResult):
            return look
        t, seen, quality, prompt, rgb = look.t, look.faces, look.quality, look.prompt, look.rgb
        config, engine = pipeline.config, pipeline.liveness
        if look.liveness is not None and look.liveness.verdict is Verdict.SPOOF:
            log.warning("enrolment of %s refused by liveness: %s", self.employee_id, look.liveness.reason)
            self.finish(
                CameraEnrolResult(
                    False,
                    "Wajah tidak lolos pemeriksaan keaslian — pendaftaran dibatalkan",
                    "spoof",
                    samples=len(self.samples),
                    liveness_verdict=Verdict.SPOOF.value,
                )
            )
            return FrameResult(t, seen, None, look.track_id, quality)

        if (
            quality.ok
            and len(self.samples) < self.needed
            and (self._last_ns is None or t - self._last_ns >= LIVE_SAMPLE_GAP_S * 1e9)
        ):
            sample = EnrolSample(pipeline.detector.encode(rgb, look.box), quality, "camera")
            first = self.samples[0].encoding if self.samples else sample.encoding
            if float(np.linalg.norm(first - sample.encoding)) >= config.rules.threshold:
                self._restart("a different face")
                prompt = Prompt.ONE_PERSON.value
            else:
                self.samples.append(sample)
                self._last_ns = t
        if len(self.samples) < self.needed:
            return FrameResult(t, seen, prompt or progress_prompt(len(self.samples), self.needed), look.track_id, quality)

        if isinstance(engine, LivenessEngine):
            live = self._liveness
            if live is None or live.verdict is not Verdict.LIVE:
                self._missing = f"liveness undecided: {live.reason if live else 'no sample yet'}"
                return FrameResult(
                    t, seen, (live.prompt if live else None) or prompt or Prompt.LOOK_AT_CAMERA.value, look.track_id, quality
                )
        self._commit(pipeline)
        return FrameResult(t, seen, None, look.track_id, quality)

    def _commit(self, pipeline: FacePipeline) -> None:
        verdict = "skipped" if isinstance(pipeline.liveness, SkipLiveness) else Verdict.LIVE.value
        enroller = Enroller(pipeline.store.conn, pipeline.config, pipeline.clock, detector=pipeline.detector)
        try:
            stored = enroller.commit(self.employee_id, None, self.samples, replace=self.replace)
        except EnrolmentError as exc:
            log.warning("enrolment of %s refused: %s", self.employee_id, exc)
            self.finish(CameraEnrolResult(False, exc.screen_text, "refused", samples=len(self.samples), liveness_verdict=verdict))
            return
        except PresensiError as exc:
            log.error("enrolment of %s not stored: %s", self.employee_id, exc)
            self.finish(CameraEnrolResult(False, exc.screen_text, "unavailable", samples=len(self.samples)))
            return
        self.finish(
            CameraEnrolResult(
                True,
                f"Wajah {stored.name} terdaftar: {stored.templates_added} sampel dari kamera kiosk",
                "enrolled",
                samples=len(self.samples),
                templates_added=stored.templates_added,
                templates_total=stored.templates_total,
                liveness_verdict=verdict,
            )
        )

    def timed_out(self) -> CameraEnrolResult:
        log.info(
            "enrolment of %s timed out with %d of %d samples: %s", self.employee_id, len(self.samples), self.needed, self._missing
        )
        hint = {
            "no face seen": "tidak ada wajah di depan kamera",
            "more than one face": "lebih dari satu wajah terlihat",
        }.get(
            self._missing,
            "wajah belum memenuhi syarat mutu" if self._missing.startswith("quality") else "pemeriksaan keaslian belum selesai",
        )
        return CameraEnrolResult(
            False,
            f"Waktu habis — baru {len(self.samples)} dari {self.needed} sampel ({hint}). Coba lagi.",
            "timeout",
            samples=len(self.samples),
            liveness_verdict=self._liveness.verdict.value if self._liveness else None,
        )

    def failed(self, detail: str) -> CameraEnrolResult:
        log.warning("enrolment of %s failed: %s", self.employee_id, detail)
        return CameraEnrolResult(
            False, "Kamera kiosk tidak dapat dipakai — lihat Dasbor dan Diagnostik", "unavailable", samples=len(self.samples)
        )

    def busy(self, other: str) -> CameraEnrolResult:
        return CameraEnrolResult(False, f"Kamera sedang dipakai ({other}) — coba lagi sebentar lagi", "busy")
