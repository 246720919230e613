"""Composition helpers for `synctv.app`: cluster wiring and cross-instance invalidation."""
