"""The composing engine: a small symbolic transformer trained here on consented scores."""
