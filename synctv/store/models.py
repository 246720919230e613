"""SQLAlchemy models. Column names follow upstream where the API exposes them; the schema is ours."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


ID = String(32)


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)
    hashed_password: Mapped[bytes] = mapped_column(LargeBinary)
    role: Mapped[int] = mapped_column(Integer, default=3)
    registered_by_provider: Mapped[bool] = mapped_column(Boolean, default=False)
    registered_by_email: Mapped[bool] = mapped_column(Boolean, default=False)


class UserProvider(Base):
    __tablename__ = "user_providers"
    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    provider_user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    __table_args__ = (UniqueConstraint("provider", "user_id", name="uq_user_providers_provider_user"),)


class Room(Base):
    __tablename__ = "rooms"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    name: Mapped[str] = mapped_column(String(64), unique=True)
    creator_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    hashed_password: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    status: Mapped[int] = mapped_column(Integer, default=3)
    current: Mapped[str] = mapped_column(Text, default="")
    # Ownership epoch: raised with compare-and-set by each instance that takes the room over; every write of
    # live state is conditional on it, so a stale owner cannot commit.
    owner_epoch: Mapped[int] = mapped_column(BigInteger, default=0)
    # Op ids of the latest commands applied to the room (JSON list), so a command retried after its owner
    # crashed is not applied twice by the next owner.
    recent_ops: Mapped[str] = mapped_column(Text, default="")


class RoomSettings(Base):
    __tablename__ = "room_settings"
    id: Mapped[str] = mapped_column(ID, ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    disable_join_new_user: Mapped[bool] = mapped_column(Boolean, default=False)
    join_need_review: Mapped[bool] = mapped_column(Boolean, default=False)
    user_default_permissions: Mapped[int] = mapped_column(BigInteger, default=193)
    disable_guest: Mapped[bool] = mapped_column(Boolean, default=False)
    guest_permissions: Mapped[int] = mapped_column(BigInteger, default=0)
    can_get_movie_list: Mapped[bool] = mapped_column(Boolean, default=True)
    can_add_movie: Mapped[bool] = mapped_column(Boolean, default=True)
    can_delete_movie: Mapped[bool] = mapped_column(Boolean, default=True)
    can_edit_movie: Mapped[bool] = mapped_column(Boolean, default=True)
    can_set_current_movie: Mapped[bool] = mapped_column(Boolean, default=True)
    can_set_current_status: Mapped[bool] = mapped_column(Boolean, default=True)
    can_send_chat_message: Mapped[bool] = mapped_column(Boolean, default=True)
    # What plays after the current movie ends (`core.playlist.PlayMode`), and the pause before it (seconds).
    play_mode: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    play_next_delay: Mapped[int] = mapped_column(Integer, default=3, server_default="3")


ROOM_SETTING_KEYS: dict[str, type] = {
    "hidden": bool,
    "disable_join_new_user": bool,
    "join_need_review": bool,
    "user_default_permissions": int,
    "disable_guest": bool,
    "guest_permissions": int,
    "can_get_movie_list": bool,
    "can_add_movie": bool,
    "can_delete_movie": bool,
    "can_edit_movie": bool,
    "can_set_current_movie": bool,
    "can_set_current_status": bool,
    "can_send_chat_message": bool,
    "play_mode": int,
    "play_next_delay": int,
}


class ChatMessage(Base):
    """A room's chat history (bounded: see `store/chat.py`)."""

    __tablename__ = "chat_messages"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    room_id: Mapped[str] = mapped_column(ID, ForeignKey("rooms.id", ondelete="CASCADE"))
    sent_at_ms: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[str] = mapped_column(ID)
    username: Mapped[str] = mapped_column(String(256))
    content: Mapped[str] = mapped_column(Text)
    __table_args__ = (Index("ix_chat_messages_room", "room_id", "id"),)


class RoomMember(Base):
    __tablename__ = "room_members"
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    room_id: Mapped[str] = mapped_column(ID, ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    status: Mapped[int] = mapped_column(Integer, default=2)
    role: Mapped[int] = mapped_column(Integer, default=1)
    permissions: Mapped[int] = mapped_column(BigInteger, default=0)
    admin_permissions: Mapped[int] = mapped_column(BigInteger, default=0)
    __table_args__ = (Index("ix_room_members_room", "room_id"),)


class Movie(Base):
    __tablename__ = "movies"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    room_id: Mapped[str] = mapped_column(ID, ForeignKey("rooms.id", ondelete="CASCADE"))
    creator_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(BigInteger)
    parent_id: Mapped[str | None] = mapped_column(ID, ForeignKey("movies.id", ondelete="CASCADE"), nullable=True)
    name: Mapped[str] = mapped_column(String(256))
    url: Mapped[str] = mapped_column(Text, default="")
    is_folder: Mapped[bool] = mapped_column(Boolean, default=False)
    # The full MovieBase JSON (headers, subtitles, sources, vendor info ...), the API's source of truth.
    base: Mapped[str] = mapped_column(Text)
    __table_args__ = (Index("ix_movies_room_parent_position", "room_id", "parent_id", "position"),)


class Setting(Base):
    __tablename__ = "settings"
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(String(16))
    group: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))


class RevokedToken(Base):
    """Tokens ended by logout, kept until they would have expired anyway."""

    __tablename__ = "revoked_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=False), index=True)


class UserSession(Base):
    """A signed-in device as its user sees it in the profile: first and last use of one token (`id` is the hash
    of the token's `jti`, as in revoked_tokens, so a listed session can be ended without knowing the token)."""

    __tablename__ = "user_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    user_version: Mapped[int] = mapped_column(BigInteger)  # a password change ends the older sessions
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=False), index=True)
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class OAuth2State(Base):
    """A login or bind flow in progress, so that its callback may land on any instance; used once."""

    __tablename__ = "oauth2_states"
    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(8))  # auth | bind
    user_id: Mapped[str | None] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    redirect: Mapped[str] = mapped_column(Text, default="")
    code_verifier: Mapped[str] = mapped_column(String(128), default="")
    nonce: Mapped[str] = mapped_column(String(64), default="")
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=False), index=True)


class EmailCode(Base):
    """An e-mailed verification code, shared by every instance; failed attempts are counted."""

    __tablename__ = "email_codes"
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=False), index=True)


class VendorAccount(Base):
    """A user's binding to a vendor server (Alist, Emby). Everything secret, the host included, is in `sealed`
    (AES-GCM under `vendors.secret_key`, bound to the row's key)."""

    __tablename__ = "vendor_accounts"
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    vendor: Mapped[str] = mapped_column(String(16), primary_key=True)
    server_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    backend: Mapped[str] = mapped_column(String(64), default="")
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))


class VendorBackendRow(Base):
    """A gRPC vendor backend (upstream's VendorBackend record); its secrets are sealed like users' credentials."""

    __tablename__ = "vendor_backends"
    endpoint: Mapped[str] = mapped_column(String(255), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    info: Mapped[str] = mapped_column(Text)  # the record without its secrets (JSON)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
class LivePublishKey(Base):
    """The one valid publish key of an RTMP-source movie: issuing a new one retires the previous one."""

    __tablename__ = "live_publish_keys"
    movie_id: Mapped[str] = mapped_column(ID, ForeignKey("movies.id", ondelete="CASCADE"), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
