"""Instance-to-instance authentication: short-lived HS256 JWTs signed with the shared cluster secret.

Every mesh call carries `authorization: Bearer <jwt>` (issuer = sender's instance id, audience "synctv-mesh").
Tokens expire quickly so a leaked one is of little use, and a sender renews its token well before expiry.
The server interceptor rejects a missing or invalid token with UNAUTHENTICATED; health and reflection stay
open because load balancers, Consul's gRPC check and grpcurl call them without credentials.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import jwt

log = logging.getLogger(__name__)

AUDIENCE = "synctv-mesh"
ALGORITHM = "HS256"
METADATA_KEY = "authorization"
# Metadata key under which the interceptor hands the verified caller id to the handlers.
PEER_ID_KEY = "x-synctv-peer"

EXEMPT_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


class TokenSigner:
    """Issues this instance's token and caches it until it is close to expiry."""

    def __init__(self, instance_id: str, secret: str, ttl: float = 60.0, clock: Callable[[], float] = time.time):
        self._instance_id = instance_id
        self._secret = secret
        self._ttl = ttl
        self._clock = clock
        self._token = ""
        self._renew_at = 0.0

    def token(self) -> str:
        now = self._clock()
        if now >= self._renew_at:
            claims = {"iss": self._instance_id, "aud": AUDIENCE, "iat": int(now), "exp": int(now + self._ttl)}
            self._token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
            # Renew at half-life so a token never expires in flight.
            self._renew_at = now + self._ttl / 2
        return self._token

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return ((METADATA_KEY, f"Bearer {self.token()}"),)


def verify_token(token: str, secret: str, leeway: float = 5.0) -> str:
    """Return the issuing instance id; raise jwt.InvalidTokenError if the token is not valid."""
    claims = jwt.decode(
        token,
        secret,
        algorithms=[ALGORITHM],
        audience=AUDIENCE,
        leeway=leeway,
        options={"require": ["iss", "exp", "aud"]},
    )
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise jwt.InvalidTokenError("token without issuer")
    return issuer


def _abort_handler(handler: grpc.RpcMethodHandler, message: str) -> grpc.RpcMethodHandler:
    """A handler of the same shape as `handler` that fails with UNAUTHENTICATED."""

    async def deny_unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    async def deny_stream(request_iterator: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    if handler.request_streaming and handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler(
            deny_stream, handler.request_deserializer, handler.response_serializer
        )
    de, ser = handler.request_deserializer, handler.response_serializer
    if handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler(deny_stream, de, ser)
    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(deny_unary, de, ser)
    return grpc.unary_unary_rpc_method_handler(deny_unary, de, ser)


class AuthInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Rejects mesh calls without a valid cluster token; counts and logs each rejection."""

    def __init__(self, secret: str, on_reject: Callable[[str, str], None] | None = None) -> None:
        self._secret = secret
        self._on_reject = on_reject
        self.unauthenticated = 0

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        method = handler_call_details.method
        handler = await continuation(handler_call_details)
        if handler is None or method.startswith(EXEMPT_PREFIXES):
            return handler
        reason = self._check(handler_call_details)
        if reason is None:
            return handler
        self.unauthenticated += 1
        log.warning("mesh: rejected unauthenticated call to %s: %s", method, reason)
        if self._on_reject is not None:
            self._on_reject(method, reason)
        return _abort_handler(handler, "invalid or missing cluster token")

    def _check(self, details: grpc.HandlerCallDetails) -> str | None:
        value = ""
        for key, val in details.invocation_metadata or ():
            if key == METADATA_KEY:
                value = val if isinstance(val, str) else val.decode()
                break
        if not value.startswith("Bearer "):
            return "missing bearer token"
        try:
            verify_token(value[len("Bearer ") :], self._secret)
        except jwt.InvalidTokenError as exc:
            return f"invalid token: {exc}"
        return None
