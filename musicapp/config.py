"""Settings and paths: platform folders with environment overrides, device preference."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

APP_NAME = "musicapp"
# The rate the demo catalogue is rendered at. Real recordings keep their own rate (Song.sample_rate)
# from import to export; an engine that needs another rate (MusicGen: 32 kHz mono) converts at
# its own boundary and says so in the take's record.
CATALOGUE_RATE = 44100

# Commercial use needs consent synced from the rights server within this long: the TTL can be
# set shorter (settings dialog, `musicapp sync --consent-ttl`), never longer.
MAX_CONSENT_TTL_S = 24 * 3600.0

# Never reach a model hub implicitly: weights load from local folders only.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def default_data_dir() -> Path:
    """The platform's data folder for the app, whatever MUSICAPP_DATA_DIR says."""
    return Path(platformdirs.user_data_dir(APP_NAME))


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


@dataclass
class Settings:
    """Every setting of the app in one place. Environment variables override the defaults."""

    data_dir: Path = field(
        default_factory=lambda: _env_path("MUSICAPP_DATA_DIR", default_data_dir())
    )
    models_dir: Path = field(
        default_factory=lambda: _env_path(
            "MUSICAPP_MODELS_DIR", Path(platformdirs.user_data_dir(APP_NAME)) / "models"
        )
    )
    device: str = field(default_factory=lambda: os.environ.get("MUSICAPP_DEVICE", "auto"))
    # Your own audio longer than this is refused from its header, before it is decoded: two
    # hours of stereo float32 would take 2 GB of memory.
    max_user_audio_s: float = 20 * 60.0
    # The rights server to sync with. Empty: local-only mode (no sync, and no consent freshness
    # rule, so the app works fully offline); the settings dialog may also store one.
    server_url: str = field(default_factory=lambda: os.environ.get("MUSICAPP_SERVER_URL", ""))
    # Commercial use fails closed when consent was last pulled from the server longer ago
    # (at most MAX_CONSENT_TTL_S: a longer value is capped wherever it is read).
    consent_ttl_s: float = MAX_CONSENT_TTL_S
    # Plain http:// to a rights server other than this computer sends the bearer token and
    # consent in the clear; refused unless the user says so (MUSICAPP_ALLOW_INSECURE_HTTP=1,
    # or `musicapp sync --allow-insecure-http` for one server).
    allow_insecure_http: bool = field(
        default_factory=lambda: os.environ.get("MUSICAPP_ALLOW_INSECURE_HTTP", "") == "1"
    )

    # Audit every take against the catalogue right after it is made (an ``audit`` ledger event
    # beside the by-design attribution). MUSICAPP_AUDIT_TAKES=0 turns it off; the check of the
    # user's own audio for undeclared catalogue recordings is a consent matter and always runs.
    audit_takes: bool = field(
        default_factory=lambda: (
            os.environ.get("MUSICAPP_AUDIT_TAKES", "1").strip().lower()
            not in ("0", "false", "no", "off")
        )
    )

    def __post_init__(self) -> None:
        if not 0 < self.consent_ttl_s <= MAX_CONSENT_TTL_S:
            from musicapp.core import InvalidInput

            raise InvalidInput(
                f"consent_ttl_s: {self.consent_ttl_s!r} s is not in (0, {MAX_CONSENT_TTL_S:.0f}] "
                f"(commercial use needs consent synced within 24 h at most)"
            )

    @property
    def catalog_path(self) -> Path:
        return _env_path("MUSICAPP_CATALOG", self.data_dir / "catalog.sqlite")

    @property
    def audio_dir(self) -> Path:
        return self.data_dir / "audio"

    @property
    def ledger_path(self) -> Path:
        return self.data_dir / "ledger.sqlite"

    @property
    def takes_dir(self) -> Path:
        return self.data_dir / "takes"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"

    def ensure_dirs(self) -> None:
        for d in (self.data_dir, self.audio_dir, self.takes_dir, self.exports_dir):
            d.mkdir(parents=True, exist_ok=True)
