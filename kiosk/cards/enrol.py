"""Tap to register: the maintenance page arms the reader for one employee, the next tap binds.

The maintenance page (any thread) calls :meth:`CardEnrolment.arm` and then
:meth:`CardEnrolment.wait`; the card service, on its own thread, hands the next tap to
:meth:`CardEnrolment.take` instead of punching and completes the ticket with the result. Only
one registration is armed at a time; arming again replaces (cancels) the previous one. An armed
registration expires after its timeout, measured on the injected clock's monotonic time.

For typing the number printed on a card, use :func:`core.store.cards.bind_card` directly.
"""

from __future__ import annotations

import enum
import itertools
import logging
import threading
from dataclasses import dataclass

from core.card_uid import masked_uid
from core.clock import Clock

log = logging.getLogger(__name__)

KEEP_RESULTS = 50


class EnrolStatus(enum.StrEnum):
    WAITING = "waiting"
    REGISTERED = "registered"  # the card is now the employee's
    ALREADY = "already"  # it already was
    REFUSED = "refused"  # see ``reason`` and ``text``
    EXPIRED = "expired"  # nobody tapped in time
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class EnrolResult:
    ticket: int
    status: EnrolStatus
    employee_id: str
    employee_name: str | None = None
    uid: str | None = None
    reason: str | None = None  # unknown_employee | inactive | taken | unreadable
    text: str = ""  # Bahasa Indonesia, for the page and the kiosk screen
    text_en: str = ""


@dataclass
class _Armed:
    ticket: int
    employee_id: str
    actor: str
    deadline_ns: int


class CardEnrolment:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._armed: _Armed | None = None
        self._results: dict[int, EnrolResult] = {}
        self._tickets = itertools.count(1)

    def arm(self, employee_id: str, *, actor: str, timeout_s: float = 30.0) -> int:
        """Bind the next tapped card to ``employee_id``; returns a ticket for :meth:`wait`."""
        with self._cond:
            if self._armed is not None:
                self._finish(self._armed, EnrolStatus.CANCELLED, "Pendaftaran kartu dibatalkan", "Card registration cancelled")
            ticket = next(self._tickets)
            deadline = self._clock.monotonic_ns() + int(timeout_s * 1e9)
            self._armed = _Armed(ticket, employee_id, actor, deadline)
        log.info("card registration armed for employee %s by %s (ticket %d)", employee_id, actor, ticket)
        return ticket

    def cancel(self) -> None:
        with self._cond:
            if self._armed is not None:
                self._finish(self._armed, EnrolStatus.CANCELLED, "Pendaftaran kartu dibatalkan", "Card registration cancelled")

    def status(self, ticket: int) -> EnrolResult:
        """The ticket's result, or WAITING. Expires an overdue registration first."""
        with self._cond:
            self._expire()
            if ticket in self._results:
                return self._results[ticket]
            armed = self._armed
            if armed is not None and armed.ticket == ticket:
                return EnrolResult(ticket, EnrolStatus.WAITING, armed.employee_id, text="Tempelkan kartu", text_en="Tap the card")
            raise KeyError(f"no card registration ticket {ticket}")

    def wait(self, ticket: int, timeout_s: float) -> EnrolResult:
        """Block until the ticket completes or ``timeout_s`` passes; returns its status either way."""
        with self._cond:
            self._cond.wait_for(lambda: ticket in self._results, timeout=timeout_s)
        return self.status(ticket)

    @property
    def armed_for(self) -> str | None:
        with self._cond:
            self._expire()
            return self._armed.employee_id if self._armed else None

    # -- the card service's side ------------------------------------------------------------

    def take(self) -> tuple[int, str, str] | None:
        """(ticket, employee id, actor) when a registration is armed; the caller must :meth:`complete` it."""
        with self._cond:
            self._expire()
            if self._armed is None:
                return None
            armed, self._armed = self._armed, None
            return armed.ticket, armed.employee_id, armed.actor

    def complete(self, result: EnrolResult) -> None:
        with self._cond:
            self._keep(result)
        log.info(
            "card registration ticket %d for %s: %s%s",
            result.ticket,
            result.employee_id,
            result.status,
            f" (card {masked_uid(result.uid)})" if result.uid else "",
        )

    def _expire(self) -> None:
        armed = self._armed
        if armed is not None and self._clock.monotonic_ns() > armed.deadline_ns:
            self._finish(armed, EnrolStatus.EXPIRED, "Waktu habis — kartu belum ditempelkan", "Timed out — no card was tapped")

    def _finish(self, armed: _Armed, status: EnrolStatus, text: str, text_en: str) -> None:
        self._armed = None
        self._keep(EnrolResult(armed.ticket, status, armed.employee_id, text=text, text_en=text_en))

    def _keep(self, result: EnrolResult) -> None:
        self._results[result.ticket] = result
        while len(self._results) > KEEP_RESULTS:
            del self._results[min(self._results)]
        self._cond.notify_all()
