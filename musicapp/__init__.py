"""musicapp: attribution-by-design music generation (select, verify, generate, compensate)."""

__version__ = "0.1.0"
