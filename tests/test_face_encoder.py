"""dlib's face network run with numpy gives dlib's own encodings, and a model file it cannot
read is refused with what to do (the kiosk then falls back to dlib's code)."""

from __future__ import annotations

from pathlib import Path

import dlib
import face_recognition
import numpy as np
import pytest
from helpers.face_data import detector, image

from core.errors import ConfigError
from core.templates.embedder_ids import dlib_model_path
from kiosk.face import encoder as enc
from kiosk.face.detect import to_rgb

PHOTOS = ["obama-720p.jpg", "two_people.jpg", "test/obama_and_biden.jpg", "test/kit_with_rose.jpg", "train/biden/biden.jpg"]


@pytest.fixture(scope="module")
def network() -> enc.ResnetEncoder:
    return enc.ResnetEncoder(dlib_model_path())


@pytest.fixture(scope="module")
def dlib_net() -> enc.DlibEncoder:
    return enc.DlibEncoder(dlib_model_path())


def test_numpy_network_gives_dlibs_encodings(faces_dir: Path, network: enc.ResnetEncoder, dlib_net: enc.DlibEncoder) -> None:
    predictor = dlib.shape_predictor(_five_point_path())
    chips = 0
    for name in PHOTOS:
        rgb = to_rgb(image(faces_dir / name))
        for box in detector().detect(rgb):
            top, right, bottom, left = box
            shape = predictor(rgb, dlib.rectangle(left, top, right, bottom))
            chip = np.asarray(dlib.get_face_chip(rgb, shape, size=enc.CHIP_SIZE, padding=enc.CHIP_PADDING))
            ours, theirs = network.encode_chip(chip), dlib_net.encode_chip(chip)
            assert np.abs(ours - theirs).max() < 1e-5
            chips += 1
    assert chips >= 8


def test_detector_encodings_equal_face_recognitions(faces_dir: Path) -> None:
    # What face_recognition.face_encodings(model="small") gives, which enrolled templates hold.
    for name in PHOTOS[:3]:
        rgb = to_rgb(image(faces_dir / name))
        for box in detector().detect(rgb):
            reference = face_recognition.face_encodings(rgb, [box], num_jitters=1, model="small")[0]
            assert np.abs(detector().encode(rgb, box) - reference).max() < 1e-5


def test_a_chip_of_the_wrong_size_is_refused(network: enc.ResnetEncoder) -> None:
    with pytest.raises(ValueError, match="150x150"):
        network.encode_chip(np.zeros((100, 100, 3), np.uint8))


@pytest.mark.parametrize("damage", ["truncated", "other network"])
def test_a_model_file_it_cannot_read_is_refused_with_what_to_do(tmp_path: Path, damage: str) -> None:
    data = dlib_model_path().read_bytes()
    if damage == "truncated":
        data = data[: len(data) // 2]
    else:  # one block fewer: a network this module does not implement
        first = data.index(b"\x01\x09add_prev_")
        data = data[:first] + b"\x01\x09add_xxxx_" + data[first + 11 :]
    bad = tmp_path / "model.dat"
    bad.write_bytes(data)
    with pytest.raises(ConfigError, match="reinstall face_recognition_models") as caught:
        enc.ResnetEncoder(bad)
    assert str(bad) in str(caught.value)


def test_the_kiosk_falls_back_to_dlib_when_the_file_cannot_be_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreadable(_self: object, path: Path) -> None:
        raise ConfigError(f"{path} is not readable here")

    monkeypatch.setattr(enc.ResnetEncoder, "__init__", unreadable)
    fallback = enc.load_encoder.__wrapped__()  # type: ignore[attr-defined]
    assert isinstance(fallback, enc.DlibEncoder)


def _five_point_path() -> str:
    import face_recognition_models

    return str(face_recognition_models.pose_predictor_five_point_model_location())
