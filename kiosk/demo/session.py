"""The running demo: a whole unit in simulation mode beside the reference server.

:class:`DemoSession` starts, in this order, the reference server (a child process over TLS with
a CA made for the demo), provisioning and a first sync, the demo's people (faces from
``train/``, staff with cards and fingers, the apel pack with ``--event``), the kiosk unit (file
camera, simulated card reader, the demo's liveness mode, the screen and the maintenance page on
127.0.0.1), the fingerprint bridge on a simulated module, sync in the background and the
control panel. :meth:`DemoSession.stop` stops them in reverse order and is safe to call twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.clock import Clock, SystemClock
from core.config import FaceConfig, KioskConfig
from core.errors import ConfigError
from core.runtime import Runtime
from core.schedule.events import EventPack
from core.store.finger_templates import count_feedback
from firmware_bridge.factory import start_simulated_bridge
from kiosk.camera import open_camera
from kiosk.camera.base import Camera
from kiosk.camera.file import FileCamera, list_images
from kiosk.cards.sim import SimCardReader
from kiosk.demo.panel import create_panel_app
from kiosk.demo.people import UNKNOWN_CARD, DemoPerson, add_staff, enrol_faces, load_sample_apel, register
from kiosk.demo.server import provision_and_sync, start_demo_server
from kiosk.demo.sources import DemoSources
from kiosk.demo.video import VideoTracking, track_video
from kiosk.face import devmodels
from kiosk.face.pipeline import SkipLiveness
from kiosk.unit import FaceEnrolmentPort, KioskUnit
from kiosk.web.maintenance.actions import SimSystemActions
from kiosk.web.maintenance.fingers import finger_enrolment
from kiosk.web.ports import Message, Services
from kiosk.web.runner import start_web
from kiosk.web.server import Running, serve_in_thread
from sync.client import SyncService, UploaderLock
from sync.provision import backoff_for, build_client

log = logging.getLogger(__name__)

UNIT_CODE = "DEMO"
LIVENESS_NOTE = (
    "skipped — photos and a video from disk cannot pass a real liveness check; every face punch records liveness 'skipped'"
)
DEMO_LIVENESS = SkipLiveness(
    "demo: photos and a video from disk cannot pass a real liveness check; every punch records liveness 'skipped'"
)
#: The demo's simulated OTP key (privacy.key_provider = 'sim'): not a secret, only so that the
#: demo never writes a key file under /etc.
DEMO_OTP_HEX = "d3" * 32
#: The demo's working hours: a shipped preset in the demo's zone (Asia/Jakarta, WIB).
DEMO_WORK_CODE = "JEMBER-5H"
#: Some of the demo's posed portraits are turned about 33°: the demo allows a 40° head turn.
DEMO_MAX_YAW_DEG = 40.0


def demo_config(base: KioskConfig, sources: DemoSources, reel: Path | None) -> KioskConfig:
    """``base`` with what the demo needs whatever the file says: every device simulated, the web
    on 127.0.0.1 on free ports, the camera from ``sources``."""
    config = base.model_copy(deep=True)
    config.unit.hardware = "sim"
    config.web.screen_host = "127.0.0.1"
    config.web.maintenance_host = "127.0.0.1"
    config.web.screen_frame_ancestors = ["http://127.0.0.1:*"]  # the control panel shows the screen in a frame
    config.cards.reader = "sim"
    config.fingerprint.module = "sim"
    config.sync.enabled = True
    config.sync.server_url = ""  # provisioning records the demo server's address
    config.sync.ca_file = None
    if not config.schedule.default_work_code:  # punches classified as masuk/pulang, on time or late
        config.schedule.default_work_code = DEMO_WORK_CODE
    if config.privacy.key_provider == "keyfile":
        config.privacy.key_provider = "sim"
        config.privacy.sim_otp_hex = DEMO_OTP_HEX
    if reel is not None:
        config.camera.source = "file"
        config.camera.path = reel
        config.camera.loop = True
        # The kiosk camera's size, large enough for the faces of the group photos.
        config.camera.width, config.camera.height = 1280, 960
        # Posed portraits, some turned about 30°: the demo allows a 40° head turn (and says so).
        config.face.max_yaw_deg = max(config.face.max_yaw_deg, DEMO_MAX_YAW_DEG)
    elif sources.webcam is not None:
        config.camera.source = "v4l2"
        config.camera.device = int(sources.webcam.name.removeprefix("video") or 0)
    else:
        config.face.enabled = False
    return config


def demo_face(face: FaceConfig, embedder: str | None, detector: str | None) -> FaceConfig:
    """``face`` with ``--embedder`` / ``--detector``: a model the file does not name comes from
    ../shared/models (development models, never bundled); without them, ConfigError says what to add."""

    update: dict[str, object] = {}
    if embedder == "onnx" and face.onnx_model is None:
        settings = devmodels.onnx_settings()
        if settings is None:
            raise ConfigError(
                "--embedder onnx: no model; set face.onnx_model in the file (a model you have the rights to), "
                f"or put the development model at {devmodels.shared_models() / devmodels.MOBILEFACENET}",
                ["face.onnx_model: not set and the shared development model is absent"],
            )
        update.update(settings)
    elif embedder is not None:
        update["embedder"] = embedder
    if detector == "yunet" and face.yunet_model is None:
        settings = devmodels.yunet_settings()
        if settings is None:
            raise ConfigError(
                f"--detector yunet: no model; set face.yunet_model, or put YuNet at {devmodels.shared_models() / devmodels.YUNET}",
                ["face.yunet_model: not set and the shared YuNet is absent"],
            )
        update.update(settings)
    elif detector is not None:
        update["detector"] = detector
    return FaceConfig.model_validate({**face.model_dump(), **update}) if update else face


def make_reel(test: Path, folder: Path) -> Path:
    """The camera's image folder: each test photo, then an empty grey frame (the person walks
    away before the next one steps up). Links to the photos, not copies."""
    # late: cv2 loads only when this runs
    import cv2

    # late: numpy loads only when this runs
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    blank = folder.parent / f"{folder.name}-empty.png"
    cv2.imwrite(str(blank), np.full((480, 640, 3), 110, dtype=np.uint8))
    for n, photo in enumerate(list_images(test)):
        (folder / f"{n:03d}a-{photo.name}").symlink_to(photo.resolve())
        (folder / f"{n:03d}b-empty.png").symlink_to(blank)
    return folder


class DemoLogFile:
    """The demo's services log to a file as well as the terminal, in the format the maintenance
    page's log page reads (on a unit that is the journal): INFO and above go to the file while
    the terminal keeps the level the command was given."""

    FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        root = logging.getLogger()
        self._root_level = root.level
        self._quietened = [(h, h.level) for h in root.handlers]
        for handler, _ in self._quietened:
            handler.setLevel(max(handler.level, root.level))
        self.handler = logging.FileHandler(path, encoding="utf-8")
        self.handler.setFormatter(logging.Formatter(self.FORMAT))
        self.handler.setLevel(logging.INFO)
        root.addHandler(self.handler)
        root.setLevel(min(root.level or logging.WARNING, logging.INFO))

    def close(self) -> None:
        root = logging.getLogger()
        root.removeHandler(self.handler)
        self.handler.close()
        root.setLevel(self._root_level)
        for handler, level in self._quietened:
            handler.setLevel(level)


class Waker:
    """The sync loop's wait: returns early when a punch is shown (so it reaches the server at
    once) and True once the demo stops."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._kicked = False
        self.stopping = False

    def kick(self, _message: object = None) -> None:
        with self._cond:
            self._kicked = True
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self.stopping = True
            self._cond.notify_all()

    def wait(self, seconds: float) -> bool:
        with self._cond:
            self._cond.wait_for(lambda: self._kicked or self.stopping, timeout=seconds)
            self._kicked = False
            return self.stopping


@dataclass
class DemoSession:
    config: KioskConfig
    data_dir: Path
    sources: DemoSources
    event: bool = False
    staff_count: int = 3
    panel_port: int = 0
    #: ``--once``: the reel moves to the next picture when the script says (each one judged)
    stepped: bool = False
    clock: Clock = field(default_factory=SystemClock)
    out: Callable[[str], None] = print

    runtime: Runtime | None = None
    server: Any = None
    unit: KioskUnit | None = None
    reader: SimCardReader | None = None
    bridge: Any = None
    panel: Running | None = None
    people: list[DemoPerson] = field(default_factory=list)
    enrol_problems: list[str] = field(default_factory=list)
    pack: EventPack | None = None
    camera: Camera | None = None
    video: VideoTracking | None = None
    video_error: str | None = None
    first_sync: dict[str, Any] = field(default_factory=dict)
    _waker: Waker = field(default_factory=Waker)
    _threads: list[threading.Thread] = field(default_factory=list)
    _sync_client: Any = None
    _sync_lock: Any = None
    _video_done: threading.Event = field(default_factory=threading.Event)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _log_file: DemoLogFile | None = None

    # -- starting and stopping ------------------------------------------------------------------

    def start(self) -> DemoSession:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:

        self.data_dir.mkdir(parents=True, exist_ok=True)
        runtime = self.runtime = Runtime(self.config, self.data_dir, self.clock)
        store = runtime.store()
        self.server, token = start_demo_server(self.data_dir / "server", unit_code=UNIT_CODE)
        self.first_sync = provision_and_sync(runtime, self.server, token)
        conn = store.conn
        if self.sources.train is not None:
            self.people, self.enrol_problems = enrol_faces(conn, self.sources.train, self.config.face, self.clock)
        self.people += add_staff(conn, self.staff_count, self.clock)
        register(conn, self.people, self.clock)
        if self.event:
            self.pack = load_sample_apel(conn, store.identity, self.people, self.clock, self.config.unit.zone)
        if self.config.face.enabled:
            self.camera = open_camera(self.config.camera, self.clock, hardware="real")
            if self.stepped and isinstance(self.camera, FileCamera):
                self.camera.hold_each_image()
        self.reader = SimCardReader("Pembaca kartu demo", clock=self.clock)
        unit = self.unit = KioskUnit(runtime, camera=self.camera, reader=self.reader, liveness=DEMO_LIVENESS)
        unit.start(web=False)
        services = Services(
            cards=unit.tap_capture,
            faces=FaceEnrolmentPort(unit.face) if unit.face is not None else None,
            system=SimSystemActions(tuple(self.config.web.services)),
            fingers=finger_enrolment(runtime),
        )
        self._log_file = DemoLogFile(self.data_dir / "logs" / "presensi.log")
        self.config.web.log_file = self._log_file.path  # the maintenance page's log page reads it
        unit.web = start_web(runtime, services=services, hub=unit.hub, frames=unit.frames, screen_port=0, maintenance_port=0)
        unit.hub.subscribe(self._waker.kick)
        self.bridge = start_simulated_bridge(runtime)  # the unit's admission, as the face and card services
        self._start_sync()
        if self.sources.video is not None:
            self._start_thread("demo-video", self._track_video)
        else:
            self._video_done.set()
        self.panel = serve_in_thread(create_panel_app(self), "127.0.0.1", self.panel_port, name="demo-panel")

    def _start_sync(self) -> None:

        assert self.runtime is not None
        self._sync_lock = UploaderLock(self.data_dir)
        self._sync_lock.acquire(wait=True)
        client = self._sync_client = build_client(self.runtime)
        cfg = self.config.sync
        service = SyncService(
            client,
            backoff_for(self.runtime),
            self._waker.wait,
            interval_s=cfg.interval_s,
            heartbeat_s=cfg.heartbeat_s,
            roster_s=cfg.roster_interval_s,
            max_offset_s=self.config.clock.max_offset_s,
        )
        self._start_thread("demo-sync", service.run)

    def _start_thread(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _track_video(self) -> None:
        assert self.sources.video is not None
        try:
            self.video = track_video(self.sources.video, self.config.face, stop=self._stopping)
        except Exception as exc:  # the demo goes on without the video's summary
            log.exception("tracking the video failed")
            self.video_error = str(exc)
        finally:
            self._video_done.set()

    def kick_sync(self) -> None:
        """Run a sync round now instead of at the next interval."""
        self._waker.kick()

    def wait_video(self, timeout: float) -> bool:
        return self._video_done.wait(timeout)

    def stop(self) -> None:
        """Stop every part that was started (each once; errors logged, never raised)."""
        self._stopping.set()
        self._waker.stop()
        for name, stop in (
            ("panel", self.panel.stop if self.panel else None),
            ("bridge", self.bridge.stop if self.bridge else None),
            ("unit", self.unit.stop if self.unit else None),
        ):
            if stop is not None:
                try:
                    stop()
                except Exception:
                    log.exception("stopping the demo's %s failed", name)
        self.panel = self.bridge = None
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads = [t for t in self._threads if t.is_alive()]
        if self._sync_client is not None:
            self._sync_client.target.close()
            self._sync_client.conn.close()
            self._sync_client = None
        if self._sync_lock is not None:
            self._sync_lock.release()
            self._sync_lock = None
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self.runtime is not None:
            self.runtime.close()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    # -- what the panel and the script do --------------------------------------------------------

    def person(self, employee_id: str) -> DemoPerson:
        for p in self.people:
            if p.employee_id == employee_id:
                return p
        raise KeyError(employee_id)

    def tap_card(self, employee_id: str | None) -> str:
        """Tap ``employee_id``'s card (None: a card nobody registered); returns the UID."""
        assert self.reader is not None
        uid = UNKNOWN_CARD if employee_id is None else self.person(employee_id).card_uid
        return self.reader.tap(uid)

    def place_finger(self, employee_id: str | None, *, timeout: float = 10.0) -> bool:
        """Put ``employee_id``'s enrolled finger (None: an unknown one) on the simulated module
        until the bridge has answered, then lift it; False when the bridge did not answer."""
        bridge = self.bridge
        assert bridge is not None and self.runtime is not None
        conn = self.runtime.connect()
        try:
            before = _feedback_count(conn)
            if employee_id is None:
                bridge.place_unknown_finger()
            else:
                bridge.place_enrolled_finger(self.person(employee_id).employee_id)
            answered = bridge.simulator.wait_for(lambda: _feedback_count(conn) > before, timeout)
        finally:
            conn.close()
        bridge.simulator.lift_and_wait_seen(timeout)
        return bool(answered)

    def server_device(self) -> dict[str, Any] | None:
        """This unit as the reference server sees it (acknowledged sequence, queue, clock)."""
        assert self.server is not None and self.runtime is not None
        admin = self.server.admin()
        try:
            device_id = self.runtime.identity().device_id
            return next((d for d in admin.devices() if d["id"] == device_id), None)
        finally:
            admin.storage.close()

    @property
    def device_url(self) -> str:
        assert self.server is not None and self.runtime is not None
        return f"{self.server.url}/devices/{self.runtime.identity().device_id}"

    @property
    def screen_url(self) -> str:
        assert self.unit is not None and self.unit.web is not None
        return self.unit.web.screen.url

    @property
    def maintenance_url(self) -> str:
        assert self.unit is not None and self.unit.web is not None
        return f"https://127.0.0.1:{self.unit.web.maintenance.port}"

    @property
    def panel_url(self) -> str:
        assert self.panel is not None
        return self.panel.url

    def subscribe(self, callback: Callable[[Message], None]) -> Callable[[], None]:
        assert self.unit is not None
        return self.unit.hub.subscribe(callback)


def _feedback_count(conn: Any) -> int:
    return count_feedback(conn)
