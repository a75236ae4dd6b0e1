"""1:N identification over every active template at once, as one numpy matrix.

A probe is accepted only when (1) its best distance is under ``threshold`` — and, once the gallery
is calibrated (:meth:`Gallery.calibrate`), under that employee's own limit: their nearest other
employee's distance minus a safety gap — and (2) the best distance to any *other* employee is at
least ``margin`` further away: a face that sits between two people is not given to either. The third rule, that ``k`` consecutive tracked frames agree, is
:class:`IdentityVoter`'s. Distances are Euclidean, as dlib's model is trained for; they are
computed as ``sqrt(|g|² − 2 g·q + |q|²)`` with the gallery's squared norms precomputed, so a
10,000-template gallery is one matrix–vector product.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from core.errors import FaceError
from core.privacy.seal import Sealer, TemplateKeyError
from core.store.roster import active_face_templates
from core.store.vault import unit_sealer
from core.templates.embedder_ids import embedder_id
from core.templates.face import DIMENSIONS, PLAIN, Encoding, as_encoding, unseal

if TYPE_CHECKING:
    from core.config import FaceConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Match:
    """The outcome of one probe. ``employee_id`` is the best candidate even when not accepted."""

    accepted: bool
    employee_id: str | None
    name: str | None
    distance: float | None  # best distance (None: empty gallery)
    margin: float | None  # best other employee's distance minus the best (None: only one employee)
    reason: str = ""  # why not accepted: "no_match", "near_other" (over the employee's own limit), "ambiguous", "empty_gallery"

    def as_dict(self) -> dict[str, object]:
        return {
            "accepted": self.accepted,
            "employee_id": self.employee_id if self.accepted else None,
            "name": self.name if self.accepted else None,
            "nearest_employee_id": self.employee_id,
            "distance": None if self.distance is None else round(self.distance, 4),
            "margin": None if self.margin is None else round(self.margin, 4),
            "reason": self.reason,
        }


#: Galleries larger than this are not calibrated (the pairwise pass grows with N²); a unit's
#: gallery is its own offices' people, hundreds.
CALIBRATE_MAX = 20000


class Gallery:
    """The templates of the active employees, made by one embedder, as an (N, D) float32 matrix."""

    #: Stored templates left out because this unit's key cannot open them (see ``problem``).
    unreadable: int = 0
    problem: str | None = None
    #: The embedder whose templates these are (None: not said, e.g. a test's gallery).
    embedder: str | None = None

    def __init__(
        self,
        encodings: npt.ArrayLike,
        employee_ids: Sequence[str],
        names: dict[str, str] | None = None,
        *,
        dimensions: int | None = None,
    ) -> None:
        matrix = np.asarray(encodings, dtype=np.float32)
        if matrix.size == 0:
            matrix = np.zeros((0, dimensions or DIMENSIONS), dtype=np.float32)
        width = dimensions or (matrix.shape[1] if matrix.ndim == 2 else DIMENSIONS)
        if matrix.ndim != 2 or matrix.shape[1] != width or matrix.shape[0] != len(employee_ids):
            raise FaceError(f"a gallery needs one {width}-value template per employee id")
        self.dimensions = int(width)
        self.matrix = np.ascontiguousarray(matrix)
        self.employee_ids = list(employee_ids)
        self.names = dict(names or {})
        index: dict[str, int] = {}
        codes = [index.setdefault(e, len(index)) for e in self.employee_ids]
        self._unique_ids: list[str] = list(index)
        self._codes = np.asarray(codes, dtype=np.int64).reshape(-1)
        self._sq_norms = np.einsum("ij,ij->i", self.matrix, self.matrix)
        self._limits: npt.NDArray[np.float32] | None = None
        self.nearest_other: dict[str, tuple[str, float]] = {}
        self.lookalikes: dict[tuple[str, str], float] = {}
        self._lookalike_of: dict[str, tuple[str, float]] = {}

    def __len__(self) -> int:
        return int(self.matrix.shape[0])

    def __repr__(self) -> str:
        return f"Gallery({len(self)} templates, {self.employee_count} employees)"

    @property
    def employee_count(self) -> int:
        return len(self._unique_ids)

    @classmethod
    def empty(cls, dimensions: int = DIMENSIONS) -> Gallery:
        return cls(np.zeros((0, dimensions), dtype=np.float32), [], dimensions=dimensions)

    @classmethod
    def from_database(cls, conn: sqlite3.Connection, sealer: Sealer | None = None, *, embedder: str | None = None) -> Gallery:
        """Every template of every active employee made by ``embedder`` (None: any — tests and
        a database of one embedder) that this unit's key opens (``sealer``, by default the unit's
        own: :func:`core.store.vault.unit_sealer`). Templates it cannot open (a copied card, a
        lost key) are left out, counted in ``unreadable`` and explained in ``problem`` and one log
        line: the kiosk then refuses those faces as unknown. Read-only."""
        rows = active_face_templates(conn, embedder)
        problem: str | None = None
        if sealer is None and any(t.scheme != PLAIN for t, _ in rows):
            try:
                sealer = unit_sealer(conn)
            except TemplateKeyError as exc:
                problem = f"the template key cannot be read: {exc}"
        encodings, ids = [], []
        unreadable = 0
        for t, _ in rows:
            try:
                encodings.append(unseal(t.blob, t.scheme, employee_id=t.employee_id, sealer=sealer))
            except TemplateKeyError as exc:
                unreadable += 1
                problem = problem or str(exc)
                continue
            ids.append(t.employee_id)
        names = {e.id: e.name for _, e in rows}
        sizes = {len(e) for e in encodings}
        if len(sizes) > 1:
            raise FaceError(
                "the unit's face templates come from more than one embedder; set face.embedder and load the gallery for it"
            )
        gallery = cls(np.stack(encodings) if encodings else np.zeros((0, DIMENSIONS), np.float32), ids, names)
        gallery.embedder = embedder
        if unreadable:
            gallery.unreadable, gallery.problem = unreadable, problem
            log.error(
                "face gallery: %d of %d stored templates cannot be opened and are left out (those faces are refused as unknown): %s",
                unreadable,
                len(rows),
                problem,
            )
        log.info("face gallery loaded: %d templates of %d employees", len(gallery), gallery.employee_count)
        return gallery

    def without(self, employee_id: str) -> Gallery:
        """The same gallery minus one employee's templates."""
        keep = [i for i, e in enumerate(self.employee_ids) if e != employee_id]
        return Gallery(self.matrix[keep], [self.employee_ids[i] for i in keep], self.names, dimensions=self.dimensions)

    def calibrate(self, *, threshold: float, gap: float, lookalike: float) -> Gallery:
        """Learn the gallery: each employee's nearest other employee (``nearest_other``), their own
        limit min(threshold, nearest other − gap), and the pairs closer than ``lookalike``
        (``lookalikes``, (a, b) with a < b). Galleries over :data:`CALIBRATE_MAX` templates keep
        the global threshold (logged). Returns self."""
        n, count = len(self), self.employee_count
        limits = np.full(count, threshold, dtype=np.float32)
        self.nearest_other, self.lookalikes, self._lookalike_of = {}, {}, {}
        if n > CALIBRATE_MAX:
            log.warning(
                "face gallery of %d templates is not calibrated (over %d): the global threshold applies", n, CALIBRATE_MAX
            )
            self._limits = limits
            return self
        nearest = np.full(count, np.inf, dtype=np.float32)
        partner = np.full(count, -1, dtype=np.int64)
        for start in range(0, n, 1024):
            rows = self.matrix[start : start + 1024]
            sq = self._sq_norms[start : start + 1024, None] - 2.0 * rows @ self.matrix.T + self._sq_norms[None, :]
            d = np.sqrt(np.maximum(sq, 0.0)).astype(np.float32)
            d[self._codes[start : start + 1024, None] == self._codes[None, :]] = np.inf
            best = d.argmin(axis=1)
            for row, column in enumerate(best):
                code, value = self._codes[start + row], d[row, column]
                if value < nearest[code]:
                    nearest[code], partner[code] = value, self._codes[column]
        for code in range(count):
            if partner[code] < 0:
                continue
            me, other, distance = self._unique_ids[code], self._unique_ids[partner[code]], float(nearest[code])
            self.nearest_other[me] = (other, distance)
            limits[code] = min(threshold, distance - gap)
            if distance < lookalike:
                self.lookalikes[(min(me, other), max(me, other))] = distance
                self._lookalike_of[me] = (other, distance)
        self._limits = limits
        if self.lookalikes:
            log.warning("face gallery: %d pairs of employees are lookalikes (closer than %.3f)", len(self.lookalikes), lookalike)
        return self

    def lookalike_of(self, employee_id: str) -> tuple[str, float] | None:
        """(the other employee, distance) when ``employee_id`` has a lookalike in this gallery."""
        return self._lookalike_of.get(employee_id)

    def limit(self, employee_id: str, threshold: float) -> float:
        """The largest distance accepted for this employee (the threshold until calibrated)."""
        if self._limits is None or employee_id not in self._unique_ids:
            return threshold
        return min(threshold, float(self._limits[self._unique_ids.index(employee_id)]))

    def distances(self, probe: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Euclidean distance from ``probe`` to every template."""
        q = as_encoding(probe, self.dimensions)
        # einsum, not ``@``: BLAS's thread pool stalls for milliseconds when dlib and the camera
        # thread hold the cores; one core streaming the matrix is faster and steadier here.
        squared = self._sq_norms - 2.0 * np.einsum("ij,j->i", self.matrix, q) + float(q @ q)
        distances: npt.NDArray[np.float32] = np.sqrt(np.maximum(squared, 0.0, out=squared), out=squared)
        return distances

    def best_per_employee(self, probe: npt.ArrayLike) -> list[tuple[str, float]]:
        """(employee id, smallest distance) for every employee, nearest first."""
        if not len(self):
            return []
        d = self.distances(probe)
        best = np.full(self.employee_count, np.inf, dtype=np.float32)
        np.minimum.at(best, self._codes, d)
        order = np.argsort(best)
        return [(self._unique_ids[i], float(best[i])) for i in order]

    def _nearest_other(self, d: npt.NDArray[np.float32], code: np.int64) -> float | None:
        """The smallest distance to a template of any employee but ``code``: look among the few
        nearest first (an employee has a handful of templates), the whole gallery only if needed."""
        n = len(d)
        few = min(n, 16)
        nearest = np.argpartition(d, few - 1)[:few] if few < n else np.arange(n)
        candidates = [float(d[i]) for i in nearest if self._codes[i] != code]
        if candidates:
            return min(candidates)
        if few == n:
            return None
        others = d[self._codes != code]
        return float(others.min()) if others.size else None

    def identify(self, probe: Encoding, *, threshold: float, margin: float) -> Match:
        """Apply the threshold and margin rules to one probe."""
        if not len(self):
            return Match(False, None, None, None, None, "empty_gallery")
        d = self.distances(probe)
        best = int(np.argmin(d))
        best_distance = float(d[best])
        code = self._codes[best]
        other = self._nearest_other(d, code)
        gap = other - best_distance if other is not None else None
        employee = self._unique_ids[code]
        name = self.names.get(employee)
        if best_distance >= threshold:
            return Match(False, employee, name, best_distance, gap, "no_match")
        if self._limits is not None and best_distance >= self._limits[code]:
            return Match(False, employee, name, best_distance, gap, "near_other")
        if gap is not None and gap < margin:
            return Match(False, employee, name, best_distance, gap, "ambiguous")
        return Match(True, employee, name, best_distance, gap)


def unit_gallery(conn: sqlite3.Connection, config: FaceConfig, sealer: Sealer | None = None) -> Gallery:
    """The unit's gallery: the active employees' templates made by the configured embedder,
    calibrated with its rules (each employee's own limit, the lookalike pairs). Read-only."""
    rules = config.rules
    gallery = Gallery.from_database(conn, sealer, embedder=embedder_id(config))
    return gallery.calibrate(threshold=rules.threshold, gap=rules.gap, lookalike=rules.lookalike)


class IdentityVoter:
    """Accepts an identity once ``k`` consecutive probes of one tracked face agree on it."""

    def __init__(self, k: int) -> None:
        if k < 1:
            raise ValueError("k must be at least 1")
        self.k = k
        self.history: list[Match] = []

    def add(self, match: Match) -> None:
        self.history.append(match)

    @property
    def streak(self) -> list[Match]:
        """The trailing run of probes that agree with the last one (accepted, same employee)."""
        run: list[Match] = []
        for match in reversed(self.history):
            if not run:
                run.append(match)
                continue
            last = run[0]
            if match.accepted != last.accepted or (last.accepted and match.employee_id != last.employee_id):
                break
            run.append(match)
        return run

    @property
    def agreed(self) -> Match | None:
        """The accepted match once the last ``k`` probes agree on one employee."""
        run = self.streak
        if len(run) >= self.k and run[0].accepted:
            return min(run[: self.k], key=lambda m: m.distance or 0.0)
        return None

    @property
    def agreed_unknown(self) -> bool:
        """True once the last ``k`` probes all found nobody."""
        run = self.streak
        return len(run) >= self.k and not run[0].accepted
