"""The login / signup / bind flow around a provider: a signed, stored, single-use state; then the user.

The state row (provider, purpose, bind target, redirect, PKCE verifier, nonce) lives in the database, so the
callback may land on any instance; the first callback that presents it consumes it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from authlib.common.security import generate_token

from synctv.auth.oauth2.base import FlowSecrets
from synctv.auth.oauth2.errors import OAuth2Error, Reason
from synctv.auth.oauth2.registry import OAuth2Registry
from synctv.auth.passwords import hash_password
from synctv.core.permissions import Role
from synctv.core.validation import username_base
from synctv.store import Store
from synctv.store.models import OAuth2State, User
from synctv.store.oauth2 import BindingConflict

STATE_TTL_S = 300.0
RANDOM_PASSWORD_LENGTH = 16


@dataclass(frozen=True, slots=True)
class Outcome:
    purpose: str  # auth | bind
    user: User
    redirect: str


class OAuth2Flows:
    def __init__(self, store: Store, registry: OAuth2Registry, secret: str) -> None:
        self._store = store
        self._registry = registry
        self._key = hashlib.sha256(b"synctv oauth2 state\0" + secret.encode()).digest()

    def _sign(self, nonce: str, provider: str) -> str:
        mac = hmac.new(self._key, f"{provider}\0{nonce}".encode(), hashlib.sha256).digest()
        return mac.hex()[:32]

    def _new_state(self, provider: str) -> str:
        nonce = secrets.token_urlsafe(24)
        return f"{nonce}.{self._sign(nonce, provider)}"

    def _check_signature(self, state: str, provider: str) -> bool:
        nonce, _, mac = state.partition(".")
        return bool(nonce and mac) and hmac.compare_digest(mac, self._sign(nonce, provider))

    async def start(self, provider_name: str, *, purpose: str, redirect: str, site_base: str,
                    user_id: str | None = None) -> str:
        settings = self._store.settings
        provider, client = self._registry.get(settings, provider_name, site_base)
        state = self._new_state(provider_name)
        flow = FlowSecrets(code_verifier=generate_token(64), nonce=generate_token(32))
        url = await provider.authorization_url(client, state, flow)
        await self._store.oauth2_states.put(
            OAuth2State(state_hash=_digest(state), provider=provider_name, purpose=purpose, user_id=user_id,
                        redirect=redirect, code_verifier=flow.code_verifier, nonce=flow.nonce),
            STATE_TTL_S)
        return url

    async def take_state(self, provider_name: str, state: str) -> OAuth2State:
        """Consume the state: a forged one (bad signature) never reaches the database; a used or expired one
        is gone from it."""
        if len(state) > 256 or not self._check_signature(state, provider_name):
            raise OAuth2Error(Reason.BAD_STATE)
        row = await self._store.oauth2_states.take(_digest(state))
        if row is None or row.provider != provider_name:
            raise OAuth2Error(Reason.BAD_STATE)
        return row

    async def finish(self, provider_name: str, row: OAuth2State, code: str, site_base: str) -> Outcome:
        settings = self._store.settings
        provider, client = self._registry.get(settings, provider_name, site_base)
        pu = await provider.user(client, code, FlowSecrets(row.code_verifier, row.nonce))
        if row.purpose == "bind":
            return Outcome("bind", await self._bind(provider_name, row.user_id or "", pu.provider_user_id),
                           row.redirect)
        binding = await self._store.providers.find(provider_name, pu.provider_user_id)
        if binding is None:
            policy = self._registry.policy(settings, provider_name)
            if policy.disable_user_signup:
                raise OAuth2Error(Reason.SIGNUP_CLOSED)
            role = Role.PENDING if policy.signup_need_review else Role.USER
            hashed = await hash_password(secrets.token_urlsafe(RANDOM_PASSWORD_LENGTH)[:RANDOM_PASSWORD_LENGTH])
            try:
                user = await self._store.providers.create_user_with_binding(
                    username_base(pu.username), hashed, role, provider_name, pu.provider_user_id)
                return Outcome("auth", user, row.redirect)
            except BindingConflict:  # bound by a concurrent callback: log in as that user
                binding = await self._store.providers.find(provider_name, pu.provider_user_id)
                if binding is None:
                    raise OAuth2Error(Reason.PROVIDER, "the account could not be created") from None
        found = await self._store.users.get(binding.user_id)
        if found is None:
            raise OAuth2Error(Reason.BAD_STATE)
        return Outcome("auth", found, row.redirect)

    async def _bind(self, provider_name: str, user_id: str, provider_user_id: str) -> User:
        user = await self._store.users.get(user_id)
        if user is None:
            raise OAuth2Error(Reason.BAD_STATE)
        existing = await self._store.providers.find(provider_name, provider_user_id)
        if existing is not None:
            if existing.user_id == user_id:
                return user
            raise OAuth2Error(Reason.ALREADY_BOUND)
        try:
            await self._store.providers.bind(user_id, provider_name, provider_user_id)
        except BindingConflict:
            existing = await self._store.providers.find(provider_name, provider_user_id)
            if existing is not None and existing.user_id != user_id:
                raise OAuth2Error(Reason.ALREADY_BOUND) from None
            if existing is None:
                raise OAuth2Error(Reason.HAS_BINDING) from None
        return user


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()
