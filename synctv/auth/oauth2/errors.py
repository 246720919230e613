"""Why an OAuth2 flow stopped. Each reason carries the message the user sees."""

from __future__ import annotations

from enum import Enum


class Reason(Enum):
    NOT_ENABLED = "this login provider is not enabled"
    BAD_STATE = "the login link is invalid, already used or expired; please start again"
    DENIED = "the provider did not grant access"
    PROVIDER = "the login provider answered with an error"
    UNREACHABLE = "the login provider could not be reached"
    ID_TOKEN = "the login provider's identity token was rejected"
    SIGNUP_CLOSED = "signing up with this provider is disabled; bind it to an existing account first"
    ALREADY_BOUND = "this provider account is already bound to another user"
    HAS_BINDING = "a binding of this provider exists already; unbind it first"
    MISCONFIGURED = "this login provider is not configured correctly"


class OAuth2Error(Exception):
    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(reason.value + (f": {detail}" if detail else ""))
        self.reason = reason
        self.detail = detail

    @property
    def message(self) -> str:
        return str(self)
