"""``presensi bench accuracy --faces DIR``: how well each embedder tells these people apart.

DIR/<person>/<photos>: a regency's own staff photos (kept on its own machine; the photos are
read, never copied or stored). For dlib and for the ONNX model (the configured one, ``--onnx-model``,
or the shared development model when present): score distributions, false-match and
false-non-match rates at the configured rules and at 1 % / 0.1 % false-match rates, d′, and the
1:N simulation (``kiosk.face.accuracy``); plus a PNG of the distributions with the thresholds.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from core.config import load_config
from kiosk.face import accuracy, devmodels

NAME = "accuracy"
HELP = "same/different-person distances, FMR/FNMR, d′ and a 1:N simulation on DIR/<person>/<photos>, per embedder"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--faces", type=Path, required=True, help="DIR/<person>/<photos>: one folder of photos per person")
    parser.add_argument("--gallery-photos", type=int, default=1, help="photos of each person enrolled in the 1:N gallery (k)")
    parser.add_argument("--png", type=Path, default=Path("presensi-accuracy.png"), help="where to write the distributions")
    parser.add_argument("--onnx-model", type=Path, default=None, help="an ONNX model to measure (else face.onnx_model)")
    parser.add_argument("--embedders", default="dlib,onnx", help="which embedders to measure (dlib, onnx)")


def _configs(args: argparse.Namespace) -> tuple[list[tuple[str, Any]], list[str]]:
    face = load_config(getattr(args, "config", None)).face
    wanted = {w.strip() for w in args.embedders.split(",") if w.strip()}
    configs: list[tuple[str, Any]] = []
    notes: list[str] = []
    if "dlib" in wanted:
        configs.append(("dlib", face.model_copy(update={"embedder": "dlib"})))
    if "onnx" in wanted:
        if args.onnx_model is not None:
            configs.append(("onnx", face.model_copy(update={"embedder": "onnx", "onnx_model": args.onnx_model.resolve()})))
        elif face.onnx_model is not None:
            configs.append(("onnx", face.model_copy(update={"embedder": "onnx"})))
        elif (settings := devmodels.onnx_settings()) is not None:
            configs.append(("onnx", face.model_copy(update=settings)))
            notes.append(f"onnx: the shared development model {settings['onnx_model']} (not for production: docs/face.md)")
        else:
            notes.append("onnx: no model configured (face.onnx_model) or given (--onnx-model); measured dlib only")
    return configs, notes


def run(args: argparse.Namespace) -> dict[str, Any]:
    photos = accuracy.find_photos(args.faces)
    configs, notes = _configs(args)
    reports = [accuracy.report(accuracy.encode_photos(photos, cfg), cfg, k=args.gallery_photos) for _, cfg in configs]
    result: dict[str, Any] = {"faces": str(args.faces), "notes": notes, "embedders": list(accuracy.printable(reports))}
    try:
        result["png"] = str(accuracy.plot(reports, args.png))
    except ImportError:
        result["png"] = None
        notes.append("no PNG: matplotlib is not installed (pip install 'presensi-kiosk[accuracy]')")
    return result
