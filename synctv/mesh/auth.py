"""Instance-to-instance authentication: short-lived HS256 JWTs signed with the shared cluster secret.

Every mesh call carries `authorization: Bearer <jwt>`. A peer token names its issuer (the sender's instance
id) and its audience (the receiving instance: a token for one instance opens nothing on another), has scope
`peer`, and lives at most `MAX_TTL_S`; the receiver also requires the issuer to be a current discovery member.
An inspection token (scope `inspect`, audience `synctv-mesh:inspect`, issued by the CLI) opens only the
read-only unary RPCs, never the Connect stream. Health and reflection stay open because load balancers,
Consul's gRPC check and grpcurl call them without credentials. The shared secret lets any holder sign as any
instance: mutual TLS (`cluster.grpc.tls_*`) is what proves an instance's identity in production.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import jwt

log = logging.getLogger(__name__)

AUDIENCE_PREFIX = "synctv-mesh:"
INSPECT_AUDIENCE = AUDIENCE_PREFIX + "inspect"
ALGORITHM = "HS256"
# The longest lifetime a receiver accepts, whatever the token says (a leaked token dies soon).
MAX_TTL_S = 300.0
CONNECT_METHOD = "/synctv.mesh.v1.Mesh/Connect"
METADATA_KEY = "authorization"
# Metadata key under which the interceptor hands the verified caller id to the handlers.
PEER_ID_KEY = "x-synctv-peer"

EXEMPT_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def audience_of(instance_id: str) -> str:
    return AUDIENCE_PREFIX + instance_id


class TokenSigner:
    """Issues this instance's tokens, one per receiving instance, cached until close to expiry."""

    def __init__(self, instance_id: str, secret: str, ttl: float = 60.0, clock: Callable[[], float] = time.time,
                 scope: str = "peer"):
        self._instance_id = instance_id
        self._secret = secret
        self._ttl = min(ttl, MAX_TTL_S)
        self._clock = clock
        self._scope = scope
        self._tokens: dict[str, tuple[str, float]] = {}

    def token(self, audience: str) -> str:
        now = self._clock()
        cached = self._tokens.get(audience)
        if cached is not None and now < cached[1]:
            return cached[0]
        claims = {"iss": self._instance_id, "aud": audience, "scope": self._scope, "iat": int(now),
                  "exp": int(now + self._ttl)}
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        # Renew at half-life so a token never expires in flight.
        self._tokens[audience] = (token, now + self._ttl / 2)
        return token

    def metadata(self, peer: str) -> tuple[tuple[str, str], ...]:
        return ((METADATA_KEY, f"Bearer {self.token(audience_of(peer))}"),)


def inspection_metadata(secret: str, ttl: float = 60.0) -> tuple[tuple[str, str], ...]:
    """A short-lived credential for read-only inspection (Describe, Owner, OwnedRooms) of any instance."""
    token = TokenSigner("synctv-cli", secret, ttl=ttl, scope="inspect").token(INSPECT_AUDIENCE)
    return ((METADATA_KEY, f"Bearer {token}"),)


@dataclass(frozen=True, slots=True)
class Caller:
    instance_id: str
    scope: str  # "peer" | "inspect"


def verify_token(token: str, secret: str, receiver: str, leeway: float = 5.0) -> Caller:
    """The verified caller; raise jwt.InvalidTokenError if the token is not valid for `receiver`."""
    claims = jwt.decode(
        token,
        secret,
        algorithms=[ALGORITHM],
        audience=[audience_of(receiver), INSPECT_AUDIENCE],
        leeway=leeway,
        options={"require": ["iss", "exp", "aud", "iat"]},
    )
    issuer, scope = claims.get("iss"), claims.get("scope")
    if not isinstance(issuer, str) or not issuer:
        raise jwt.InvalidTokenError("token without issuer")
    if (scope, claims.get("aud")) not in (("peer", audience_of(receiver)), ("inspect", INSPECT_AUDIENCE)):
        raise jwt.InvalidTokenError("token scope does not match its audience")
    iat, exp = claims["iat"], claims["exp"]
    if not isinstance(iat, int) or not isinstance(exp, int) or exp - iat > MAX_TTL_S or iat > time.time() + leeway:
        raise jwt.InvalidTokenError("token lifetime out of bounds")
    return Caller(issuer, str(scope))


def claimed_issuer(metadata: Any) -> str:
    """The issuer a token claims, unverified: only for naming the sender of a token that failed to verify."""
    for key, val in metadata or ():
        if key == METADATA_KEY:
            value = val if isinstance(val, str) else val.decode()
            try:
                claims = jwt.decode(value.removeprefix("Bearer "), options={"verify_signature": False})
            except jwt.InvalidTokenError:
                return ""
            issuer = claims.get("iss")
            return issuer[:64] if isinstance(issuer, str) else ""
    return ""


def _abort_handler(handler: grpc.RpcMethodHandler, message: str,
                   code: grpc.StatusCode = grpc.StatusCode.UNAUTHENTICATED) -> grpc.RpcMethodHandler:
    """A handler of the same shape as `handler` that fails with `code`."""

    async def deny_unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await context.abort(code, message)

    async def deny_stream(request_iterator: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await context.abort(code, message)

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
    """Rejects mesh calls without a valid token for this instance; the Connect stream also needs a peer token
    from a current member. Counts and logs each rejection."""

    def __init__(self, secret: str, receiver: str, is_member: Callable[[str], bool],
                 on_reject: Callable[[str, str], None] | None = None) -> None:
        self._secret = secret
        self._receiver = receiver
        self._is_member = is_member
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
        metadata = handler_call_details.invocation_metadata
        caller = self.caller(metadata)
        level = logging.WARNING
        if isinstance(caller, str):
            # Another cluster.secret (or none): the sender is named by what it claims, for the operator.
            claimed = claimed_issuer(metadata)
            reason = f"{caller} (sent by {claimed!r}, unverified)" if claimed else caller
            code, message = grpc.StatusCode.UNAUTHENTICATED, "invalid or missing cluster token"
        else:
            denied = self._authorize(method, caller)
            if denied is None:
                return handler
            reason, code, message = denied, grpc.StatusCode.PERMISSION_DENIED, denied
            if method == CONNECT_METHOD and caller.scope == "peer":
                # Signed with our secret by an instance this one does not list (yet, or any more): a cluster
                # forming or a peer leaving, not an attack. It is still refused and counted.
                level = logging.INFO
        self.unauthenticated += 1
        log.log(level, "mesh: rejected a call to %s: %s", method, reason)
        if self._on_reject is not None:
            self._on_reject(method, reason)
        return _abort_handler(handler, message, code)

    def caller(self, metadata: Any) -> Caller | str:
        """The verified caller, or why there is none."""
        value = ""
        for key, val in metadata or ():
            if key == METADATA_KEY:
                value = val if isinstance(val, str) else val.decode()
                break
        if not value.startswith("Bearer "):
            return "missing bearer token"
        try:
            return verify_token(value[len("Bearer ") :], self._secret, self._receiver)
        except jwt.InvalidTokenError as exc:
            return f"invalid token: {exc}"

    def check(self, method: str, metadata: Any) -> str | None:
        caller = self.caller(metadata)
        if isinstance(caller, str):
            return caller
        return self._authorize(method, caller)

    def _authorize(self, method: str, caller: Caller) -> str | None:
        """Why a verified caller may not call `method` (answered PERMISSION_DENIED), or None."""
        if method == CONNECT_METHOD:
            if caller.scope != "peer":
                return "an inspection token cannot open the mesh stream"
            if not self._is_member(caller.instance_id):
                return f"{caller.instance_id!r} is not a member of this cluster"
        return None
