"""The OpenAPI model of an uploaded punch (sync/server/app.py WirePunch) and the punch a unit stores
and signs (core/store/punches.py Punch) name the same fields with the same types, and a punch
recorded by a real unit goes through the model unchanged (issue 24: WirePunch repeated Punch with
nothing tying them; a field added to one and not the other would be dropped or refused)."""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path

from helpers.sync_support import unit_runtime

from core.store.punches import Punch, PunchRequest
from core.wire import punch_to_wire
from sync.server.api import WirePunch


def test_the_wire_model_has_every_field_of_the_stored_punch_with_its_type() -> None:
    stored = typing.get_type_hints(Punch)
    wire = {name: field.annotation for name, field in WirePunch.model_fields.items()}
    assert list(wire) == [f.name for f in dataclasses.fields(Punch)]  # same names, same order
    for name, annotation in stored.items():
        assert wire[name] == annotation or (
            isinstance(annotation, types.UnionType) and set(typing.get_args(annotation)) == set(typing.get_args(wire[name]))
        ), name


def test_a_recorded_punch_survives_the_wire_model_unchanged(tmp_path: Path) -> None:
    unit = unit_runtime(tmp_path / "unit")
    punch = unit.store().record(PunchRequest("198503302010011001", "card"))
    body = punch_to_wire(punch)
    assert WirePunch.model_validate(body).model_dump() == body
