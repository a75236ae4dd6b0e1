"""The embedder plugins: an ONNX model's input contract is honoured and a model that does not fit
is refused (small models built here with onnx's own helper), the shared MobileFaceNet and YuNet
identify the shared people, and templates of one embedder are never compared with another's."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx builds the test models (it is in the dev extra)")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from core.clock import FakeClock  # noqa: E402
from core.config import FaceConfig  # noqa: E402
from core.errors import ConfigError, EnrolmentError  # noqa: E402
from core.store import roster  # noqa: E402
from core.store.db import open_database  # noqa: E402
from core.templates.embedder_ids import dlib_model_path as model_path  # noqa: E402
from core.templates.embedder_ids import embedder_id, file_sha256  # noqa: E402
from kiosk.camera.file import read_image  # noqa: E402
from kiosk.face import devmodels  # noqa: E402
from kiosk.face.detect import make_detector, to_rgb  # noqa: E402
from kiosk.face.embedders import ARCFACE_POINTS, DLIB_ID, OnnxContract, OnnxEmbedder, align  # noqa: E402
from kiosk.face.enroll import Enroller  # noqa: E402
from kiosk.face.identify import Gallery, unit_gallery  # noqa: E402

PEOPLE = ("biden", "kit_harington", "obama", "rose_leslie")


def linear_model(path: Path, *, weights: np.ndarray, layout: str = "NCHW", in_name: str = "x", out_name: str = "y") -> Path:
    """A model that flattens its 112×112×3 input and multiplies it by ``weights``: its output is
    a known function of exactly what the embedder feeds it."""
    shape = [1, 3, 112, 112] if layout == "NCHW" else [1, 112, 112, 3]
    w = numpy_helper.from_array(weights.astype(np.float32), "w")
    flat = numpy_helper.from_array(np.array([1, -1], dtype=np.int64), "flat")
    graph = helper.make_graph(
        [helper.make_node("Reshape", [in_name, "flat"], ["f"]), helper.make_node("MatMul", ["f", "w"], [out_name])],
        "linear",
        [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, [1, weights.shape[1]])],
        initializer=[w, flat],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_the_input_contract_reaches_the_model_as_written(tmp_path: Path) -> None:
    # Output 0 sums the first channel plane, output 1 the third; with BGR the planes swap.
    n = 3 * 112 * 112
    weights = np.zeros((n, 64), dtype=np.float32)
    weights[: 112 * 112, 0] = 1.0
    weights[2 * 112 * 112 :, 1] = 1.0
    weights[:, 2:] = 1e-3
    path = linear_model(tmp_path / "m.onnx", weights=weights)
    face = np.zeros((112, 112, 3), dtype=np.uint8)
    face[:, :, 0] = 255  # red
    rgb = OnnxEmbedder(path, OnnxContract(mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0)))
    out = rgb._run(face)
    assert out[0] == pytest.approx(112 * 112) and out[1] == pytest.approx(0)
    bgr = OnnxEmbedder(path, OnnxContract(colour="BGR", mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0)))
    out = bgr._run(face)
    assert out[0] == pytest.approx(0) and out[1] == pytest.approx(112 * 112)
    # normalisation: (1 - 0.5) / 0.25 = 2 per red pixel
    norm = OnnxEmbedder(path, OnnxContract(mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25)))
    assert norm._run(face)[0] == pytest.approx(2 * 112 * 112, rel=1e-4)
    template = norm.embed_aligned(face)
    assert template.shape == (64,) and np.linalg.norm(template) == pytest.approx(1.0, abs=1e-5)
    assert norm.info.id == file_sha256(path) and norm.info.dimensions == 64


def test_a_sidecar_file_gives_the_contract_and_the_config_overrides_it(tmp_path: Path) -> None:
    weights = np.full((3 * 112 * 112, 96), 1e-4, dtype=np.float32)
    path = linear_model(tmp_path / "nhwc.onnx", weights=weights, layout="NHWC", in_name="data", out_name="fc1")
    with pytest.raises(ConfigError, match="takes"):  # NHWC model read as NCHW by default
        OnnxEmbedder(path, OnnxContract.for_model(path))
    (tmp_path / "nhwc.onnx.json").write_text(json.dumps({"layout": "NHWC", "colour": "BGR", "mean": [0, 0, 0], "std": [1, 1, 1]}))
    contract = OnnxContract.for_model(path)
    assert (contract.layout, contract.colour, contract.mean) == ("NHWC", "BGR", (0.0, 0.0, 0.0))
    assert OnnxEmbedder(path, contract).info.dimensions == 96
    overridden = OnnxContract.for_model(path, {"colour": "RGB", "mean": None})
    assert (overridden.colour, overridden.mean) == ("RGB", (0.0, 0.0, 0.0))


@pytest.mark.parametrize(
    ("sidecar", "words"),
    [
        ("{not json", "not readable JSON"),
        (json.dumps({"size": 160}), "only 112"),
        (json.dumps({"colour": "GRAY"}), "colour must be"),
        (json.dumps({"std": [1, 0, 1]}), "std must not be 0"),
        (json.dumps({"mean": [1, 2]}), "three numbers"),
        (json.dumps({"gamma": 2}), "unknown keys gamma"),
    ],
)
def test_a_bad_sidecar_is_refused_with_what_to_fix(tmp_path: Path, sidecar: str, words: str) -> None:
    path = linear_model(tmp_path / "m.onnx", weights=np.ones((3 * 112 * 112, 64), np.float32))
    (tmp_path / "m.onnx.json").write_text(sidecar)
    with pytest.raises(ConfigError, match=words):
        OnnxContract.for_model(path)


def test_models_that_are_not_face_embedders_are_refused(tmp_path: Path) -> None:
    tiny = linear_model(tmp_path / "tiny.onnx", weights=np.ones((3 * 112 * 112, 8), np.float32))
    with pytest.raises(ConfigError, match="not one embedding of 64"):
        OnnxEmbedder(tiny, OnnxContract())
    named = linear_model(tmp_path / "named.onnx", weights=np.ones((3 * 112 * 112, 64), np.float32))
    with pytest.raises(ConfigError, match="no output 'embedding'"):
        OnnxEmbedder(named, OnnxContract(output_name="embedding"))
    with pytest.raises(ConfigError, match="no input 'input0'"):
        OnnxEmbedder(named, OnnxContract(input_name="input0"))
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00not a model")
    with pytest.raises(ConfigError, match="cannot load the face model"):
        OnnxEmbedder(junk, OnnxContract())
    with pytest.raises(ConfigError, match="does not exist"):
        OnnxEmbedder(tmp_path / "absent.onnx", OnnxContract())


def test_the_config_refuses_an_embedder_or_detector_without_its_model() -> None:
    with pytest.raises(ValueError, match="needs onnx_model"):
        FaceConfig(embedder="onnx")
    with pytest.raises(ValueError, match="needs yunet_model"):
        FaceConfig(detector="yunet")


def test_dlib_templates_made_before_the_migration_carry_dlibs_id() -> None:
    assert file_sha256(model_path()) == DLIB_ID
    assert embedder_id(FaceConfig()) == DLIB_ID


def test_alignment_puts_the_five_points_on_the_template() -> None:
    rng = np.random.default_rng(4)
    image = rng.integers(0, 255, (400, 400, 3), dtype=np.uint8)
    # a face twice the template's size, shifted: the warp must undo it
    points = ARCFACE_POINTS * 2 + (100, 60)
    for x, y in points:
        image[int(y) - 1 : int(y) + 2, int(x) - 1 : int(x) + 2] = (255, 0, 255)
    aligned = align(image, points)
    for x, y in ARCFACE_POINTS:
        assert tuple(aligned[round(y), round(x)]) == (255, 0, 255)


@pytest.fixture(scope="module")
def onnx_face(models_dir: Path) -> FaceConfig:
    settings = devmodels.onnx_settings(models_dir)
    yunet = devmodels.yunet_settings(models_dir)
    assert settings is not None and yunet is not None, "the shared models are missing from ../shared/models"
    return FaceConfig(**settings, **yunet)


@pytest.mark.parametrize("detector", ["hog", "yunet"])
def test_mobilefacenet_separates_the_shared_people(faces_dir: Path, onnx_face: FaceConfig, detector: str) -> None:
    config = onnx_face.model_copy(update={"detector": detector})
    det = make_detector(config, scale=1.0)
    encodings, people = [], []
    for person in PEOPLE:
        for photo in sorted((faces_dir / "train" / person).iterdir()):
            rgb = to_rgb(read_image(photo))
            encodings.append(det.encode(rgb, det.detect(rgb)[0]))
            people.append(person)
    gallery = Gallery(np.stack(encodings), people).calibrate(
        threshold=config.rules.threshold, gap=config.rules.gap, lookalike=0.9
    )
    assert not gallery.lookalikes
    for photo, truth in (("obama1.jpg", "obama"), ("johnsnow_test1.jpg", "kit_harington")):
        rgb = to_rgb(read_image(faces_dir / "test" / photo))
        match = gallery.identify(
            det.encode(rgb, det.detect(rgb)[0]), threshold=config.rules.threshold, margin=config.rules.margin
        )
        assert match.accepted and match.employee_id == truth, match
    stranger = to_rgb(read_image(faces_dir / "lin-manuel-miranda.png"))
    match = gallery.identify(
        det.encode(stranger, det.detect(stranger)[0]), threshold=config.rules.threshold, margin=config.rules.margin
    )
    assert not match.accepted


def test_a_gallery_never_mixes_embedders(tmp_path: Path, faces_dir: Path, onnx_face: FaceConfig) -> None:
    conn = open_database(tmp_path / "presensi.db")
    clock = FakeClock(datetime(2026, 12, 3, 1, 0, tzinfo=UTC))
    photos = sorted((faces_dir / "train" / "obama").iterdir())
    Enroller(conn, FaceConfig(), clock).enrol_photos("OBAMA", "Obama", photos)
    assert roster.template_coverage(conn, embedder_id(onnx_face)).other_embedder_only == 1
    assert len(unit_gallery(conn, onnx_face)) == 0  # dlib's templates are not compared with the model's
    Enroller(conn, onnx_face, clock).enrol_photos("OBAMA", None, photos)  # the same person, the other embedder
    onnx_gallery, dlib_gallery = unit_gallery(conn, onnx_face), unit_gallery(conn, FaceConfig())
    assert (len(onnx_gallery), onnx_gallery.embedder) == (2, embedder_id(onnx_face))
    assert (len(dlib_gallery), dlib_gallery.embedder) == (2, DLIB_ID)
    coverage = roster.template_coverage(conn, embedder_id(onnx_face))
    assert (coverage.active, coverage.with_template, coverage.without_template) == (1, 1, 0)
    # an enrolment check only looks at the same embedder's templates: biden is refused as obama
    # by neither, and a duplicate is caught within one embedder
    with pytest.raises(EnrolmentError, match="already belongs to employee OBAMA"):
        Enroller(conn, onnx_face, clock).enrol_photos("OTHER", "Other", photos[:1])
    conn.close()


def test_flip_averaging_adds_the_mirror_images_output(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    path = linear_model(tmp_path / "m.onnx", weights=rng.normal(size=(3 * 112 * 112, 64)).astype(np.float32))
    face = rng.integers(0, 255, (112, 112, 3), dtype=np.uint8)
    plain = OnnxEmbedder(path, OnnxContract())
    flipped = OnnxEmbedder(path, OnnxContract(), flip=True)
    both = plain._run(face) + plain._run(np.ascontiguousarray(face[:, ::-1]))
    assert np.allclose(flipped.embed_aligned(face), both / np.linalg.norm(both), atol=1e-5)
    assert not np.allclose(plain.embed_aligned(face), flipped.embed_aligned(face), atol=1e-3)
