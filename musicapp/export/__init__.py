"""Exports that carry their attribution inside (WAV ID3, FLAC Vorbis, MP3 ID3v2.4) and beside
(JSON sidecar), and finding an export or take again by its audio alone."""

from musicapp.export.fingerprint import Digests, array_digests, audio_sha256, file_digests
from musicapp.export.lookup import ContentMatch, find_by_content
from musicapp.export.record import ExportError, credit_line, sidecar_path
from musicapp.export.report import Check, FileReport
from musicapp.export.verifier import verify_file
from musicapp.export.writer import ExportResult, export_audio

__all__ = [
    "Check",
    "ContentMatch",
    "Digests",
    "ExportError",
    "ExportResult",
    "FileReport",
    "array_digests",
    "audio_sha256",
    "credit_line",
    "export_audio",
    "file_digests",
    "find_by_content",
    "sidecar_path",
    "verify_file",
]
