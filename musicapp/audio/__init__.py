"""Audio in memory as float32 (channels, samples): file I/O, analysis, time stretching."""

from musicapp.audio.io import AudioError, read_audio, resample, to_channels, write_wav

__all__ = ["AudioError", "read_audio", "resample", "to_channels", "write_wav"]
