"""One error type for services, turned into ``{"detail": ...}`` JSON by the app and a line by the CLI."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A refused request: HTTP status, a sentence naming the field or seq, optional extra fields."""

    def __init__(self, status: int, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.extra = extra
