"""Verification of requests against the local consent records."""

from musicapp.consent.service import ConsentService

__all__ = ["ConsentService"]
