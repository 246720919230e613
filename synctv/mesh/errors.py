"""Errors the mesh raises to its caller."""

from __future__ import annotations


class MeshError(Exception):
    """The peer could not be reached, the stream broke, or the peer's handler failed."""


class NotOwner(MeshError):
    """The receiver does not own the room; `owner` is the instance it believes does ("" if unknown).

    Raised by a `MeshHandler.handle_command` to answer a redirect, and by `MeshNode.command` on the sender.
    """

    def __init__(self, owner: str) -> None:
        super().__init__(f"not owner; owner is {owner or 'unknown'}")
        self.owner = owner
