"""Templates: 128 float32 little-endian, 512 bytes, scheme 'plain', sealed in one place."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from core.errors import FaceError
from core.templates.face import TEMPLATE_BYTES, as_encoding, seal, unseal

finite = st.floats(min_value=-4, max_value=4, allow_nan=False, width=32)


@given(arrays(np.float32, 128, elements=finite))
def test_seal_round_trips_exactly(values: np.ndarray) -> None:
    blob, scheme = seal(values)
    assert scheme == "plain"
    assert len(blob) == TEMPLATE_BYTES == 512
    assert np.array_equal(unseal(blob, scheme), values)


def test_stored_bytes_are_little_endian_float32() -> None:
    vector = np.zeros(128, dtype=np.float32)
    vector[0], vector[127] = 1.0, -2.5
    blob, _ = seal(vector)
    assert blob[:4] == b"\x00\x00\x80\x3f"  # 1.0f little-endian
    assert blob[-4:] == b"\x00\x00\x20\xc0"  # -2.5f little-endian


@given(st.binary(max_size=600).filter(lambda b: len(b) != 512))
def test_wrong_length_is_refused(blob: bytes) -> None:
    with pytest.raises(FaceError, match="re-enrol"):
        unseal(blob, "plain")


def test_unknown_scheme_and_bad_values_are_refused() -> None:
    blob, _ = seal(np.ones(128))
    with pytest.raises(FaceError, match="not supported"):
        unseal(blob, "aes-gcm-v9")
    with pytest.raises(FaceError, match="128"):
        as_encoding(np.ones(127))
    bad = np.ones(128)
    bad[5] = np.nan
    with pytest.raises(FaceError, match="NaN"):
        seal(bad)
