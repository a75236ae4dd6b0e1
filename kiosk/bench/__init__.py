"""Benchmarks (``presensi bench NAME --json``).

Each module in this package is one benchmark: ``NAME`` (the subcommand), ``HELP``,
``add_arguments(parser)`` and ``run(args) -> dict``. The dict's keys name each figure with its
unit (``punches_per_s``, ``verify_100k_s``, ``…_ratio``). Where the machine is noisy a figure is
given beside a baseline measured in the same process, as a ratio.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def benchmark_names() -> list[str]:
    """Every benchmark's name (its module's name), without importing any."""
    return sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_"))


def benchmarks() -> dict[str, ModuleType]:
    """name → module, for every benchmark module in this package."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found[getattr(module, "NAME", info.name)] = module
    return dict(sorted(found.items()))
