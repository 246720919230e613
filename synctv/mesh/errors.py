"""Errors the mesh raises to its caller (transport failures only: a peer's refusal is a Reply's code)."""

from __future__ import annotations


class MeshError(Exception):
    """The peer could not be reached, the stream broke, or the mesh is stopping."""


class ProtocolMismatch(MeshError):
    """The peer speaks another major version of the mesh protocol."""
