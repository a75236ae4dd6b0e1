"""Enrolment from photos and from camera frames; a face already enrolled for someone else is refused."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from helpers.face_data import detector, image, on_wall

from core.clock import FakeClock
from core.config import FaceConfig
from core.errors import EnrolmentError
from core.store import roster
from core.store.punches import PunchStore
from kiosk.camera.base import Frame
from kiosk.face.enroll import Enroller
from kiosk.face.identify import Gallery


@pytest.fixture
def enroller(store: PunchStore, clock: FakeClock) -> Enroller:
    return Enroller(store.conn, FaceConfig(), clock, detector=detector())


def test_photos_become_templates_and_never_images(enroller: Enroller, store: PunchStore, faces_dir: Path) -> None:
    result = enroller.enrol_photos("199001", "Barack Obama", sorted((faces_dir / "train" / "obama").iterdir()))
    assert result.templates_added == 2 and result.templates_total == 2
    rows = store.conn.execute("SELECT encoding, scheme FROM face_templates").fetchall()
    assert [(len(r["encoding"]), r["scheme"]) for r in rows] == [(512, "plain"), (512, "plain")]
    employee = roster.get_employee(store.conn, "199001")
    assert employee is not None and employee.name == "Barack Obama" and employee.active
    match = Gallery.from_database(store.conn).identify(
        enroller.sample(image(faces_dir / "test" / "obama1.jpg"), "probe", allow_turned=True).encoding, threshold=0.5, margin=0.06
    )
    assert match.accepted and match.employee_id == "199001" and match.name == "Barack Obama"


def test_a_face_already_enrolled_for_someone_else_is_refused(enroller: Enroller, store: PunchStore, faces_dir: Path) -> None:
    enroller.enrol_photos("199001", "Barack Obama", [faces_dir / "train" / "obama" / "obama.jpg"])
    with pytest.raises(EnrolmentError, match="already belongs to employee 199001") as caught:
        enroller.enrol_photos("200002", "Someone Else", [faces_dir / "obama-720p.jpg"])
    assert caught.value.screen_text == "Wajah sudah terdaftar atas nama pegawai lain"
    assert roster.get_employee(store.conn, "200002") is None
    assert roster.count_face_templates(store.conn) == 1
    # the same employee may add more of their own face
    assert enroller.enrol_photos("199001", None, [faces_dir / "obama-720p.jpg"]).templates_total == 2


def test_unusable_photos_are_refused_with_the_reason(enroller: Enroller, faces_dir: Path) -> None:
    with pytest.raises(EnrolmentError, match="one person"):
        enroller.enrol_photos("1", "Two", [faces_dir / "two_people.jpg"])
    with pytest.raises(EnrolmentError, match="no face"):
        enroller.sample(np.full((240, 320, 3), 90, np.uint8), "wall.jpg")
    with pytest.raises(EnrolmentError, match="give their name"):
        enroller.enrol_photos("new-person", None, [faces_dir / "obama-720p.jpg"])
    with pytest.raises(EnrolmentError, match="not show the same person"):
        enroller.enrol_photos("3", "Mixed", [faces_dir / "obama-720p.jpg", faces_dir / "train" / "biden" / "biden.jpg"])


def test_live_enrolment_takes_spaced_quality_samples(
    enroller: Enroller, store: PunchStore, clock: FakeClock, faces_dir: Path
) -> None:
    scene = on_wall(image(faces_dir / "obama-720p.jpg"), 800, 600)
    session = enroller.live("199001", "Barack Obama", samples=2)
    progress = []
    for seq in range(1, 8):
        clock.advance(0.25)
        progress.append(session.feed(Frame(scene, clock.monotonic_ns(), seq)))
        if session.done:
            break
    assert session.done and progress[-1].taken == 2
    assert any(p.prompt == "Tahan, jangan bergerak" for p in progress)  # too soon after the first sample
    assert session.commit().templates_total == 2
    dark = session.enroller.live("2", "X", samples=1).feed(Frame((scene * 0.2).astype(np.uint8), clock.monotonic_ns(), 99))
    assert dark.taken == 0 and dark.prompt == "Terlalu gelap"


def test_enroll_and_identify_commands_without_a_config_file(presensi_cmd: list[str], tmp_path: Path, faces_dir: Path) -> None:
    data = tmp_path / "unit"
    # nothing but the path; the template key goes where conftest keeps test keys, not /etc
    env = {"PATH": "/usr/bin:/bin", "PRESENSI_CONFIG": "", "PRESENSI_TEMPLATE_KEY_FILE": os.environ["PRESENSI_TEMPLATE_KEY_FILE"]}
    enrol = subprocess.run(
        [
            *presensi_cmd,
            "--data-dir",
            str(data),
            "enroll",
            "--employee",
            "E-ALEX",
            "--name",
            "Alex",
            "--json",
            str(faces_dir / "train" / "alex_lacamoire" / "img1.jpg"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert enrol.returncode == 0, enrol.stderr
    assert json.loads(enrol.stdout)["templates_total"] == 1
    known = subprocess.run(
        [*presensi_cmd, "--data-dir", str(data), "identify", str(faces_dir / "test" / "alex_lacamoire1.jpg"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    report = json.loads(known.stdout)
    assert (
        report["result"] == "match"
        and report["employee_id"] == "E-ALEX"
        and report["distance"] < 0.5
        and report["margin"] is None
    )
    stranger = subprocess.run(
        [*presensi_cmd, "--data-dir", str(data), "identify", str(faces_dir / "lin-manuel-miranda.png"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert json.loads(stranger.stdout)["result"] == "unknown"
