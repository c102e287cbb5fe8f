"""Exports that carry their attribution inside (WAV ID3, FLAC Vorbis) and beside (JSON sidecar)."""

from musicapp.export.fingerprint import audio_sha256
from musicapp.export.record import ExportError, credit_line, sidecar_path
from musicapp.export.verifier import Check, FileReport, verify_file
from musicapp.export.writer import ExportResult, export_audio

__all__ = [
    "Check",
    "ExportError",
    "ExportResult",
    "FileReport",
    "audio_sha256",
    "credit_line",
    "export_audio",
    "sidecar_path",
    "verify_file",
]
