"""Benchmarks (``presensi bench NAME --json``).

Each benchmark module has ``add_arguments(parser)`` and ``run(args) -> dict``; the dict's keys
name each figure with its unit (``punches_per_s``, ``verify_100k_s``, ``…_ratio``). Where the
machine is noisy a figure is given beside a baseline measured in the same process, as a ratio.
"""

#: name → (module, one-line help)
BENCHES: dict[str, tuple[str, str]] = {
    "store": ("kiosk.bench.store", "durable punches per second and time to verify 100,000"),
}
