"""Server settings: where the data lives and the limits on writes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DB_ENV = "MUSICAPP_SERVER_DB"


@dataclass(frozen=True)
class ServerSettings:
    """Everything ``create_app`` needs. ``database_url`` None means SQLite in ``data_dir``."""

    data_dir: Path
    database_url: str | None = None
    max_body_bytes: int = 4 * 1024 * 1024
    # Token bucket per account (or client IP without credentials), write requests only.
    write_rate_per_s: float = 50.0
    write_burst: int = 200
    # Worker processes checking big batches' signatures; None = one per CPU (up to 8), 1 = inline.
    sig_workers: int | None = None

    def resolved_database_url(self) -> str:
        url = self.database_url or os.environ.get(DB_ENV)
        if not url:
            return f"sqlite:///{Path(self.data_dir) / 'server.sqlite'}"
        # psycopg 3 is the installed driver; plain postgresql:// would ask for psycopg2.
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @property
    def key_path(self) -> Path:
        return Path(self.data_dir) / "server_key.pem"

    @property
    def ca_key_path(self) -> Path:
        """The certificate authority's P-256 key (``server/ca.py``), secret like ``key_path``."""
        return Path(self.data_dir) / "server_ca.key"

    @property
    def ca_cert_path(self) -> Path:
        return Path(self.data_dir) / "server_ca.pem"
