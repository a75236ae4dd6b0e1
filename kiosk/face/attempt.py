"""What the face pipeline decided for one approach (:class:`FaceAttempt`): the screen's words, the
punch when there is one, and the figures behind it."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.store.punches import Punch


class Outcome(enum.StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    UNKNOWN = "unknown"
    SPOOF = "spoof"
    REFUSED = "refused"


@dataclass(frozen=True)
class FaceAttempt:
    """What one approach to the camera came to, and the punch when there is one, with the figures
    behind it (distance, margin, liveness scores, latency). The screen is told the path-neutral
    :class:`kiosk.web.ports.Decision` made from it (``kiosk.unit.face_to_screen``)."""

    outcome: Outcome
    message: str  # Bahasa Indonesia, for the screen
    track_id: int
    employee_id: str | None = None
    name: str | None = None
    punch: Punch | None = None
    reason: str = ""  # a code for logs and tests: no_match, liveness_spoof, duplicate, timeout, …
    distance: float | None = None
    margin: float | None = None
    liveness_verdict: str | None = None
    liveness_scores: Mapping[str, float] = field(default_factory=dict)
    local_time: str | None = None  # HH:MM of the punch (or of the earlier punch, for a duplicate)
    zone_abbr: str | None = None
    t_first_seen_ns: int = 0
    t_decided_ns: int = 0
    encodings: int = 0
    status_text: str = ""  # the schedule's own line for an accepted punch ("Di luar jadwal – hari libur: …")

    @property
    def latency_ms(self) -> float:
        return (self.t_decided_ns - self.t_first_seen_ns) / 1e6

    def as_dict(self) -> dict[str, object]:
        return {
            "outcome": self.outcome.value,
            "message": self.message,
            "track_id": self.track_id,
            "employee_id": self.employee_id,
            "name": self.name,
            "punch_id": self.punch.id if self.punch else None,
            "punch_seq": self.punch.seq if self.punch else None,
            "reason": self.reason,
            "distance": None if self.distance is None else round(self.distance, 4),
            "margin": None if self.margin is None else round(self.margin, 4),
            "liveness_verdict": self.liveness_verdict,
            "liveness_scores": {k: round(v, 4) for k, v in self.liveness_scores.items()},
            "local_time": self.local_time,
            "zone": self.zone_abbr,
            "latency_ms": round(self.latency_ms, 1),
            "encodings": self.encodings,
        }
