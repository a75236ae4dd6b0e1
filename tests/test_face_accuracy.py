"""``presensi bench accuracy``: the report a regency runs on its own staff photos, for both
embedders, and its rates checked on distances worked out by hand."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.errors import FaceError
from kiosk.face.accuracy import at_false_match_rate, d_prime, find_photos


def test_the_report_on_the_shared_photos_covers_both_embedders_and_writes_the_png(tmp_path: Path, faces_dir: Path) -> None:
    png = tmp_path / "accuracy.png"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kiosk.cli",
            "bench",
            "accuracy",
            "--faces",
            str(faces_dir / "train"),
            "--png",
            str(png),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout)
    assert report["png"] == str(png) and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    kinds = [e["embedder"].split()[0] for e in report["embedders"]]
    assert kinds == ["dlib", "onnx"], report["notes"]
    for e in report["embedders"]:
        assert e["people"] == 5 and e["photos"] == 9 and not e["no_face_found"]
        # 9 photos: 4 same-person pairs (four people with two photos), 32 different-person pairs
        assert (e["genuine"]["count"], e["impostor"]["count"]) == (4, 32)
        assert e["genuine"]["max"] < e["impostor"]["min"]  # five Western adults: fully apart
        assert e["configured"]["false_match_rate"] == 0 and e["configured"]["false_non_match_rate"] == 0
        assert e["d_prime"] > 3
        # 32 different-person pairs cannot show a 1 % (100 pairs needed) or a 0.1 % rate: the report says so
        assert [r["resolved"] for r in e["at_false_match_rate"]] == [False, False]
        one = e["one_to_many"]
        assert (one["gallery_people"], one["probes"], one["right"], one["wrong_person"]) == (5, 4, 4, 0)
        assert one["strangers"] == 9 and one["strangers_accepted"] == 0


def test_rates_and_separation_match_hand_worked_numbers() -> None:
    genuine = np.array([0.2, 0.3, 0.4, 0.6])
    impostor = np.linspace(0.5, 1.49, 100)  # 0.50, 0.51, … 1.49
    # 1 % of 100 impostor pairs may fall under the threshold: the threshold is the second smallest
    one = at_false_match_rate(genuine, impostor, 0.01)
    assert one["threshold"] == pytest.approx(0.51)
    assert one["false_matches"] == 1 and one["false_match_rate"] == pytest.approx(0.01)
    assert one["false_non_matches"] == 1  # 0.6 ≥ 0.51
    assert one["resolved"] is True
    tiny = at_false_match_rate(genuine, impostor, 0.001)
    assert tiny["resolved"] is False and tiny["false_matches"] == 0
    # d′ = |μi − μg| / √((σg² + σi²) / 2)
    expected = abs(impostor.mean() - genuine.mean()) / np.sqrt((genuine.var() + impostor.var()) / 2)
    assert d_prime(genuine, impostor) == pytest.approx(expected, abs=1e-3)


def test_a_folder_that_is_not_one_folder_per_person_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FaceError, match="not a folder"):
        find_photos(tmp_path / "absent")
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "a.jpg").write_bytes(b"x")
    with pytest.raises(FaceError, match="at least two"):
        find_photos(tmp_path)
