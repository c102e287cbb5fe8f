"""Helpers for tests that ship with the package: synthetic songs and materials made by code."""
