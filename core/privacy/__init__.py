"""Biometric data at rest: templates sealed under a key that does not live on the SD card."""

from pathlib import Path

from core.config import PrivacyConfig
from core.privacy.keys import KeyProvider, build_key_provider
from core.privacy.seal import PLAIN, Sealer, TemplateKeyError

__all__ = ["PLAIN", "KeyProvider", "Sealer", "TemplateKeyError", "build_key_provider", "sealer_for"]


def sealer_for(config: PrivacyConfig, data_dir: Path | None = None) -> Sealer:
    """The unit's template sealer, from the configured key provider."""
    return Sealer(build_key_provider(config, data_dir).template_key())
