"""The face service: camera → pipeline → store on a thread of its own.

``presensi run`` and the demo compose it: ``FaceService(config, store, camera, liveness, clock)``,
``subscribe(callback)`` for decisions (the screen, the buzzer), ``subscribe_prompts(callback)``
for prompt changes, then ``start()`` and ``stop()``. Health of the parts ``camera`` and ``face``
is reported through :mod:`core.health` every ``health_interval_s`` and on every error. The
gallery is reloaded when the templates or employees in the database change (an enrolment on the
maintenance page, a roster pull by the sync process).

Two modes borrow the camera from 1:N punching, each a :class:`~kiosk.face.task.CameraTask` run on
the service thread while its caller blocks: :meth:`FaceService.verify_face` (card then face, a 1:1
check for the card service) and :meth:`FaceService.enrol` (enrolment from the kiosk camera for the
maintenance page). While one runs nobody is punched 1:N, and the approach it handled makes no 1:N
decision afterwards (the card holder is not punched twice, a face just enrolled is not punched).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from core import health
from core.admission import Admit, no_schedule
from core.clock import Clock
from core.config import KioskConfig
from core.errors import DeviceError, DeviceTimeout, PresensiError
from core.store.cards import CardPolicy
from core.store.punches import PunchStore
from core.store.roster import gallery_version
from kiosk.camera.base import Camera, CameraState, Frame
from kiosk.cards.policy import FaceVerification, card_first_rule
from kiosk.face.attempt import FaceAttempt
from kiosk.face.detect import FaceDetector
from kiosk.face.enrol_live import CameraEnrolment, CameraEnrolResult
from kiosk.face.identify import Gallery, unit_gallery
from kiosk.face.lookalikes import record_lookalikes
from kiosk.face.pipeline import FacePipeline, FrameResult, SkipLiveness
from kiosk.face.task import CameraTask
from kiosk.face.verify import FaceCheck
from kiosk.liveness.base import LivenessEngine
from kiosk.privacy.evidence import EvidenceKeeper

log = logging.getLogger(__name__)

DecisionCallback = Callable[[FaceAttempt], None]
PromptCallback = Callable[[str | None], None]
R = TypeVar("R")

#: A caller of a camera task gives up this long (real time) after the task's own timeout, in case
#: the service thread is stuck (a camera driver hanging): the task's deadline normally ends it.
TASK_GRACE_S = 5.0
#: While some templates cannot be opened (the key is missing or restored later), the gallery is
#: loaded again this often, so a restored key takes effect without a restart.
GALLERY_RETRY_S = 60.0


def gallery_signature(store: PunchStore) -> tuple[object, ...]:
    """Changes whenever templates or employees change. Read-only."""
    return gallery_version(store.conn)


class FaceService:
    """Runs the face pipeline on camera frames until stopped."""

    def __init__(
        self,
        config: KioskConfig,
        store: PunchStore,
        camera: Camera,
        liveness: LivenessEngine | SkipLiveness,
        clock: Clock,
        *,
        detector: FaceDetector | None = None,
        classify: Admit = no_schedule,
        health_interval_s: float = 5.0,
        reopen_after_s: float = 3.0,
    ) -> None:
        self.config = config
        self.store = store
        self.camera = camera
        self.clock = clock
        self.health_interval_s = health_interval_s
        self.reopen_after_s = reopen_after_s
        self._signature = gallery_signature(store)
        self._gallery_loaded_ns = clock.monotonic_ns()
        self.pipeline = FacePipeline(
            config.face,
            store=store,
            gallery=self._load_gallery(),
            liveness=liveness,
            clock=clock,
            detector=detector,
            classify=classify,
            card_first=card_first_rule(store.conn, CardPolicy(config.cards.policy)),
            evidence=EvidenceKeeper(store.conn, clock) if config.privacy.evidence_photos else None,
        )
        self._decision_callbacks: list[DecisionCallback] = []
        self._frame_callbacks: list[Callable[[Frame, FrameResult], None]] = []
        self._prompt_callbacks: list[PromptCallback] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_prompt: str | None = None
        self.last_error: str | None = None
        self.decisions = 0
        self.frames = 0
        self._window_start = time.monotonic()
        self._window_frames = 0
        self._task: CameraTask[Any] | None = None
        self._task_lock = threading.Lock()
        self.tasks_done = 0

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"FaceService({state}, {self.camera!r}, {self.pipeline!r}, decisions={self.decisions})"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def subscribe(self, callback: DecisionCallback) -> None:
        """Call ``callback(decision)`` for every decision (on the service thread: keep it short)."""
        self._decision_callbacks.append(callback)

    def subscribe_frames(self, callback: Callable[[Frame, FrameResult], None]) -> None:
        """Call ``callback(frame, result)`` after every processed frame (the screen's preview).
        The frame is the camera's own image: show it, never store or log it."""
        self._frame_callbacks.append(callback)

    def subscribe_prompts(self, callback: PromptCallback) -> None:
        """Call ``callback(prompt)`` whenever the prompt to show changes (None: nothing to say)."""
        self._prompt_callbacks.append(callback)

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="face-service", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread and close the camera; safe to call twice. A waiting task is answered."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
        with self._task_lock:
            task, self._task = self._task, None
        if task is not None:
            task.finish(task.failed("the face service stopped"))
        self.camera.close()

    # -- modes that borrow the camera ---------------------------------------------------------

    def verify_face(self, employee_id: str, *, timeout_s: float) -> FaceVerification:
        """Card then face (a :class:`kiosk.cards.policy.FaceVerifier`): is the person in front of
        the camera ``employee_id``, alive? Blocks until the answer or ``timeout_s``."""
        return self._run_task(FaceCheck(employee_id, timeout_s))

    def enrol(self, employee_id: str, timeout_s: float, *, samples: int | None = None) -> CameraEnrolResult:
        """Enrol ``employee_id`` from the face in front of the camera (``face.enrol_samples``
        samples unless ``samples``); replaces their earlier templates. Blocks until done or ``timeout_s``."""
        return self._run_task(CameraEnrolment(employee_id, timeout_s, samples=samples))

    @property
    def busy_with(self) -> str | None:
        """The name of the camera task running now, if any."""
        with self._task_lock:
            task = self._task
        return task.name if task is not None and not task.done else None

    def _run_task(self, task: CameraTask[R]) -> R:
        if not self.running:
            return task.failed("the face service is not running")
        with self._task_lock:
            other = self._task
            if other is not None and not other.done:
                return task.busy(other.name)
            self._task = task
        result = task.wait(task.timeout_s + TASK_GRACE_S)
        if result is None:
            log.error("the face service gave no answer to %r in time", task)
            task.finish(task.failed("the face service gave no answer in time; see the camera's health"))
            result = task.result
        assert result is not None
        return result

    def _active_task(self) -> CameraTask[Any] | None:
        """The task to feed frames to (started here, on the service thread), or None."""
        with self._task_lock:
            task = self._task
        if task is None:
            return None
        if task.deadline_ns is None and not task.done:
            self._maybe_reload_gallery()  # the templates as they are now (an enrolment moments ago)
            task.begin(self.pipeline, self.clock.monotonic_ns())
            log.info("camera task started: %r", task)
        if not task.done and task.expired(self.clock.monotonic_ns()):
            task.finish(task.timed_out())
        if task.done:
            self._end_task(task)
            return None
        return task

    def _end_task(self, task: CameraTask[Any]) -> None:
        with self._task_lock:
            if self._task is task:
                self._task = None
        self.tasks_done += 1
        self.pipeline.hold(f"handled:{task.name}", self.clock.monotonic_ns())
        self._set_prompt(None)
        self._maybe_reload_gallery()  # after an enrolment: identified from the next approach on

    def _fail_task(self, task: CameraTask[Any] | None, detail: str) -> None:
        if task is not None:
            task.finish(task.failed(detail))
            self._end_task(task)

    def _task_frame(self, task: CameraTask[Any], frame: Frame) -> FrameResult:
        try:
            result = task.process(frame, self.pipeline)
        except PresensiError as exc:
            self._fault("face", str(exc), health.Health.WARN)
            task.finish(task.failed(str(exc)))
            result = FrameResult(frame.t_mono_ns, 0)
        if task.done:
            self._end_task(task)
        return result

    def __enter__(self) -> FaceService:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        last_seq = -1
        next_health = 0.0
        while not self._stop.is_set():
            if time.monotonic() >= next_health:
                self._report_health()
                self._maybe_reload_gallery()
                next_health = time.monotonic() + self.health_interval_s
            task = self._active_task()
            if self.camera.state is not CameraState.OPEN:
                if self.camera.state is CameraState.FAILED and self.camera.last_error:
                    # failed between two reads: the failure reaches health before the reopen hides it
                    self._fault("camera", self.camera.last_error, health.Health.FAIL)
                if not self._open_camera():
                    self._fail_task(task, f"camera {self.camera.describe()} cannot be opened: {self.last_error}")
                    continue
                last_seq = -1
            try:
                frame = self.camera.read(after_seq=last_seq, timeout=2.0)
            except DeviceTimeout as exc:
                self._fault("camera", str(exc), health.Health.WARN)
                continue
            except DeviceError as exc:
                self._fault("camera", str(exc), health.Health.FAIL)
                self.camera.close()
                self._fail_task(self._active_task(), str(exc))
                continue
            last_seq = frame.seq
            task = self._active_task()
            try:
                result = self._task_frame(task, frame) if task is not None else self.pipeline.process(frame)
            except PresensiError as exc:
                self._fault("face", str(exc), health.Health.WARN)
                continue
            self.frames += 1
            self._window_frames += 1
            for frame_cb in list(self._frame_callbacks):
                self._call(frame_cb, frame, result)
            self._emit(result)
            if result.decisions:
                self.pipeline.keep_evidence()
        self._report_health()

    def _open_camera(self) -> bool:
        try:
            self.camera.open()
            return True
        except DeviceError as exc:
            self._fault("camera", str(exc), health.Health.FAIL)
            self._stop.wait(self.reopen_after_s)
            return False

    def _set_prompt(self, prompt: str | None) -> None:
        if prompt != self._last_prompt:
            self._last_prompt = prompt
            for prompt_cb in list(self._prompt_callbacks):
                self._call(prompt_cb, prompt)

    def _emit(self, result: FrameResult) -> None:
        self._set_prompt(result.prompt)
        for decision in result.decisions:
            self.decisions += 1
            for decision_cb in list(self._decision_callbacks):
                self._call(decision_cb, decision)

    def _call(self, callback: Callable[..., None], *values: object) -> None:
        try:
            callback(*values)
        except Exception:  # a subscriber's bug must not stop punching
            log.exception("face service subscriber %r failed", callback)

    def _fault(self, part: str, message: str, status: health.Health) -> None:
        self.last_error = message
        log.warning("%s: %s", part, message)
        try:
            health.report(self.store.conn, part, status, message, now=self.clock.now(), error=message)
        except PresensiError:
            log.exception("cannot record the health of %s", part)

    def _maybe_reload_gallery(self) -> None:
        try:
            signature = gallery_signature(self.store)
            now_ns = self.clock.monotonic_ns()
            retry = bool(self.pipeline.gallery.unreadable) and now_ns - self._gallery_loaded_ns >= GALLERY_RETRY_S * 1e9
            if signature != self._signature or retry:
                self._signature, self._gallery_loaded_ns = signature, now_ns
                self.pipeline.set_gallery(self._load_gallery())
        except PresensiError as exc:
            self._fault("face", f"cannot reload the face gallery: {exc}", health.Health.WARN)

    def _load_gallery(self) -> Gallery:
        """The unit's gallery for the configured embedder, calibrated; its lookalikes recorded."""
        gallery = unit_gallery(self.store.conn, self.config.face)
        record_lookalikes(self.store.conn, gallery, lookalike=self.config.face.rules.lookalike, now=self.clock.now())
        return gallery

    def _report_health(self) -> None:
        elapsed = time.monotonic() - self._window_start
        processed_fps = self._window_frames / elapsed if elapsed > 0 else 0.0
        self._window_start, self._window_frames = time.monotonic(), 0
        camera_ok = self.camera.state is CameraState.OPEN
        now = self.clock.now()
        try:
            health.report(
                self.store.conn,
                "camera",
                health.Health.OK if camera_ok else health.Health.FAIL,
                f"{self.camera.describe()} {self.camera.state.value}",
                now=now,
                metrics={"fps": round(self.camera.measured_fps(), 2), "frames": float(self.camera.frames_captured)},
            )
            gallery = self.pipeline.gallery
            if gallery.unreadable:
                status = health.Health.FAIL
                detail = f"{gallery.unreadable} face templates cannot be opened: {gallery.problem} (presensi doctor)"
            elif len(gallery):
                status, detail = health.Health.OK, f"{gallery.employee_count} employees enrolled"
            else:
                status, detail = health.Health.WARN, "no faces enrolled: face punching cannot identify anyone"
            health.report(
                self.store.conn,
                "face",
                status,
                detail,
                now=now,
                metrics={
                    "processed_fps": round(processed_fps, 2),
                    "templates": float(len(gallery)),
                    "decisions": float(self.decisions),
                    **{f"{k}_ms": v for k, v in self.pipeline.stats.mean_ms().items()},
                },
            )
        except PresensiError:
            log.exception("cannot record face service health")
