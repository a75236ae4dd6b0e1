"""The face service: camera → pipeline → store on a thread of its own.

``presensi run`` and the demo compose it: ``FaceService(config, store, camera, liveness, clock)``,
``subscribe(callback)`` for decisions (the screen, the buzzer), ``subscribe_prompts(callback)``
for prompt changes, then ``start()`` and ``stop()``. Health of the parts ``camera`` and ``face``
is reported through :mod:`kiosk.health` every ``health_interval_s`` and on every error. The
gallery is reloaded when the templates or employees in the database change (an enrolment on the
maintenance page, a roster pull by the sync process).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from kiosk import health
from kiosk.camera.base import Camera, CameraState, Frame
from kiosk.clock import Clock
from kiosk.config import KioskConfig
from kiosk.errors import DeviceError, DeviceTimeout, PresensiError
from kiosk.face.detect import FaceDetector
from kiosk.face.identify import Gallery
from kiosk.face.pipeline import Classifier, Decision, FacePipeline, FrameResult, SkipLiveness, unscheduled
from kiosk.liveness.base import LivenessEngine
from kiosk.store.punches import PunchStore

log = logging.getLogger(__name__)

DecisionCallback = Callable[[Decision], None]
PromptCallback = Callable[[str | None], None]


def gallery_signature(store: PunchStore) -> tuple[object, ...]:
    """Changes whenever templates or employees change. Read-only."""
    conn = store.conn
    t = conn.execute("SELECT count(*), coalesce(max(id), 0) FROM face_templates").fetchone()
    e = conn.execute("SELECT count(*), coalesce(max(updated_at), ''), coalesce(sum(active), 0) FROM employees").fetchone()
    return (*tuple(t), *tuple(e))


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
        classify: Classifier = unscheduled,
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
        self.pipeline = FacePipeline(
            config.face,
            store=store,
            gallery=Gallery.from_database(store.conn),
            liveness=liveness,
            clock=clock,
            detector=detector,
            classify=classify,
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
        """Stop the thread and close the camera; safe to call twice."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
        self.camera.close()

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
            if self.camera.state is not CameraState.OPEN:
                if not self._open_camera():
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
                continue
            last_seq = frame.seq
            try:
                result = self.pipeline.process(frame)
            except PresensiError as exc:
                self._fault("face", str(exc), health.Health.WARN)
                continue
            self.frames += 1
            self._window_frames += 1
            for frame_cb in list(self._frame_callbacks):
                self._call(frame_cb, frame, result)
            self._emit(result)
        self._report_health()

    def _open_camera(self) -> bool:
        try:
            self.camera.open()
            return True
        except DeviceError as exc:
            self._fault("camera", str(exc), health.Health.FAIL)
            self._stop.wait(self.reopen_after_s)
            return False

    def _emit(self, result: FrameResult) -> None:
        if result.prompt != self._last_prompt:
            self._last_prompt = result.prompt
            for prompt_cb in list(self._prompt_callbacks):
                self._call(prompt_cb, result.prompt)
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
            if signature != self._signature:
                self._signature = signature
                self.pipeline.set_gallery(Gallery.from_database(self.store.conn))
        except PresensiError as exc:
            self._fault("face", f"cannot reload the face gallery: {exc}", health.Health.WARN)

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
            health.report(
                self.store.conn,
                "face",
                health.Health.OK if len(gallery) else health.Health.WARN,
                f"{gallery.employee_count} employees enrolled"
                if len(gallery)
                else "no faces enrolled: face punching cannot identify anyone",
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
