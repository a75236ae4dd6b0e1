"""``presensi demo``: a whole unit in simulation mode beside the reference server.

Started by :class:`~kiosk.demo.session.DemoSession`; this module chooses the data directory and
the faces (:func:`~kiosk.demo.sources.find_sources`), prints where everything is, and then either
serves until Ctrl-C or, with ``--once``, plays a short script (:mod:`kiosk.demo.script`), prints
what happened and exits.
"""

from __future__ import annotations

import argparse
import signal
import tempfile
import threading
from pathlib import Path

from core.config import load_config


def run_demo(args: argparse.Namespace) -> int:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from kiosk.demo.script import run_script
    from kiosk.demo.session import LIVENESS_NOTE, DemoSession, demo_config, demo_face, make_reel
    from kiosk.demo.sources import find_sources

    sources = find_sources(args.faces, args.video)
    base = load_config(getattr(args, "config", None))
    explicit = getattr(args, "data_dir", None)
    with tempfile.TemporaryDirectory(prefix="presensi-demo-") as tmp:
        data_dir = Path(explicit) if explicit else Path(tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        reel = make_reel(sources.test, data_dir / "demo-reel") if sources.test is not None else None
        config = demo_config(base, sources, reel)
        config.face = demo_face(config.face, getattr(args, "embedder", None), getattr(args, "detector", None))
        session = DemoSession(
            config,
            data_dir,
            sources,
            event=args.event,
            staff_count=args.staff,
            panel_port=args.panel_port,
            stepped=args.once,
        )
        print(f"Presensi Kiosk demo — data in {data_dir}" + ("" if explicit else " (removed at exit; keep it with --data-dir)"))
        print(f"  faces: {sources.note}")
        if config.face.enabled:
            print(f"  liveness: {LIVENESS_NOTE}")
            print(f"  face templates: {face_note(config.face)}")
        print("  starting the reference server, provisioning, enrolling the demo's people …", flush=True)
        session.start()
        try:
            _print_started(session)
            if args.once:
                return run_script(session, punches=args.punches)
            print("\nCtrl-C stops the demo.", flush=True)
            _serve_until_signal()
            print("stopping …", flush=True)
            return 0
        finally:
            session.stop()


def face_note(face: object) -> str:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from kiosk.face.embedders import embedder_label

    label = embedder_label(face)  # type: ignore[arg-type]
    detector = getattr(face, "detector", "hog")
    note = f"{label}, detector {detector}"
    if getattr(face, "embedder", "dlib") == "onnx":
        note += " (a development model from ../shared: not for production, docs/face.md)"
    return note


def _print_started(session: object) -> None:
    # late: every command module is imported when presensi starts; this loads only when it runs
    from kiosk.demo.session import DemoSession

    assert isinstance(session, DemoSession) and session.runtime is not None and session.unit is not None
    web = session.unit.web
    print(f"  device {session.runtime.identity().device_id}, provisioned with {session.server.url if session.server else '?'}")
    print(f"  first sync: {_sync_line(session.first_sync)}")
    faces = [p for p in session.people if p.by_face]
    print(f"  people: {len(faces)} enrolled by face, {len(session.people)} with a simulated card and finger")
    for problem in session.enrol_problems:
        print(f"    not enrolled: {problem}")
    if session.pack is not None:
        print(f"  event mode: {session.pack.title} ({len(session.pack.participants)} participants, this unit serves unit IX)")
    print()
    print(f"  Kiosk screen       {session.screen_url}")
    print(
        f"  Maintenance page   {session.maintenance_url}   (self-signed certificate; setup code {web.setup_code if web else '?'})"
    )
    print(f"  Demo control panel {session.panel_url}   (tap a card, put a finger on the module)")
    print(f"  Reference server   {session.device_url}   (the CA is {session.server.ca_file if session.server else '?'})")
    written = write_demo_config(session.config, session.data_dir)
    print(f"  Check the unit     presensi --config {written} --data-dir {session.data_dir} doctor")


def write_demo_config(config: object, data_dir: Path) -> Path:
    """The demo's effective configuration beside its data (its simulated key included, a demo's
    throwaway), so ``presensi doctor`` and the other commands see the unit the demo ran."""
    # late: every command module is imported when presensi starts; this loads only when it runs
    from core.config import KioskConfig
    from core.config.toml_text import toml_text

    assert isinstance(config, KioskConfig)
    data = config.model_dump(mode="json", exclude={"source"})
    data["unit"]["data_dir"] = str(data_dir)
    path = data_dir / "demo.toml"
    path.write_text("# presensi demo: the configuration this demo ran with\n" + toml_text(data), encoding="utf-8")
    return path


def _sync_line(result: dict[str, object]) -> str:
    if not result:
        return "not run"
    shown = ", ".join(f"{k}={v}" for k, v in result.items() if not isinstance(v, dict | list))
    return shown or "done"


def _serve_until_signal() -> None:
    stop = threading.Event()

    def handler(signum: int, _frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(1.0):
            pass
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


__all__ = ["run_demo"]
