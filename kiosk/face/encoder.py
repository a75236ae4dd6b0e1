"""dlib's face recognition network (``dlib_face_recognition_resnet_model_v1``) run with numpy.

face_recognition computes every encoding with dlib's own CPU code, which in the ``dlib-bin``
wheel is built without BLAS: about 100 ms per face on the development machine and more on a
Pi, and it holds the GIL throughout. The network is small (29 convolutions on a 150×150 chip,
~0.4 G multiply-adds), so the same weights run as matrix products through numpy's BLAS in a
fraction of that. :class:`ResnetEncoder` reads the weights from the model file
face_recognition_models installs (nothing is downloaded or converted ahead of time) and
checks the layer sequence against the network it implements; :func:`load_encoder` falls back
to dlib (with a log line saying why) when the file is not the network described here.
``tests/test_face_encoder.py`` checks that both give the same encodings on the shared photos.

The network (dlib's ``dnn_face_recognition_ex.cpp``): a 7×7/2 convolution and a 3×3/2 max pool,
then residual blocks of two 3×3 convolutions with affine (frozen batch-norm) layers and ReLUs —
three of 32 filters, four of 64, three of 128, three of 256 and one more of 256, the first of
each width halving the size (its shortcut an average pool; shortcut and block are added with
zero padding where their sizes differ) — a global average pool, and a 256→128 linear layer.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from core.errors import ConfigError
from core.templates.embedder_ids import dlib_model_path

log = logging.getLogger(__name__)

Array = npt.NDArray[np.float32]

#: The chip the network reads: 150×150 RGB, the face aligned by the 5-point landmarks with 25 %
#: padding (what face_recognition and dlib's compute_face_descriptor extract).
CHIP_SIZE = 150
CHIP_PADDING = 0.25

#: Residual blocks from the input side: (filters, halves the size).
BLOCKS: tuple[tuple[int, bool], ...] = (
    *((32, False),) * 3,
    (64, True),
    *((64, False),) * 3,
    (128, True),
    *((128, False),) * 2,
    (256, True),
    *((256, False),) * 2,
    (256, True),
)


class Encoder(Protocol):
    """Turns an aligned 150×150 RGB face chip into a 128-value encoding."""

    def encode_chip(self, chip: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]: ...


class _Reader:
    """dlib's serialisation: integers as a size byte (high bit: negative) and little-endian
    bytes, strings as a size and bytes, floats as mantissa and exponent integers, tensors as
    a version, four dimensions and little-endian float32 values."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def int(self) -> int:
        head = self.data[self.pos]
        size = head & 0x0F
        value = int.from_bytes(self.data[self.pos + 1 : self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if head & 0x80 else value

    def real(self) -> float:
        mantissa = self.int()
        return float(mantissa * 2.0 ** self.int())

    def tensor(self) -> Array:
        version = self.int()
        if version != 2:
            raise ValueError(f"tensor version {version} at byte {self.pos}")
        shape = tuple(self.int() for _ in range(4))
        count = int(np.prod(shape))
        values = np.frombuffer(self.data, dtype="<f4", count=count, offset=self.pos)
        self.pos += 4 * count
        return values.astype(np.float32).reshape(shape)

    def after(self, name: str) -> None:
        """Move past the next serialised string ``name`` (a layer's version tag)."""
        tag = bytes([1, len(name)]) + name.encode("ascii")
        found = self.data.find(tag, self.pos)
        if found < 0:
            raise ValueError(f"no {name!r} after byte {self.pos}")
        self.pos = found + len(tag)

    def next_tag(self, names: tuple[str, ...]) -> str:
        """The first of ``names`` to come next in the stream (without moving past it)."""
        best, where = "", len(self.data)
        for name in names:
            found = self.data.find(bytes([1, len(name)]) + name.encode("ascii"), self.pos)
            if 0 <= found < where:
                best, where = name, found
        if not best:
            raise ValueError(f"no layer after byte {self.pos}")
        return best


@dataclass(frozen=True)
class _Conv:
    weights: Array  # (kh * kw * channels_in, filters), rows in window order, the affine scale folded in
    bias: Array  # the convolution's bias through the affine layer: bias * scale + shift
    size: int
    stride: int
    padding: int


def _read_conv(reader: _Reader) -> _Conv:
    reader.after("con_4")
    params = reader.tensor().reshape(-1)
    filters, rows, cols = reader.int(), reader.int(), reader.int()
    stride_y, stride_x, pad_y, pad_x = reader.int(), reader.int(), reader.int(), reader.int()
    if rows != cols or stride_y != stride_x or pad_y != pad_x:
        raise ValueError(f"a {rows}x{cols} convolution with strides {stride_y},{stride_x}")
    channels = (params.size - filters) // (filters * rows * cols)
    kernel = params[: filters * channels * rows * cols].reshape(filters, channels, rows, cols)
    bias = params[filters * channels * rows * cols :]
    reader.after("affine_")
    affine = reader.tensor().reshape(-1)
    if affine.size != 2 * filters:
        raise ValueError(f"an affine layer of {affine.size} values after {filters} filters")
    # window order of _windows(): (row, col, channel) → filters
    scale, shift = affine[:filters], affine[filters:]
    matrix = kernel.transpose(2, 3, 1, 0).reshape(rows * cols * channels, filters) * scale
    return _Conv(np.ascontiguousarray(matrix, dtype=np.float32), (bias * scale + shift).astype(np.float32), rows, stride_y, pad_y)


def _windows(x: Array, size: int, stride: int) -> Array:
    """(H, W, C) → (Ho * Wo, size * size * C), each row one window in (row, col, channel) order."""
    view = sliding_window_view(x, (size, size), axis=(0, 1))[::stride, ::stride]  # Ho, Wo, C, kh, kw
    rows, cols = view.shape[:2]
    return np.ascontiguousarray(view.transpose(0, 1, 3, 4, 2)).reshape(rows * cols, -1)


def _conv(x: Array, layer: _Conv) -> Array:
    if layer.padding:
        p = layer.padding
        x = np.pad(x, ((p, p), (p, p), (0, 0)))
    rows = (x.shape[0] - layer.size) // layer.stride + 1
    cols = (x.shape[1] - layer.size) // layer.stride + 1
    out = _windows(x, layer.size, layer.stride) @ layer.weights
    out += layer.bias
    return out.reshape(rows, cols, -1)


def _pool(x: Array, size: int, stride: int, *, mean: bool) -> Array:
    view = sliding_window_view(x, (size, size), axis=(0, 1))[::stride, ::stride]
    pooled = view.mean(axis=(3, 4), dtype=np.float32) if mean else view.max(axis=(3, 4))
    return np.asarray(pooled, dtype=np.float32)


def _add(a: Array, b: Array) -> Array:
    """dlib's add_prev: the sum where both exist, zero padding where their sizes differ."""
    if a.shape == b.shape:
        return a + b
    shape = tuple(max(p, q) for p, q in zip(a.shape, b.shape, strict=True))
    out = np.zeros(shape, dtype=np.float32)
    out[: a.shape[0], : a.shape[1], : a.shape[2]] += a
    out[: b.shape[0], : b.shape[1], : b.shape[2]] += b
    return out


class ResnetEncoder:
    """The network with its weights read from dlib's model file. It keeps no state between
    calls (the weights are only read), so threads may share it; numpy's BLAS already spreads one
    call over every core."""

    def __init__(self, path: Path) -> None:
        data = Path(path).read_bytes()
        try:
            self._load(data)
        except (ValueError, IndexError) as exc:
            raise ConfigError(
                f"{path} is not dlib_face_recognition_resnet_model_v1 as kiosk.face.encoder reads it ({exc}); "
                "reinstall face_recognition_models"
            ) from exc
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"ResnetEncoder({self.path.name}, {len(self._blocks)} blocks)"

    def _load(self, data: bytes) -> None:
        reader = _Reader(data)
        reader.after("input_rgb_image_sized")
        self._mean = np.array([reader.real(), reader.real(), reader.real()], dtype=np.float32)
        if (reader.int(), reader.int()) != (CHIP_SIZE, CHIP_SIZE):
            raise ValueError("the input is not 150x150")
        self._stem = _read_conv(reader)
        if (self._stem.size, self._stem.stride) != (7, 2):
            raise ValueError("the first convolution is not 7x7/2")
        reader.after("max_pool_2")
        pool = [reader.int() for _ in range(6)]
        if pool != [3, 3, 2, 2, 0, 0]:
            raise ValueError(f"the first pool is {pool}")
        self._blocks: list[tuple[_Conv, _Conv, bool]] = []
        for filters, halves in BLOCKS:
            first, second = _read_conv(reader), _read_conv(reader)
            if (first.weights.shape[1], first.stride, second.stride) != (filters, 2 if halves else 1, 1):
                raise ValueError(f"block {len(self._blocks) + 1} does not have {filters} filters")
            if halves:
                reader.after("avg_pool_2")
                if [reader.int() for _ in range(6)] != [2, 2, 2, 2, 0, 0]:
                    raise ValueError("a shortcut pool is not 2x2/2 without padding")
            if reader.next_tag(("add_prev_", "con_4")) != "add_prev_":
                raise ValueError(f"block {len(self._blocks) + 1} has no shortcut")
            reader.after("add_prev_")
            self._blocks.append((first, second, halves))
        reader.after("avg_pool_2")
        last_pool = [reader.int() for _ in range(6)]
        if last_pool[:2] != [0, 0] or last_pool[4:] != [0, 0]:
            raise ValueError(f"the last pool is {last_pool}, not over the whole image")
        reader.after("fc_2")
        outputs, inputs = reader.int(), reader.int()
        weights = reader.tensor().reshape(-1)
        if (outputs, inputs, weights.size) != (128, 256, 128 * 256):
            raise ValueError(f"the last layer is {inputs}x{outputs}")
        self._fc = np.ascontiguousarray(weights.reshape(inputs, outputs))

    def encode_chip(self, chip: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
        if chip.shape != (CHIP_SIZE, CHIP_SIZE, 3):
            raise ValueError(f"expected a {CHIP_SIZE}x{CHIP_SIZE} RGB chip, got {chip.shape}")
        x = (chip.astype(np.float32) - self._mean) / np.float32(256.0)
        x = np.maximum(_conv(x, self._stem), 0)
        x = _pool(x, 3, 2, mean=False)
        for first, second, halves in self._blocks:
            y = np.maximum(_conv(x, first), 0)
            y = _conv(y, second)
            shortcut = _pool(x, 2, 2, mean=True) if halves else x
            x = np.maximum(_add(y, shortcut), 0)
        features = x.mean(axis=(0, 1), dtype=np.float32)
        return np.asarray(features @ self._fc, dtype=np.float64)


class DlibEncoder:
    """The same network through dlib's own code: the fallback when the model file cannot be
    read here. One call at a time (a dlib network keeps its activations in the object)."""

    def __init__(self, path: Path) -> None:
        # late: dlib loads only when this runs
        import dlib

        self._net = dlib.face_recognition_model_v1(str(path))
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "DlibEncoder()"

    def encode_chip(self, chip: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
        with self._lock:
            return np.asarray(self._net.compute_face_descriptor(np.ascontiguousarray(chip)), dtype=np.float64)


@functools.cache
def load_encoder() -> Encoder:
    """The process's encoder: :class:`ResnetEncoder`, or dlib's own code when the model file is
    not the network it reads (logged once)."""
    path = dlib_model_path()
    try:
        return ResnetEncoder(path)
    except ConfigError as exc:
        log.warning("face encodings through dlib's own code (several times slower): %s", exc)
        return DlibEncoder(path)
