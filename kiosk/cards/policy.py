"""Card policies: card only, card then face, face only; and what the employee is told.

The policy of a tap is the employee's own (``employees.card_policy``) when set, else the unit's
(``cards.policy``). "Card then face" asks the face pipeline for a 1:1 verification against the
card holder's templates, with liveness (:class:`FaceVerifier`, injected): comparing against one
employee is faster and harder to fool than searching everyone.

Everything here is pure: the card service does the I/O.
"""

from __future__ import annotations

import enum
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from core.store import roster
from core.store.cards import CardPolicy, card_policy_of

if TYPE_CHECKING:
    from core.store.cards import CardMatch, Employee


class Reason(enum.StrEnum):
    """Why a tap did not punch; the screen shows :data:`TEXTS` for it."""

    UNKNOWN_CARD = "unknown_card"
    AMBIGUOUS_CARD = "ambiguous_card"
    INACTIVE = "inactive"
    FACE_ONLY = "face_only"
    FACE_MISMATCH = "face_mismatch"
    FACE_SPOOF = "face_spoof"
    FACE_TIMEOUT = "face_timeout"
    FACE_UNAVAILABLE = "face_unavailable"
    UNREADABLE = "unreadable"
    STORAGE = "storage"
    CLOCK = "clock"
    EVENT = "event"  # event mode refused (not a participant here, already counted, outside the window)
    SCHEDULE = "schedule"  # the work code refuses a punch past the day's punches_per_day (extra_punch = "tolak")


#: (Bahasa Indonesia, English) for each reason.
TEXTS: Mapping[Reason, tuple[str, str]] = {
    Reason.UNKNOWN_CARD: ("Kartu tidak terdaftar", "Card not registered"),
    Reason.AMBIGUOUS_CARD: ("Kartu terdaftar ganda — hubungi admin", "Card registered twice — contact the admin"),
    Reason.INACTIVE: ("Pegawai tidak aktif — hubungi admin", "Employee inactive — contact the admin"),
    Reason.FACE_ONLY: ("Kartu tidak berlaku — gunakan wajah", "Card not accepted — use your face"),
    Reason.FACE_MISMATCH: ("Wajah tidak cocok dengan pemilik kartu", "Face does not match the card holder"),
    Reason.FACE_SPOOF: ("Verifikasi wajah gagal — coba lagi", "Face check failed — try again"),
    Reason.FACE_TIMEOUT: ("Wajah tidak terlihat — tempelkan kartu lagi", "No face seen — tap the card again"),
    Reason.FACE_UNAVAILABLE: ("Verifikasi wajah tidak tersedia — hubungi teknisi", "Face check unavailable — call a technician"),
    Reason.UNREADABLE: ("Kartu tidak terbaca — tempelkan lagi", "Card could not be read — tap again"),
    Reason.STORAGE: ("Penyimpanan bermasalah — hubungi teknisi", "Storage problem — call a technician"),
    Reason.CLOCK: ("Jam perangkat belum tersinkron — hubungi teknisi", "Clock not synchronised — call a technician"),
    Reason.EVENT: ("Tidak dapat presensi pada acara ini", "Not accepted at this event"),
    Reason.SCHEDULE: ("Tidak dicatat — sudah presensi hari ini", "Not recorded — already punched today"),
}


class FaceOutcome(enum.StrEnum):
    MATCH = "match"  # the card holder, alive
    MISMATCH = "mismatch"  # a face, but not the card holder's
    SPOOF = "spoof"  # liveness refused it
    TIMEOUT = "timeout"  # no usable face within the time allowed
    UNAVAILABLE = "unavailable"  # no templates for this employee, or the camera/model is down


@dataclass(frozen=True)
class FaceVerification:
    """The answer of a 1:1 face verification."""

    outcome: FaceOutcome
    distance: float | None = None
    liveness_verdict: str | None = None  # live | spoof | skipped
    liveness_scores: Mapping[str, float] = field(default_factory=dict)
    detail: str = ""  # for the log and the technician: never biometric data
    photo: bytes = field(default=b"", repr=False)  # JPEG of the matched face, only when evidence photos are on


class FaceVerifier(Protocol):
    """Verify that the person in front of the camera is ``employee_id``, alive, within ``timeout_s``.

    Blocking; called on the card service's thread. The face pipeline provides it.
    """

    def __call__(self, employee_id: str, *, timeout_s: float) -> FaceVerification: ...


@dataclass(frozen=True)
class CardCheck:
    """What a tap resolves to before any face is asked for."""

    employee: Employee | None
    policy: CardPolicy | None
    refusal: Reason | None


def effective_policy(employee: Employee, unit_policy: CardPolicy, *, lookalike: bool = False) -> CardPolicy:
    """The employee's own policy wins over the unit's (the regulation's card exception is personal).
    A lookalike (``face_lookalikes``: their face is too close to a colleague's) whose policy would
    be face only is asked for card then face instead: their face alone no longer punches."""
    policy = employee.card_policy or unit_policy
    return CardPolicy.CARD_FACE if lookalike and policy is CardPolicy.FACE else policy


def is_lookalike(conn: sqlite3.Connection, employee_id: str) -> bool:
    """Whether the face service listed the employee as a lookalike of a colleague. Read-only."""
    return roster.is_lookalike(conn, employee_id)


def resolve(
    matches: Sequence[CardMatch], unit_policy: CardPolicy, lookalike: Callable[[str], bool] = lambda _employee_id: False
) -> CardCheck:
    """Who the card names and what must happen next."""
    owners = {m.employee.id: m.employee for m in matches}
    if not owners:
        return CardCheck(None, None, Reason.UNKNOWN_CARD)
    if len(owners) > 1:
        return CardCheck(None, None, Reason.AMBIGUOUS_CARD)
    employee = next(iter(owners.values()))
    if not employee.active:
        return CardCheck(employee, None, Reason.INACTIVE)
    policy = effective_policy(employee, unit_policy, lookalike=lookalike(employee.id))
    if policy is CardPolicy.FACE:
        return CardCheck(employee, policy, Reason.FACE_ONLY)
    return CardCheck(employee, policy, None)


def judge_face(verification: FaceVerification) -> Reason | None:
    """None when the face confirms the card; else why not."""
    return {
        FaceOutcome.MATCH: None,
        FaceOutcome.MISMATCH: Reason.FACE_MISMATCH,
        FaceOutcome.SPOOF: Reason.FACE_SPOOF,
        FaceOutcome.TIMEOUT: Reason.FACE_TIMEOUT,
        FaceOutcome.UNAVAILABLE: Reason.FACE_UNAVAILABLE,
    }[verification.outcome]


def card_first_rule(conn: sqlite3.Connection, unit_policy: CardPolicy) -> Callable[[str], bool]:
    """For the face pipeline: True for an employee whose effective policy is card then face, whose
    face alone must not punch (the card names them, then the 1:1 check); a lookalike too. Reads
    the roster on each call, so a policy changed by sync applies at once."""

    def card_first(employee_id: str) -> bool:
        own = card_policy_of(conn, employee_id)
        try:
            policy = CardPolicy(own) if own else unit_policy
        except ValueError:  # an unknown value: the unit's policy applies (doctor reports it)
            policy = unit_policy
        return policy is CardPolicy.CARD_FACE or is_lookalike(conn, employee_id)

    return card_first
