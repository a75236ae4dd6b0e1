"""The face pipeline's numbers on the shared photos, as JSON, for comparing architectures.

    python face_numbers.py FACES_DIR MODELS_DIR [REFERENCE.json] > numbers.json

Run by tests/test_image_chroot.py with the installed unit's Python on this machine (x86-64) and
inside the arm64 root (under qemu), which has only the installed ``kiosk`` package, so this file
imports nothing from the tests. For each photo: every HOG face's encoding by dlib and by the numpy
network on the same chip (and their largest difference), YuNet's faces (box, five points, score
order) and the ONNX embedder's template of each. With REFERENCE (another machine's output), the
ONNX templates are also made on the reference's five points, so that the embedder is compared
without the detector's differences.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

PHOTOS = ["obama-720p.jpg", "two_people.jpg", "test/obama_and_biden.jpg", "test/kit_with_rose.jpg", "train/biden/biden.jpg"]


def numbers(faces: Path, models: Path, reference: dict[str, Any] | None) -> dict[str, Any]:
    import dlib
    import numpy as np

    from core.config import FaceConfig
    from core.templates.embedder_ids import dlib_model_path
    from kiosk.camera.file import read_image
    from kiosk.face import devmodels
    from kiosk.face import encoder as enc
    from kiosk.face.detect import FaceDetector, YunetFinder, to_rgb
    from kiosk.face.embedders import load_embedder

    hog = FaceDetector(scale=1.0, upsample=1)
    import face_recognition_models

    predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location())
    ours, theirs = enc.ResnetEncoder(dlib_model_path()), enc.DlibEncoder(dlib_model_path())
    onnx_settings, yunet_settings = devmodels.onnx_settings(models), devmodels.yunet_settings(models)
    assert onnx_settings and yunet_settings, f"the development models are missing from {models}"
    embedder = load_embedder(FaceConfig(**onnx_settings, **yunet_settings))
    yunet = YunetFinder(Path(yunet_settings["yunet_model"]))
    out: dict[str, Any] = {"machine": __import__("platform").machine(), "photos": {}}
    for name in PHOTOS:
        rgb = to_rgb(read_image(faces / name))
        photo: dict[str, Any] = {"hog": [], "yunet": []}
        for box in sorted(hog.detect(rgb), key=lambda b: b[3]):
            top, right, bottom, left = box
            shape = predictor(rgb, dlib.rectangle(left, top, right, bottom))
            chip = np.asarray(dlib.get_face_chip(rgb, shape, size=enc.CHIP_SIZE, padding=enc.CHIP_PADDING))
            numpy_code, dlib_code = ours.encode_chip(chip), theirs.encode_chip(chip)
            photo["hog"].append(
                {
                    "box": list(box),
                    "dlib": dlib_code.tolist(),
                    "numpy_vs_dlib": float(np.abs(numpy_code - dlib_code).max()),
                }
            )
        for n, (box, points) in enumerate(sorted(yunet.find(rgb), key=lambda f: f[0][3])):
            face = {"box": list(box), "points": points.tolist(), "onnx": embedder.embed(rgb, box, points).tolist()}
            theirs_faces = (reference or {}).get("photos", {}).get(name, {}).get("yunet", [])
            if n < len(theirs_faces):
                ref = theirs_faces[n]
                ref_points = np.asarray(ref["points"], dtype=np.float32)
                face["onnx_on_reference_points"] = embedder.embed(rgb, tuple(ref["box"]), ref_points).tolist()
            photo["yunet"].append(face)
        out["photos"][name] = photo
    return out


def main(argv: list[str]) -> int:
    faces, models = Path(argv[0]), Path(argv[1])
    reference = json.loads(Path(argv[2]).read_text()) if len(argv) > 2 else None
    json.dump(numbers(faces, models, reference), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
