"""Presentation attacks made from genuine material, for the tests and ``presensi bench liveness``.

Nothing here runs on a kiosk. Every generator takes a genuine frame, the face box and an injected
:class:`random.Random`, and returns what a camera would see of the attack: a BGR frame (and the
face box in it). Landmark-track generators give what a landmark detector would report for a
rotating 3-D head or a rotating (flat or bent) picture.

- :func:`print_attack` — halftone dot screens per ink, paper tint and ink black, paper margin,
  perspective, defocus, sensor noise and JPEG.
- :func:`screen_attack` — the photo on an RGB-stripe subpixel grid with a black matrix, display
  gamma and white point, a bezel, a glare highlight, captured at a ratio that makes moiré.
- :func:`plane_motion` — a still photo as a flat or bent sheet turned, tilted and moved in 3-D.
- :func:`head_track` / :func:`plane_track` — landmark tracks of a rotating 3-D face model versus a
  rotating plane carrying the same face, with detector noise.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image as PILImage

from kiosk.liveness import landmarks as lm
from kiosk.liveness.base import Box

Image = npt.NDArray[np.uint8]
FRAME_SIZE = (640, 480)


@dataclass(frozen=True)
class Shot:
    """One camera frame of a presentation and where the face is in it."""

    frame: Image
    box: Box


# --- image helpers ------------------------------------------------------------------------------


def _jpeg(image: Image, quality: int) -> Image:
    buffer = io.BytesIO()
    PILImage.fromarray(image[:, :, ::-1]).save(buffer, format="JPEG", quality=quality)
    decoded = np.asarray(PILImage.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
    return np.ascontiguousarray(decoded[:, :, ::-1])


def _portrait(frame: Image, box: Box, factor: float = 2.4) -> tuple[Image, Box]:
    """The region around the face a printed or displayed portrait would show, and the box in it."""
    top, right, bottom, left = box
    height, width = frame.shape[:2]
    cx, cy = (left + right) / 2, (top + bottom) / 2
    half = max(right - left, bottom - top) * factor / 2
    x0, y0 = max(int(cx - half), 0), max(int(cy - half * 1.15), 0)
    x1, y1 = min(int(cx + half), width), min(int(cy + half * 1.15), height)
    return frame[y0:y1, x0:x1].copy(), (top - y0, right - x0, bottom - y0, left - x0)


def _background(rng: random.Random, size: tuple[int, int] = FRAME_SIZE) -> Image:
    """An office wall: a lit gradient in a muted colour with a little texture."""
    width, height = size
    base = np.array([rng.uniform(90, 200) for _ in range(3)], dtype=np.float32)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    light = 0.75 + 0.35 * (xx / width) * rng.uniform(-1, 1) + 0.25 * (yy / height) * rng.uniform(-1, 1)
    noise = np.random.default_rng(rng.getrandbits(32)).normal(0, 4, (height, width, 1)).astype(np.float32)
    wall = base[np.newaxis, np.newaxis, :] * light[..., np.newaxis] + noise
    out: Image = np.clip(wall, 0, 255).astype(np.uint8)
    return out


def _capture(scene: Image, rng: random.Random, *, blur: float, noise: float, quality: int) -> Image:
    """What the kiosk camera makes of a scene: defocus, sensor noise, JPEG."""
    out = scene.astype(np.float32)
    if blur > 0:
        out = np.asarray(cv2.GaussianBlur(out, (0, 0), blur), dtype=np.float32)
    out += np.random.default_rng(rng.getrandbits(32)).normal(0, noise, out.shape).astype(np.float32)
    return _jpeg(np.clip(out, 0, 255).astype(np.uint8), quality)


def _place(
    sheet: Image, sheet_box: Box, rng: random.Random, *, face_width: float, jitter: float, size: tuple[int, int] = FRAME_SIZE
) -> tuple[Image, Box, npt.NDArray[np.float64]]:
    """Warp ``sheet`` into a camera frame (perspective ``jitter`` of its corners) with the face
    ``face_width`` pixels wide near the centre; returns the frame, the face box and the homography."""
    width, height = size
    top, right, bottom, left = sheet_box
    scale = face_width / max(right - left, 1)
    sh, sw = sheet.shape[:2]
    cx = width / 2 + rng.uniform(-0.08, 0.08) * width - (left + right) / 2 * scale
    cy = height / 2 + rng.uniform(-0.08, 0.05) * height - (top + bottom) / 2 * scale
    src = np.array([[0, 0], [sw, 0], [sw, sh], [0, sh]], dtype=np.float32)
    dst = src * scale + np.array([cx, cy], dtype=np.float32)
    span = jitter * face_width * 2
    dst += np.array([[rng.uniform(-span, span), rng.uniform(-span, span)] for _ in range(4)], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    frame = _background(rng, size)
    warped = cv2.warpPerspective(sheet, matrix, size, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT)
    mask = cv2.warpPerspective(np.full((sh, sw), 255, np.uint8), matrix, size, flags=cv2.INTER_NEAREST)
    frame[mask > 0] = warped[mask > 0]
    corners = cv2.perspectiveTransform(
        np.array([[[left, top], [right, top], [right, bottom], [left, bottom]]], dtype=np.float32), matrix
    )[0]
    box = (int(corners[:, 1].min()), int(corners[:, 0].max()), int(corners[:, 1].max()), int(corners[:, 0].min()))
    return frame, box, np.asarray(matrix, dtype=np.float64)


# --- print --------------------------------------------------------------------------------------


def halftone(image: Image, cell: float, angles: tuple[float, float, float] = (15.0, 75.0, 45.0)) -> Image:
    """Amplitude-modulated dot screens, one per ink (cyan, magenta, yellow as inverted B, G, R...
    channels of BGR), each at its own angle: what a colour printer lays on paper."""
    height, width = image.shape[:2]
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    out = np.empty_like(image)
    for channel, angle in enumerate(angles):
        theta = math.radians(angle)
        u = xx * math.cos(theta) + yy * math.sin(theta)
        v = -xx * math.sin(theta) + yy * math.cos(theta)
        screen = (np.cos(2 * np.pi * u / cell) + np.cos(2 * np.pi * v / cell)) / 4 + 0.5
        ink = 1.0 - image[..., channel].astype(np.float32) / 255.0
        out[..., channel] = np.where(ink > screen, 0, 255).astype(np.uint8)
    return out


def print_attack(frame: Image, box: Box, rng: random.Random) -> Shot:
    """A colour print of the face held up to the camera."""
    portrait, pbox = _portrait(frame, box, rng.uniform(2.0, 3.0))
    target = rng.uniform(350, 550)  # print resolution: the face's width in printer dots
    scale = target / max(pbox[1] - pbox[3], 1)
    printed = np.asarray(cv2.resize(portrait, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC), dtype=np.uint8)
    pbox = tuple(int(v * scale) for v in pbox)  # type: ignore[assignment]
    dots = halftone(printed, cell=rng.uniform(3.0, 5.0)).astype(np.float32)
    dots = np.asarray(cv2.GaussianBlur(dots, (0, 0), rng.uniform(0.6, 1.2)), dtype=np.float32)  # ink spread
    paper = np.array([rng.uniform(200, 235), rng.uniform(215, 245), rng.uniform(225, 250)], np.float32)  # warm white (BGR)
    black = rng.uniform(25, 50)
    tinted = black + dots / 255.0 * (paper - black)
    margin = int(rng.choice([0.0, 0.04, 0.1]) * tinted.shape[1])
    sheet = np.pad(tinted, ((margin, margin), (margin, margin), (0, 0)), constant_values=0)
    if margin:
        sheet[:margin, :] = paper
        sheet[-margin:, :] = paper
        sheet[:, :margin] = paper
        sheet[:, -margin:] = paper
    pbox = (pbox[0] + margin, pbox[1] + margin, pbox[2] + margin, pbox[3] + margin)
    scene, face_box, _ = _place(np.clip(sheet, 0, 255).astype(np.uint8), pbox, rng, face_width=rng.uniform(110, 190), jitter=0.08)
    shot = _capture(scene, rng, blur=rng.uniform(0.4, 1.1), noise=rng.uniform(1.5, 4), quality=rng.randint(70, 92))
    return Shot(shot, face_box)


# --- screen -------------------------------------------------------------------------------------


def subpixel_screen(image: Image, pixel: int = 3) -> Image:
    """Each display pixel as ``pixel``×``pixel`` camera-side cells: R, G, B stripes and a dark row."""
    height, width = image.shape[:2]
    big = np.zeros((height * pixel, width * pixel, 3), np.uint8)
    stripe = max(pixel // 3, 1)
    for index, channel in enumerate((2, 1, 0)):  # R, G, B from the left in BGR storage
        for dx in range(stripe):
            column = index * stripe + dx
            if column < pixel:
                big[:, column::pixel, channel] = np.repeat(image[:, :, channel], pixel, axis=0)
    big[pixel - 1 :: pixel, :, :] //= 3  # the black matrix between rows
    return big


def screen_attack(frame: Image, box: Box, rng: random.Random) -> Shot:
    """The face shown on a phone or tablet screen held up to the camera."""
    portrait, pbox = _portrait(frame, box, rng.uniform(2.0, 3.0))
    display_face = rng.uniform(120, 220)  # face width in display pixels
    scale = display_face / max(pbox[1] - pbox[3], 1)
    shown = cv2.resize(portrait, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    pbox = tuple(int(v * scale) for v in pbox)  # type: ignore[assignment]
    gamma = rng.uniform(0.75, 1.35)
    shown = np.clip(255.0 * (shown.astype(np.float32) / 255.0) ** gamma * np.array([1.05, 1.0, 0.94]), 0, 255).astype(np.uint8)
    pixel = 3
    grid = subpixel_screen(shown, pixel)
    grid = np.clip(grid.astype(np.float32) * rng.uniform(2.2, 2.8), 0, 255).astype(np.uint8)  # exposure for an emissive screen
    pbox = tuple(v * pixel for v in pbox)  # type: ignore[assignment]
    bezel = int(rng.uniform(0.03, 0.08) * grid.shape[1])
    sheet = np.pad(grid, ((bezel, bezel), (bezel, bezel), (0, 0)), constant_values=rng.randint(5, 30))
    pbox = (pbox[0] + bezel, pbox[1] + bezel, pbox[2] + bezel, pbox[3] + bezel)
    scene, face_box, _ = _place(sheet, pbox, rng, face_width=rng.uniform(110, 190), jitter=0.06)
    scene = _glare(scene, face_box, rng)
    shot = _capture(scene, rng, blur=rng.uniform(0.3, 0.8), noise=rng.uniform(1.5, 3.5), quality=rng.randint(75, 92))
    return Shot(shot, face_box)


def _glare(scene: Image, box: Box, rng: random.Random) -> Image:
    """A reflection of a lamp or window on the glass: a bright, colourless blob."""
    top, right, bottom, left = box
    height, width = scene.shape[:2]
    cx = rng.uniform(left, right)
    cy = rng.uniform(top, bottom)
    sx, sy = rng.uniform(0.12, 0.35) * (right - left), rng.uniform(0.08, 0.3) * (bottom - top)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    blob = np.exp(-(((xx - cx) / sx) ** 2 + ((yy - cy) / sy) ** 2) / 2)
    strength = rng.uniform(60, 220)
    out: Image = np.clip(scene.astype(np.float32) + strength * blob[..., np.newaxis], 0, 255).astype(np.uint8)
    return out


# --- a photo moved as a sheet in 3-D ------------------------------------------------------------

Bend = Literal["flat", "vertical", "horizontal"]


def _rotation(yaw: float, pitch: float, roll: float) -> npt.NDArray[np.float64]:
    cy, sy = math.cos(yaw), math.sin(yaw)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cr, sr = math.cos(roll), math.sin(roll)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    rotation: npt.NDArray[np.float64] = rz @ rx @ ry
    return rotation


def _project(points: npt.NDArray[np.float64], focal: float, centre: tuple[float, float]) -> npt.NDArray[np.float64]:
    """Pinhole projection; the camera looks along -z from the origin (points have z < 0)."""
    depth = -points[:, 2]
    return np.stack([centre[0] + focal * points[:, 0] / depth, centre[1] + focal * points[:, 1] / depth], axis=1)


def _sheet_points(uv: npt.NDArray[np.float64], bend: Bend, radius: float) -> npt.NDArray[np.float64]:
    """Sheet coordinates (centred, in face widths) to 3-D on a flat or bent (cylindrical) sheet."""
    x, y = uv[:, 0], uv[:, 1]
    z = np.zeros_like(x)
    if bend == "vertical":  # bent about a vertical axis: the sides curl back
        angle = x / radius
        x, z = radius * np.sin(angle), radius * (np.cos(angle) - 1)
    elif bend == "horizontal":  # bent about a horizontal axis: top and bottom curl back
        angle = y / radius
        y, z = radius * np.sin(angle), radius * (np.cos(angle) - 1)
    return np.stack([x, y, z], axis=1)


def plane_motion(
    frame: Image,
    box: Box,
    rng: random.Random,
    *,
    frames: int = 10,
    bend: Bend = "flat",
    direction: float = 1.0,
    size: tuple[int, int] = FRAME_SIZE,
) -> list[Shot]:
    """A still photo held as a sheet (flat, or bent with a radius of 1.5–4 face widths) and
    turned up to 25–45° towards ``direction`` (+1 image right), tilted and moved, ``frames`` views."""
    portrait, pbox = _portrait(frame, box, 2.2)
    ph, pw = portrait.shape[:2]
    face_w = max(pbox[1] - pbox[3], 1)
    width, height = size
    focal = 1.0 * width
    distance = rng.uniform(3.5, 5.0)  # face widths from the camera: the face ~ focal/distance px wide
    radius = rng.uniform(1.5, 4.0)
    max_yaw = math.radians(rng.uniform(25, 45)) * direction
    max_pitch = math.radians(rng.uniform(-15, 15))
    # A grid over the sheet: each cell is warped by its own homography (fine enough for a bend).
    cols, rows = (16, 1) if bend == "vertical" else (1, 16) if bend == "horizontal" else (1, 1)
    xs = np.linspace(0, pw, cols + 1)
    ys = np.linspace(0, ph, rows + 1)
    centre_u, centre_v = (pbox[1] + pbox[3]) / 2, (pbox[0] + pbox[2]) / 2
    background = _background(rng, size)
    shots = []
    for index in range(frames):
        t = index / max(frames - 1, 1)
        rotation = _rotation(max_yaw * t, max_pitch * t, math.radians(rng.uniform(-3, 3)))
        offset = np.array([rng.uniform(-0.1, 0.1) + 0.3 * t * direction, rng.uniform(-0.1, 0.1), -distance - 0.4 * t])
        scene = background.copy()

        def to_image(
            u: npt.NDArray[np.float64],
            v: npt.NDArray[np.float64],
            rotation: npt.NDArray[np.float64] = rotation,
            offset: npt.NDArray[np.float64] = offset,
        ) -> npt.NDArray[np.float64]:
            uv = np.stack([(u - centre_u) / face_w, (v - centre_v) / face_w], axis=1)
            world = _sheet_points(uv, bend, radius) @ rotation.T + offset
            return _project(world, focal, (width / 2, height / 2))

        for j in range(rows):
            for i in range(cols):
                x0, x1, y0, y1 = xs[i], xs[i + 1], ys[j], ys[j + 1]
                src = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
                dst = to_image(src[:, 0], src[:, 1])
                matrix = cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32))
                cell = np.zeros((ph, pw), np.uint8)
                cell[int(y0) : math.ceil(y1), int(x0) : math.ceil(x1)] = 255
                warped = cv2.warpPerspective(portrait, matrix, size, flags=cv2.INTER_LINEAR)
                mask = cv2.warpPerspective(cell, matrix, size, flags=cv2.INTER_NEAREST)
                scene[mask > 0] = warped[mask > 0]
        top, right, bottom, left = pbox
        corners = to_image(np.array([left, right, right, left], float), np.array([top, top, bottom, bottom], float))
        face_box = (int(corners[:, 1].min()), int(corners[:, 0].max()), int(corners[:, 1].max()), int(corners[:, 0].min()))
        shot = _capture(scene, rng, blur=0.6, noise=2.0, quality=88)
        shots.append(Shot(shot, face_box))
    return shots


# --- landmark tracks ----------------------------------------------------------------------------

#: The head turns about the neck, about 1.3 eye distances behind the eyes.
PIVOT = np.array([0.0, 0.5, -1.3])


def _track(
    model: npt.NDArray[np.float64],
    rng: random.Random,
    yaws: list[float],
    pitches: list[float],
    *,
    pivot: npt.NDArray[np.float64],
    iod_px: float,
    noise_px: float,
    size: tuple[int, int] = FRAME_SIZE,
) -> list[lm.Points]:
    width, height = size
    focal = 1.0 * width
    distance = focal / iod_px  # eye distances to the camera for the face to be iod_px wide
    noise = np.random.default_rng(rng.getrandbits(32))
    track = []
    for yaw, pitch in zip(yaws, pitches, strict=True):
        rotation = _rotation(yaw, pitch, 0.0)
        world = (model - pivot) @ rotation.T + pivot + np.array([0.0, 0.0, -distance])
        points = _project(world, focal, (width / 2, height / 2))
        track.append(points + noise.normal(0, noise_px, points.shape))
    return track


def head_track(
    rng: random.Random, prompt: Literal["left", "right", "blink"], *, frames: int = 12, iod_px: float = 60, noise_px: float = 0.8
) -> list[lm.Points]:
    """A live head doing what ``prompt`` asks: a turn of 15–35° (the person's left is the image
    right) or a blink (lids meet for two frames), with small natural sway."""
    sway = [math.radians(rng.uniform(-2, 2)) for _ in range(frames)]
    if prompt == "blink":
        yaws = sway
        pitches = [math.radians(rng.uniform(-2, 2)) for _ in range(frames)]
        track = _track(lm.GENERIC_FACE, rng, yaws, pitches, pivot=PIVOT, iod_px=iod_px, noise_px=noise_px)
        closed_at = rng.randint(3, frames - 4)
        for index in (closed_at, closed_at + 1):
            track[index] = _close_eyes(track[index], 0.15)
        return track
    sign = 1.0 if prompt == "left" else -1.0
    # A positive rotation about y carries the nose (z > 0) to the image right.
    target = sign * math.radians(rng.uniform(15, 35))
    yaws = [target * min(1.0, i / (frames * 0.6)) + sway[i] for i in range(frames)]
    pitches = [math.radians(rng.uniform(-3, 3)) for _ in range(frames)]
    return _track(lm.GENERIC_FACE, rng, yaws, pitches, pivot=PIVOT, iod_px=iod_px, noise_px=noise_px)


def plane_track(
    rng: random.Random,
    direction: float,
    *,
    bend: Bend = "flat",
    radius: float = 2.0,
    frames: int = 12,
    iod_px: float = 60,
    noise_px: float = 0.8,
) -> list[lm.Points]:
    """The same face printed on a sheet (flat or bent with ``radius`` eye distances), turned up to
    20–50° towards ``direction`` and tilted: what the landmarks of a moved photo do."""
    flat = np.column_stack([lm.GENERIC_FACE[:, :2], np.zeros(len(lm.GENERIC_FACE))])
    sheet = _sheet_points(flat[:, :2], bend, radius)
    target = direction * math.radians(rng.uniform(20, 50))
    pitch = math.radians(rng.uniform(-25, 25))
    yaws = [target * i / (frames - 1) for i in range(frames)]
    pitches = [pitch * i / (frames - 1) for i in range(frames)]
    return _track(sheet, rng, yaws, pitches, pivot=np.zeros(3), iod_px=iod_px, noise_px=noise_px)


def _close_eyes(points: lm.Points, openness: float) -> lm.Points:
    """Lids moved towards the eye's centre line, leaving ``openness`` of the gap."""
    out = points.copy()
    for name in ("left_eye", "right_eye"):
        start = lm.part_slice(name).start
        eye = out[start : start + 6]
        centre = (eye[0] + eye[3]) / 2
        for k in (1, 2, 4, 5):
            eye[k] = centre + (eye[k] - centre) * openness
        out[start : start + 6] = eye
    return out
