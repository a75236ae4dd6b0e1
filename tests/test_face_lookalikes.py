"""Gallery-aware thresholds and lookalikes: two employees whose templates lie closer than the
lookalike distance are listed (doctor, the audit log) and asked for card then face, with each
one's own acceptance limit under their nearest colleague; a third employee is not affected."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from helpers.face_data import faces

from core.clock import FakeClock
from core.config import FaceConfig, parse_config
from core.runtime import Runtime
from core.store import audit, roster
from core.store.cards import CardPolicy, bind_card, find_card
from core.store.db import open_database
from core.templates.face import seal
from kiosk.cards.policy import Reason, card_first_rule, is_lookalike, resolve
from kiosk.checks.findings import Status
from kiosk.face.identify import Gallery, unit_gallery
from kiosk.face.lookalikes import record_lookalikes

NOW = datetime(2026, 12, 3, 0, 30, tzinfo=UTC)
CONFIG = FaceConfig()


def _enrol(conn: object, employee: str, encoding: np.ndarray) -> None:
    roster.upsert_employee(conn, employee, employee.title(), now=NOW)  # type: ignore[arg-type]
    blob, scheme = seal(encoding)
    roster.add_face_template(conn, employee, blob, scheme, now=NOW, source="roster")  # type: ignore[arg-type]


@pytest.fixture
def office(tmp_path: Path, faces_dir: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    """ANI and its near twin ANA (0.3 apart, under dlib's lookalike distance 0.42), and BUDI."""
    obama = faces(faces_dir / "train" / "obama" / "obama.jpg")[0].encoding
    biden = faces(faces_dir / "train" / "biden" / "biden.jpg")[0].encoding
    rng = np.random.default_rng(7)
    step = rng.normal(size=obama.shape).astype(np.float32)
    twin = obama + 0.3 * step / np.linalg.norm(step)
    conn = open_database(tmp_path / "presensi.db")
    _enrol(conn, "ANI", obama)
    _enrol(conn, "ANA", twin)
    _enrol(conn, "BUDI", biden)
    conn.close()
    return tmp_path, obama, biden


def test_lookalikes_are_listed_switched_to_card_then_face_and_audited(office: tuple[Path, np.ndarray, np.ndarray]) -> None:
    path, _, _ = office
    conn = open_database(path / "presensi.db")
    gallery = unit_gallery(conn, CONFIG)
    assert list(gallery.lookalikes) == [("ANA", "ANI")]
    assert gallery.lookalikes[("ANA", "ANI")] == pytest.approx(0.3, abs=1e-3)
    assert record_lookalikes(conn, gallery, lookalike=CONFIG.lookalike_distance, now=NOW) == 1
    assert [(p.employee_id, p.other_id) for p in roster.lookalikes(conn, gallery.embedder or "")] == [("ANA", "ANI")]
    card_first = card_first_rule(conn, CardPolicy.FACE)
    assert card_first("ANI") and card_first("ANA") and not card_first("BUDI")
    # face-only unit: a lookalike's card now names them, then the face confirms (1:1); BUDI's does not
    bind_card(conn, "04A1B2C3", "ANI", actor="test", now=NOW)
    bind_card(conn, "04D4E5F6", "BUDI", actor="test", now=NOW)
    ani = resolve(find_card(conn, "04A1B2C3"), CardPolicy.FACE, lambda e: is_lookalike(conn, e))
    budi = resolve(find_card(conn, "04D4E5F6"), CardPolicy.FACE, lambda e: is_lookalike(conn, e))
    assert (ani.policy, ani.refusal) == (CardPolicy.CARD_FACE, None)
    assert (budi.policy, budi.refusal) == (CardPolicy.FACE, Reason.FACE_ONLY)
    logged = [e for e in audit.entries(conn) if e.action == "face.lookalike"]
    assert len(logged) == 1 and "card then face" in str(logged[0].detail)
    # loading the same gallery again changes nothing and audits nothing new
    record_lookalikes(conn, unit_gallery(conn, CONFIG), lookalike=CONFIG.lookalike_distance, now=NOW)
    assert len([e for e in audit.entries(conn) if e.action == "face.lookalike"]) == 1
    # re-enrolment separates them: the pair goes, and the audit log says so
    roster.remove_face_templates(conn, "ANA")
    record_lookalikes(conn, unit_gallery(conn, CONFIG), lookalike=CONFIG.lookalike_distance, now=NOW)
    assert not is_lookalike(conn, "ANI") and not card_first_rule(conn, CardPolicy.FACE)("ANI")
    assert [e.action for e in audit.entries(conn)].count("face.lookalike_cleared") == 1
    conn.close()


def test_each_employee_is_accepted_only_under_their_nearest_colleague(office: tuple[Path, np.ndarray, np.ndarray]) -> None:
    path, obama, biden = office
    conn = open_database(path / "presensi.db")
    gallery = unit_gallery(conn, CONFIG)
    conn.close()
    # ANI's own limit: min(0.5, 0.3 - 0.08) = 0.22; BUDI keeps the global threshold
    assert gallery.limit("ANI", CONFIG.threshold) == pytest.approx(0.22, abs=1e-3)
    assert gallery.limit("BUDI", CONFIG.threshold) == CONFIG.threshold
    rng = np.random.default_rng(3)
    step = rng.normal(size=obama.shape).astype(np.float32)
    step /= np.linalg.norm(step)
    # a probe 0.25 from ANI: under the global threshold, over ANI's own limit → not given to ANI
    match = gallery.identify(obama + 0.25 * step, threshold=CONFIG.threshold, margin=0.0)
    assert not match.accepted and match.reason == "near_other"
    # the same distance from BUDI, who has no close colleague, is accepted
    match = gallery.identify(biden + 0.25 * step, threshold=CONFIG.threshold, margin=CONFIG.margin)
    assert match.accepted and match.employee_id == "BUDI"
    # an uncalibrated gallery keeps the global rule only
    plain = Gallery(gallery.matrix, gallery.employee_ids)
    assert plain.identify(obama + 0.05 * step, threshold=CONFIG.threshold, margin=0.0).accepted


def test_doctor_lists_the_lookalikes_and_the_coverage(office: tuple[Path, np.ndarray, np.ndarray]) -> None:
    from kiosk.checks.camera import face_gallery

    path, _, _ = office
    rt = Runtime(config=parse_config(""), data_dir=path, clock=FakeClock(NOW))
    findings = {f.part: f for f in face_gallery(rt)}
    assert findings["face lookalikes"].status is Status.WARN
    assert "ANA~ANI (0.30)" in findings["face lookalikes"].detail
    assert "card then face" in findings["face lookalikes"].detail
    assert "0 of 3 active employees without a face template" in findings["face gallery"].detail
