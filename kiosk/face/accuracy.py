"""How well an embedder tells a regency's own staff apart: the figures ``presensi bench accuracy``
prints (docs/face.md explains how to read them).

Photos come as DIR/<person>/<photo>. Every photo is detected (the configured detector, full
resolution; the largest face) and encoded once; then:

- **pairs**: every same-person pair (genuine) and different-person pair (impostor), their distance
  distributions, d′ = |μ_impostor − μ_genuine| / √((σ²_genuine + σ²_impostor) / 2);
- **rates**: false-match rate (impostor pairs under the threshold) and false-non-match rate
  (genuine pairs at or over it), at the configured threshold and at the thresholds that give a 1 %
  and a 0.1 % false-match rate on these photos (with fewer than 1/rate impostor pairs the rate is
  not resolved: said so in ``resolved``);
- **1:N**: the gallery is the first ``k`` photos of each person (sorted by name), calibrated as the
  unit calibrates it; every other photo is a probe: right, wrong person, not recognised; and
  **strangers**: each person's photos against the gallery without them, accepted as someone.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from core.config import FaceConfig
from core.errors import DeviceError, FaceError
from kiosk.camera.file import read_image
from kiosk.face.detect import make_detector, to_rgb
from kiosk.face.identify import Gallery

log = logging.getLogger(__name__)

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
FALSE_MATCH_RATES = (0.01, 0.001)


@dataclass(frozen=True)
class Photo:
    person: str
    path: Path


@dataclass
class Encoded:
    """The photos an embedder encoded, and those it could not (no face)."""

    embedder: str
    photos: list[Photo]
    encodings: npt.NDArray[np.float32]
    missed: list[str]
    ms_per_face: float


def find_photos(root: Path) -> list[Photo]:
    """DIR/<person>/<photo>, sorted; FaceError when the layout is not that."""
    if not root.is_dir():
        raise FaceError(f"{root} is not a folder; give DIR with one sub-folder of photos per person (DIR/<person>/<photo>)")
    photos = [
        Photo(person.name, p)
        for person in sorted(d for d in root.iterdir() if d.is_dir())
        for p in sorted(person.iterdir())
        if p.suffix.lower() in PHOTO_SUFFIXES
    ]
    people = {p.person for p in photos}
    if len(people) < 2:
        raise FaceError(f"{root} holds photos of {len(people)} person(s); the report needs at least two (DIR/<person>/<photo>)")
    return photos


def encode_photos(photos: list[Photo], config: FaceConfig) -> Encoded:
    """Detect and encode each photo with the configured detector and embedder."""

    detector = make_detector(config, scale=1.0)
    kept, vectors, missed = [], [], []
    spent = 0.0
    for photo in photos:
        try:
            rgb = to_rgb(read_image(photo.path))
        except DeviceError as exc:
            log.warning("skipping %s: %s", photo.path, exc)
            missed.append(str(photo.path))
            continue
        boxes = detector.detect(rgb)
        if not boxes:
            missed.append(str(photo.path))
            continue
        started = time.perf_counter()
        vectors.append(detector.encode(rgb, boxes[0]))
        spent += time.perf_counter() - started
        kept.append(photo)
    dims = vectors[0].size if vectors else 128
    matrix = np.stack(vectors).astype(np.float32) if vectors else np.zeros((0, dims), np.float32)
    return Encoded(detector.embedder.info.short, kept, matrix, missed, 1000 * spent / max(1, len(vectors)))


def _pairs(encoded: Encoded) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    m = encoded.encodings.astype(np.float64)
    sq = np.einsum("ij,ij->i", m, m)
    d = np.sqrt(np.maximum(sq[:, None] - 2 * m @ m.T + sq[None, :], 0.0))
    people = np.array([p.person for p in encoded.photos])
    upper = np.triu_indices(len(people), k=1)
    same = people[upper[0]] == people[upper[1]]
    values = d[upper]
    return values[same], values[~same]


def _summary(values: npt.NDArray[np.float64]) -> dict[str, Any]:
    if not values.size:
        return {"count": 0}
    return {
        "count": int(values.size),
        "mean": round(float(values.mean()), 4),
        "std": round(float(values.std()), 4),
        "min": round(float(values.min()), 4),
        "median": round(float(np.median(values)), 4),
        "max": round(float(values.max()), 4),
    }


def _rates(genuine: npt.NDArray[np.float64], impostor: npt.NDArray[np.float64], threshold: float) -> dict[str, Any]:
    fm = int((impostor < threshold).sum())
    fnm = int((genuine >= threshold).sum())
    return {
        "threshold": round(float(threshold), 4),
        "false_match_rate": round(fm / impostor.size, 5) if impostor.size else None,
        "false_matches": fm,
        "false_non_match_rate": round(fnm / genuine.size, 5) if genuine.size else None,
        "false_non_matches": fnm,
    }


def at_false_match_rate(genuine: npt.NDArray[np.float64], impostor: npt.NDArray[np.float64], rate: float) -> dict[str, Any]:
    """The largest threshold whose false-match rate on these pairs is at most ``rate``."""
    ordered = np.sort(impostor)
    allowed = math.floor(rate * ordered.size)  # impostor pairs that may fall under the threshold
    threshold = float(ordered[allowed]) if ordered.size else 0.0
    return {
        "target_false_match_rate": rate,
        "resolved": bool(ordered.size * rate >= 1),
        **_rates(genuine, impostor, threshold),
    }


def d_prime(genuine: npt.NDArray[np.float64], impostor: npt.NDArray[np.float64]) -> float | None:
    if genuine.size < 2 or impostor.size < 2:
        return None
    spread = math.sqrt((genuine.var() + impostor.var()) / 2)
    return round(abs(float(impostor.mean() - genuine.mean())) / spread, 3) if spread else None


def _by_person(encoded: Encoded) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for i, photo in enumerate(encoded.photos):
        groups.setdefault(photo.person, []).append(i)
    return groups


def _gallery(encoded: Encoded, rows: list[int], config: FaceConfig) -> Gallery:
    rules = config.rules
    gallery = Gallery(encoded.encodings[rows], [encoded.photos[i].person for i in rows], dimensions=encoded.encodings.shape[1])
    return gallery.calibrate(threshold=rules.threshold, gap=rules.gap, lookalike=rules.lookalike)


def one_to_many(encoded: Encoded, config: FaceConfig, k: int) -> dict[str, Any]:
    """The 1:N simulation: gallery = first ``k`` photos of each person, probes = the rest."""
    rules = config.rules
    groups = _by_person(encoded)
    enrolled = [i for rows in groups.values() for i in rows[:k]]
    probes = [i for rows in groups.values() for i in rows[k:]]
    gallery = _gallery(encoded, enrolled, config)
    right = wrong = unrecognised = 0
    wrong_examples: list[str] = []
    for i in probes:
        match = gallery.identify(encoded.encodings[i], threshold=rules.threshold, margin=rules.margin)
        if not match.accepted:
            unrecognised += 1
        elif match.employee_id == encoded.photos[i].person:
            right += 1
        else:
            wrong += 1
            wrong_examples.append(f"{encoded.photos[i].path.name} → {match.employee_id}")
    strangers = accepted = 0
    for person, rows in groups.items():
        others = [i for i in enrolled if encoded.photos[i].person != person]
        if not others:
            continue
        without = _gallery(encoded, others, config)
        for i in rows:
            strangers += 1
            accepted += without.identify(encoded.encodings[i], threshold=rules.threshold, margin=rules.margin).accepted
    return {
        "gallery_people": len({encoded.photos[i].person for i in enrolled}),
        "gallery_photos_each": k,
        "probes": len(probes),
        "right": right,
        "wrong_person": wrong,
        "not_recognised": unrecognised,
        "wrong_examples": wrong_examples[:10],
        "strangers": strangers,
        "strangers_accepted": accepted,
        "lookalike_pairs": len(gallery.lookalikes),
    }


def report(encoded: Encoded, config: FaceConfig, *, k: int) -> dict[str, Any]:
    """Every figure for one embedder (see the module's docstring)."""
    genuine, impostor = _pairs(encoded)
    rules = config.rules
    return {
        "embedder": encoded.embedder,
        "detector": config.detector,
        "photos": len(encoded.photos) + len(encoded.missed),
        "people": len(_by_person(encoded)),
        "no_face_found": encoded.missed,
        "ms_per_face": round(encoded.ms_per_face, 2),
        "genuine": _summary(genuine),
        "impostor": _summary(impostor),
        "d_prime": d_prime(genuine, impostor),
        "configured": {**_rates(genuine, impostor, rules.threshold), "margin": rules.margin, "lookalike": rules.lookalike},
        "at_false_match_rate": [at_false_match_rate(genuine, impostor, r) for r in FALSE_MATCH_RATES],
        "one_to_many": one_to_many(encoded, config, k),
        "_distances": {"genuine": genuine, "impostor": impostor},  # for the plot; removed before printing
    }


def plot(reports: list[dict[str, Any]], path: Path) -> Path:
    """The two distance distributions of each embedder with its thresholds, as one PNG."""
    # late: matplotlib loads only when this runs
    import matplotlib

    matplotlib.use("Agg")
    # late: matplotlib loads only when this runs
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(reports), 1, figsize=(8, 3.2 * len(reports)), squeeze=False)
    for ax, rep in zip(axes[:, 0], reports, strict=True):
        genuine, impostor = rep["_distances"]["genuine"], rep["_distances"]["impostor"]
        top = max([*genuine.tolist(), *impostor.tolist(), rep["configured"]["threshold"]]) * 1.05
        bins = np.linspace(0, top, 60)
        ax.hist(
            impostor, bins=bins, density=True, alpha=0.55, color="#c0392b", label=f"orang berbeda / different ({impostor.size})"
        )
        ax.hist(genuine, bins=bins, density=True, alpha=0.55, color="#2471a3", label=f"orang sama / same person ({genuine.size})")
        ax.axvline(
            rep["configured"]["threshold"],
            color="black",
            linestyle="-",
            label=f"ambang / threshold {rep['configured']['threshold']}",
        )
        for fmr in rep["at_false_match_rate"]:
            ax.axvline(
                fmr["threshold"],
                color="grey",
                linestyle="--",
                label=f"FMR {fmr['target_false_match_rate']:.1%}: {fmr['threshold']}",
            )
        ax.set_title(f"{rep['embedder']} — {rep['people']} orang / people, d′ = {rep['d_prime']}")
        ax.set_xlabel("jarak / distance")
        ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def printable(reports: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for rep in reports:
        yield {k: v for k, v in rep.items() if not k.startswith("_")}
