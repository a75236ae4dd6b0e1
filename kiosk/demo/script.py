"""``presensi demo --once``: what a morning at the kiosk looks like, played once and checked.

1. The camera plays the test photos once; whoever the face pipeline recognises is punched.
2. Staff tap cards and put fingers on the module (``punches`` presses, alternating), then a card
   and a finger nobody registered.
3. Sync runs until the reference server has acknowledged every punch.
4. The video's faces are tracked (when there is a video).
5. The punches are listed, the chain verified, and each expectation printed as ``ok`` or
   ``FAILED``; the exit status is 0 only when all hold.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from core.store.finger_templates import last_feedback_text
from core.store.punch_views import last_punch_seq, punch_listing
from core.store.punches import verify_database
from kiosk.camera.base import Frame
from kiosk.camera.file import FileCamera, list_images
from kiosk.cards.service import CardAttempt
from kiosk.demo.session import DemoSession
from kiosk.face.service import FaceService

#: How long one press may take to be answered.
PRESS_TIMEOUT_S = 15.0
SYNC_TIMEOUT_S = 60.0
VIDEO_TIMEOUT_S = 300.0
#: A safety net only (a camera that stopped): each reel picture waits on judged frames, not time.
STEP_TIMEOUT_S = 300.0


def run_script(session: DemoSession, *, punches: int, out: Callable[[str], None] = print) -> int:
    checks: list[tuple[str, bool]] = []
    out("")
    faces = _face_phase(session, out)
    if faces is not None:
        checks.append((f"{faces} punch(es) by face from the camera", faces > 0))
    presses = _press_phase(session, punches, out)
    checks.append(("every card and finger press answered", presses))
    acked, last = _sync_phase(session, out)
    checks.append((f"reference server acknowledged #{acked} of #{last}", acked == last and last > 0))
    if session.sources.video is not None:
        out(f"\nVideo: tracking the faces in {session.sources.video.name} …")
        done = session.wait_video(VIDEO_TIMEOUT_S)
        if session.video is not None:
            out(f"  {session.video.line()}")
        checks.append(("video tracked", done and session.video is not None and session.video.approaches > 0))
    _list_punches(session, out)
    assert session.runtime is not None
    conn = session.runtime.connect()
    try:
        report = verify_database(conn)
    finally:
        conn.close()
    out("")
    for what, ok in checks:
        out(f"  {'ok    ' if ok else 'FAILED'} {what}")
    out(
        f"verify: {'OK' if report.ok else 'FAIL'} — {report.checked} punches"
        + ("" if report.ok else f", first bad seq {report.first_bad_seq}: {report.reason}")
    )
    return 0 if report.ok and all(ok for _, ok in checks) else 1


def _face_phase(session: DemoSession, out: Callable[[str], None]) -> int | None:
    """Let the camera play the reel once; the number of face punches made (None: no camera)."""
    config = session.config
    if session.camera is None or config.camera.path is None:
        return None
    frames = sum(1 for p in config.camera.path.iterdir() if not p.name.endswith("-empty.png"))
    if isinstance(session.camera, FileCamera) and session.unit is not None and session.unit.face is not None:
        need = session.camera.hold_frames
        out(f"Camera: {frames} test photo(s), each in view for {need} judged frames, then nobody for as long …")
        if not _step_reel(session.camera, session.unit.face, len(list_images(config.camera.path)), need):
            out("  FAILED the camera stopped before the reel was judged")
    else:
        span = frames * 2 * config.camera.image_hold_s
        out(
            f"Camera: {frames} test photo(s), each in view {config.camera.image_hold_s:g} s, then nobody for as long ({span:.0f} s) …"
        )
        _wait(span + 3.0)  # the camera started with the session: the first photo may already be punched
    rows = _punches_after(session, 0, method="face")
    for r in rows:
        out(
            f"  face  #{r['seq']:<3} {r['name'] or r['employee_id']:<20} liveness={r['liveness_verdict']}  distance={r['match_distance'] or '-'}"
        )
    return len(rows)


def _step_reel(camera: FileCamera, face: FaceService, images: int, need: int) -> bool:
    """Show each picture of the reel until the face pipeline has processed ``need`` frames of it
    (as many as a quiet machine judges while the picture is held), then the next: the script
    waits on what the pipeline did, not on the wall clock. False when the camera stops first."""
    judged: dict[int, int] = {}
    # Every picture counted stays referenced: a freed array's id() can be given to the next picture,
    # which then looked judged already and was skipped (a face never punched on a loaded machine).
    alive: dict[int, object] = {}
    changed = threading.Condition()

    def seen(frame: Frame, _result: object) -> None:
        with changed:
            alive.setdefault(id(frame.image), frame.image)
            judged[id(frame.image)] = judged.get(id(frame.image), 0) + 1
            changed.notify_all()

    face.subscribe_frames(seen)
    for n in range(images):
        with changed:
            if not changed.wait_for(lambda: camera.current_image is not None or not face.running, STEP_TIMEOUT_S):
                return False
            image = camera.current_image
            key = id(image)
            alive.setdefault(key, image)
            if not changed.wait_for(lambda k=key: judged.get(k, 0) >= need or not face.running, STEP_TIMEOUT_S):  # type: ignore[misc]
                return False
        if n + 1 < images:
            camera.advance()
            with changed:
                if not changed.wait_for(lambda i=image: camera.current_image is not i or not face.running, STEP_TIMEOUT_S):  # type: ignore[misc]
                    return False
    return face.running


def _press_phase(session: DemoSession, punches: int, out: Callable[[str], None]) -> bool:
    assert session.unit is not None and session.unit.cards is not None
    staff = [p for p in session.people if not p.by_face] or session.people
    answered = True
    out("\nCards and fingers:")
    decisions: list[CardAttempt] = []
    arrived = threading.Condition()

    def seen(decision: CardAttempt) -> None:
        with arrived:
            decisions.append(decision)
            arrived.notify_all()

    unsubscribe = session.unit.cards.subscribe(seen)
    try:
        presses: list[tuple[str, str | None]] = [
            ("card" if i % 2 == 0 else "finger", staff[i % len(staff)].employee_id) for i in range(punches)
        ]
        presses += [("card", None), ("finger", None)]
        for method, employee_id in presses:
            who = session.person(employee_id).name if employee_id else "(not registered)"
            if method == "card":
                with arrived:
                    before = len(decisions)
                    session.tap_card(employee_id)
                    ok = arrived.wait_for(lambda n=before: len(decisions) > n, PRESS_TIMEOUT_S)  # type: ignore[misc]
                text = decisions[-1].text if ok else "no answer"
            else:
                ok = session.place_finger(employee_id, timeout=PRESS_TIMEOUT_S)
                text = _last_finger_text(session) if ok else "no answer"
            answered = answered and ok
            out(f"  {method:<6} {who:<20} → {text}")
    finally:
        unsubscribe()
    return answered


def _sync_phase(session: DemoSession, out: Callable[[str], None]) -> tuple[int, int]:
    last = _max_seq(session)
    out(f"\nSync: waiting for the reference server to acknowledge #{last} …")
    session.kick_sync()
    deadline = time.monotonic() + SYNC_TIMEOUT_S
    acked = 0
    while time.monotonic() < deadline:
        device = session.server_device()
        acked = int(device["acked_seq"]) if device else 0
        if acked >= last:
            break
        session.kick_sync()
        _wait(0.5)
    out(f"  acknowledged up to #{acked} ({session.device_url})")
    return acked, last


def _list_punches(session: DemoSession, out: Callable[[str], None]) -> None:
    rows = _punches_after(session, 0)
    out(f"\nPunches ({len(rows)}):")
    for r in rows:
        status = r["status"] + (f" {r['minutes']} min" if r["minutes"] else "")
        out(
            f"  #{r['seq']:<3} {r['instant']}  {r['name'] or r['employee_id']:<20} {r['method']:<6} "
            f"{r['kind']:<7} {status:<16} liveness={r['liveness_verdict'] or '-'}  {r['hash'][:16]}…"
        )


def _punches_after(session: DemoSession, seq: int, *, method: str | None = None) -> list[Any]:
    assert session.runtime is not None
    conn = session.runtime.connect()
    try:
        return list(punch_listing(conn, seq, method))
    finally:
        conn.close()


def _max_seq(session: DemoSession) -> int:
    assert session.runtime is not None
    conn = session.runtime.connect()
    try:
        return last_punch_seq(conn)
    finally:
        conn.close()


def _last_finger_text(session: DemoSession) -> str:
    assert session.runtime is not None
    conn = session.runtime.connect()
    try:
        return last_feedback_text(conn)
    finally:
        conn.close()


def _wait(seconds: float) -> None:
    """The demo runs on the wall clock (a person at the kiosk takes real time)."""
    threading.Event().wait(seconds)
