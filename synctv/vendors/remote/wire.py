"""Conventions both sides of a vendor gRPC call share: the JWT (go-kratos' convention) and how a vendor failure
travels (a status code plus a trailer carrying the HTTP status the API answers with)."""

from __future__ import annotations

import time

import grpc
import jwt

from synctv.vendors.errors import TokenRejected, VendorError, VendorTimeout

AUTH_METADATA = "authorization"  # go-kratos' jwt middleware: "Authorization: Bearer <HS256 token>"
# FsGet: the User-Agent the vendor server resolves the raw URL for (a UA-bound provider such as 115 Cloud only
# answers it); a server that does not read it uses its own, and the caller then fetches with that one unknown.
USER_AGENT_METADATA = "synctv-alist-user-agent"
ERROR_TRAILER = "synctv-vendor-status"  # "<http status>" or "token" (the vendor refused a stored token)
TOKEN_TTL_S = 300
# Methods that need no token (load balancers and Consul's gRPC check call health; tools use reflection).
EXEMPT_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")

_CODES = {400: grpc.StatusCode.INVALID_ARGUMENT, 403: grpc.StatusCode.PERMISSION_DENIED,
          404: grpc.StatusCode.NOT_FOUND, 504: grpc.StatusCode.DEADLINE_EXCEEDED}
_STATUSES = {grpc.StatusCode.INVALID_ARGUMENT: 400, grpc.StatusCode.PERMISSION_DENIED: 403,
             grpc.StatusCode.NOT_FOUND: 404, grpc.StatusCode.FAILED_PRECONDITION: 400}


def mint(secret: str) -> str:
    now = int(time.time())
    return "Bearer " + jwt.encode({"iat": now, "exp": now + TOKEN_TTL_S}, secret, algorithm="HS256")


def verify(value: str, secret: str) -> str | None:
    """None if `value` is a valid bearer token for `secret`, else why not."""
    if not value.startswith("Bearer "):
        return "missing bearer token"
    try:
        jwt.decode(value[len("Bearer "):], secret, algorithms=["HS256"], options={"require": []})
    except jwt.InvalidTokenError as exc:
        return f"invalid token: {exc}"
    return None


def encode_error(exc: Exception) -> tuple[grpc.StatusCode, str, tuple[tuple[str, str], ...]]:
    if isinstance(exc, TokenRejected):
        return grpc.StatusCode.UNAUTHENTICATED, f"vendor token rejected: {exc}", ((ERROR_TRAILER, "token"),)
    assert isinstance(exc, VendorError)
    code = _CODES.get(exc.status, grpc.StatusCode.ABORTED)
    return code, exc.message, ((ERROR_TRAILER, str(exc.status)),)


def decode_error(err: grpc.aio.AioRpcError) -> Exception | None:
    """The vendor's own failure, or None when the backend itself failed (unreachable, refused our JWT, ...)."""
    marker = ""
    for key, value in err.trailing_metadata() or ():
        if key == ERROR_TRAILER:
            marker = value if isinstance(value, str) else value.decode()
    details = err.details() or err.code().name
    if marker == "token":
        return TokenRejected(details)
    if marker.isdigit():
        return VendorError(details, int(marker))
    code = err.code()
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return VendorTimeout(f"vendor backend did not answer in time: {details}")
    if code in _STATUSES:
        return VendorError(details, _STATUSES[code])  # an upstream vendor server's refusal
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.CANCELLED,
                grpc.StatusCode.UNIMPLEMENTED):
        return None
    return VendorError(f"vendor backend: {details}", 502)
