"""The test recordings' music and production, used by scripts/render_test_recordings.py."""
