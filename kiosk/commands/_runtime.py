"""The runtime a command works on, from its common arguments (--config, --data-dir)."""

from __future__ import annotations

import argparse

from core.config import load_config
from core.runtime import Runtime


def make_runtime(args: argparse.Namespace) -> Runtime:
    config = load_config(getattr(args, "config", None))
    data_dir = config.data_dir(getattr(args, "data_dir", None))
    return Runtime(config=config, data_dir=data_dir)
