from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ErrorCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OK: _ClassVar[ErrorCode]
    NOT_OWNER: _ClassVar[ErrorCode]
    MOVING: _ClassVar[ErrorCode]
    BUSY: _ClassVar[ErrorCode]
    DENIED: _ClassVar[ErrorCode]
    INVALID: _ClassVar[ErrorCode]
    NOT_FOUND: _ClassVar[ErrorCode]
    UNAVAILABLE: _ClassVar[ErrorCode]
    INTERNAL: _ClassVar[ErrorCode]
    CLOSED: _ClassVar[ErrorCode]
    MALFORMED: _ClassVar[ErrorCode]

class CacheKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CACHE_UNSPECIFIED: _ClassVar[CacheKind]
    CACHE_MEMBER: _ClassVar[CacheKind]
    CACHE_SETTINGS: _ClassVar[CacheKind]
    CACHE_USER: _ClassVar[CacheKind]

class Audience(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIENCE_ALL: _ClassVar[Audience]
    AUDIENCE_OTHERS: _ClassVar[Audience]
    AUDIENCE_CONNS: _ClassVar[Audience]
    AUDIENCE_USER: _ClassVar[Audience]

class ThrottleOp(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    THROTTLE_UNSPECIFIED: _ClassVar[ThrottleOp]
    THROTTLE_LEASE: _ClassVar[ThrottleOp]
    THROTTLE_CHECK: _ClassVar[ThrottleOp]
    THROTTLE_FAIL: _ClassVar[ThrottleOp]
    THROTTLE_RESET: _ClassVar[ThrottleOp]

class InvalidationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INVALIDATE_UNSPECIFIED: _ClassVar[InvalidationKind]
    INVALIDATE_SETTINGS: _ClassVar[InvalidationKind]
    INVALIDATE_SESSIONS: _ClassVar[InvalidationKind]
    INVALIDATE_USER: _ClassVar[InvalidationKind]
    INVALIDATE_PROXY_MOVIES: _ClassVar[InvalidationKind]
    INVALIDATE_VENDOR_BACKENDS: _ClassVar[InvalidationKind]
    INVALIDATE_LIVE_KEY: _ClassVar[InvalidationKind]
OK: ErrorCode
NOT_OWNER: ErrorCode
MOVING: ErrorCode
BUSY: ErrorCode
DENIED: ErrorCode
INVALID: ErrorCode
NOT_FOUND: ErrorCode
UNAVAILABLE: ErrorCode
INTERNAL: ErrorCode
CLOSED: ErrorCode
MALFORMED: ErrorCode
CACHE_UNSPECIFIED: CacheKind
CACHE_MEMBER: CacheKind
CACHE_SETTINGS: CacheKind
CACHE_USER: CacheKind
AUDIENCE_ALL: Audience
AUDIENCE_OTHERS: Audience
AUDIENCE_CONNS: Audience
AUDIENCE_USER: Audience
THROTTLE_UNSPECIFIED: ThrottleOp
THROTTLE_LEASE: ThrottleOp
THROTTLE_CHECK: ThrottleOp
THROTTLE_FAIL: ThrottleOp
THROTTLE_RESET: ThrottleOp
INVALIDATE_UNSPECIFIED: InvalidationKind
INVALIDATE_SETTINGS: InvalidationKind
INVALIDATE_SESSIONS: InvalidationKind
INVALIDATE_USER: InvalidationKind
INVALIDATE_PROXY_MOVIES: InvalidationKind
INVALIDATE_VENDOR_BACKENDS: InvalidationKind
INVALIDATE_LIVE_KEY: InvalidationKind

class Hello(_message.Message):
    __slots__ = ("instance_id", "started_at_ms", "grpc_address", "protocol_major", "protocol_minor")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    GRPC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_MAJOR_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_MINOR_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    started_at_ms: int
    grpc_address: str
    protocol_major: int
    protocol_minor: int
    def __init__(self, instance_id: _Optional[str] = ..., started_at_ms: _Optional[int] = ..., grpc_address: _Optional[str] = ..., protocol_major: _Optional[int] = ..., protocol_minor: _Optional[int] = ...) -> None: ...

class UserRef(_message.Message):
    __slots__ = ("user_id", "username", "session_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    username: str
    session_id: str
    def __init__(self, user_id: _Optional[str] = ..., username: _Optional[str] = ..., session_id: _Optional[str] = ...) -> None: ...

class ClientFrame(_message.Message):
    __slots__ = ("user", "conn_id", "frame", "joined_ms", "more_frames")
    USER_FIELD_NUMBER: _ClassVar[int]
    CONN_ID_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    JOINED_MS_FIELD_NUMBER: _ClassVar[int]
    MORE_FRAMES_FIELD_NUMBER: _ClassVar[int]
    user: UserRef
    conn_id: str
    frame: bytes
    joined_ms: int
    more_frames: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, user: _Optional[_Union[UserRef, _Mapping]] = ..., conn_id: _Optional[str] = ..., frame: _Optional[bytes] = ..., joined_ms: _Optional[int] = ..., more_frames: _Optional[_Iterable[bytes]] = ...) -> None: ...

class CurrentMovie(_message.Message):
    __slots__ = ("id", "is_live", "sub_path", "duration")
    ID_FIELD_NUMBER: _ClassVar[int]
    IS_LIVE_FIELD_NUMBER: _ClassVar[int]
    SUB_PATH_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    id: str
    is_live: bool
    sub_path: str
    duration: float
    def __init__(self, id: _Optional[str] = ..., is_live: _Optional[bool] = ..., sub_path: _Optional[str] = ..., duration: _Optional[float] = ...) -> None: ...

class SetCurrentMovie(_message.Message):
    __slots__ = ("sender", "movie")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    MOVIE_FIELD_NUMBER: _ClassVar[int]
    sender: UserRef
    movie: CurrentMovie
    def __init__(self, sender: _Optional[_Union[UserRef, _Mapping]] = ..., movie: _Optional[_Union[CurrentMovie, _Mapping]] = ...) -> None: ...

class NotifyMovies(_message.Message):
    __slots__ = ("sender",)
    SENDER_FIELD_NUMBER: _ClassVar[int]
    sender: UserRef
    def __init__(self, sender: _Optional[_Union[UserRef, _Mapping]] = ...) -> None: ...

class NotifyMyStatus(_message.Message):
    __slots__ = ("sender", "target_user_id")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    TARGET_USER_ID_FIELD_NUMBER: _ClassVar[int]
    sender: UserRef
    target_user_id: str
    def __init__(self, sender: _Optional[_Union[UserRef, _Mapping]] = ..., target_user_id: _Optional[str] = ...) -> None: ...

class KickUser(_message.Message):
    __slots__ = ("user_id", "reason")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    reason: str
    def __init__(self, user_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CloseRoom(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class ConnectionLeft(_message.Message):
    __slots__ = ("user", "conn_id")
    USER_FIELD_NUMBER: _ClassVar[int]
    CONN_ID_FIELD_NUMBER: _ClassVar[int]
    user: UserRef
    conn_id: str
    def __init__(self, user: _Optional[_Union[UserRef, _Mapping]] = ..., conn_id: _Optional[str] = ...) -> None: ...

class PresenceUpdate(_message.Message):
    __slots__ = ("instance_id", "counts", "replace_all", "version")
    class CountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    REPLACE_ALL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    counts: _containers.ScalarMap[str, int]
    replace_all: bool
    version: int
    def __init__(self, instance_id: _Optional[str] = ..., counts: _Optional[_Mapping[str, int]] = ..., replace_all: _Optional[bool] = ..., version: _Optional[int] = ...) -> None: ...

class Invalidate(_message.Message):
    __slots__ = ("what", "user_id")
    WHAT_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    what: CacheKind
    user_id: str
    def __init__(self, what: _Optional[_Union[CacheKind, str]] = ..., user_id: _Optional[str] = ...) -> None: ...

class GetState(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RoomCommand(_message.Message):
    __slots__ = ("client_frame", "set_current_movie", "notify_movies", "notify_my_status", "kick_user", "close_room", "connection_left", "presence", "invalidate", "get_state", "report_duration")
    CLIENT_FRAME_FIELD_NUMBER: _ClassVar[int]
    SET_CURRENT_MOVIE_FIELD_NUMBER: _ClassVar[int]
    NOTIFY_MOVIES_FIELD_NUMBER: _ClassVar[int]
    NOTIFY_MY_STATUS_FIELD_NUMBER: _ClassVar[int]
    KICK_USER_FIELD_NUMBER: _ClassVar[int]
    CLOSE_ROOM_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_LEFT_FIELD_NUMBER: _ClassVar[int]
    PRESENCE_FIELD_NUMBER: _ClassVar[int]
    INVALIDATE_FIELD_NUMBER: _ClassVar[int]
    GET_STATE_FIELD_NUMBER: _ClassVar[int]
    REPORT_DURATION_FIELD_NUMBER: _ClassVar[int]
    client_frame: ClientFrame
    set_current_movie: SetCurrentMovie
    notify_movies: NotifyMovies
    notify_my_status: NotifyMyStatus
    kick_user: KickUser
    close_room: CloseRoom
    connection_left: ConnectionLeft
    presence: PresenceUpdate
    invalidate: Invalidate
    get_state: GetState
    report_duration: ReportDuration
    def __init__(self, client_frame: _Optional[_Union[ClientFrame, _Mapping]] = ..., set_current_movie: _Optional[_Union[SetCurrentMovie, _Mapping]] = ..., notify_movies: _Optional[_Union[NotifyMovies, _Mapping]] = ..., notify_my_status: _Optional[_Union[NotifyMyStatus, _Mapping]] = ..., kick_user: _Optional[_Union[KickUser, _Mapping]] = ..., close_room: _Optional[_Union[CloseRoom, _Mapping]] = ..., connection_left: _Optional[_Union[ConnectionLeft, _Mapping]] = ..., presence: _Optional[_Union[PresenceUpdate, _Mapping]] = ..., invalidate: _Optional[_Union[Invalidate, _Mapping]] = ..., get_state: _Optional[_Union[GetState, _Mapping]] = ..., report_duration: _Optional[_Union[ReportDuration, _Mapping]] = ...) -> None: ...

class ReportDuration(_message.Message):
    __slots__ = ("sender", "movie_id", "duration", "from_metadata")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    MOVIE_ID_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    FROM_METADATA_FIELD_NUMBER: _ClassVar[int]
    sender: UserRef
    movie_id: str
    duration: float
    from_metadata: bool
    def __init__(self, sender: _Optional[_Union[UserRef, _Mapping]] = ..., movie_id: _Optional[str] = ..., duration: _Optional[float] = ..., from_metadata: _Optional[bool] = ...) -> None: ...

class Command(_message.Message):
    __slots__ = ("room_id", "op_id", "body", "trace")
    class TraceEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    OP_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    TRACE_FIELD_NUMBER: _ClassVar[int]
    room_id: str
    op_id: str
    body: RoomCommand
    trace: _containers.ScalarMap[str, str]
    def __init__(self, room_id: _Optional[str] = ..., op_id: _Optional[str] = ..., body: _Optional[_Union[RoomCommand, _Mapping]] = ..., trace: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Status(_message.Message):
    __slots__ = ("is_playing", "current_time", "playback_rate", "last_update_ms")
    IS_PLAYING_FIELD_NUMBER: _ClassVar[int]
    CURRENT_TIME_FIELD_NUMBER: _ClassVar[int]
    PLAYBACK_RATE_FIELD_NUMBER: _ClassVar[int]
    LAST_UPDATE_MS_FIELD_NUMBER: _ClassVar[int]
    is_playing: bool
    current_time: float
    playback_rate: float
    last_update_ms: int
    def __init__(self, is_playing: _Optional[bool] = ..., current_time: _Optional[float] = ..., playback_rate: _Optional[float] = ..., last_update_ms: _Optional[int] = ...) -> None: ...

class Current(_message.Message):
    __slots__ = ("movie", "status")
    MOVIE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    movie: CurrentMovie
    status: Status
    def __init__(self, movie: _Optional[_Union[CurrentMovie, _Mapping]] = ..., status: _Optional[_Union[Status, _Mapping]] = ...) -> None: ...

class RoomStateView(_message.Message):
    __slots__ = ("current", "viewer_count", "online")
    class OnlineEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    VIEWER_COUNT_FIELD_NUMBER: _ClassVar[int]
    ONLINE_FIELD_NUMBER: _ClassVar[int]
    current: Current
    viewer_count: int
    online: _containers.ScalarMap[str, int]
    def __init__(self, current: _Optional[_Union[Current, _Mapping]] = ..., viewer_count: _Optional[int] = ..., online: _Optional[_Mapping[str, int]] = ...) -> None: ...

class Reply(_message.Message):
    __slots__ = ("op_id", "code", "error", "redirect_to", "frames", "state", "viewer_count")
    OP_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_TO_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    VIEWER_COUNT_FIELD_NUMBER: _ClassVar[int]
    op_id: str
    code: ErrorCode
    error: str
    redirect_to: str
    frames: _containers.RepeatedScalarFieldContainer[bytes]
    state: RoomStateView
    viewer_count: int
    def __init__(self, op_id: _Optional[str] = ..., code: _Optional[_Union[ErrorCode, str]] = ..., error: _Optional[str] = ..., redirect_to: _Optional[str] = ..., frames: _Optional[_Iterable[bytes]] = ..., state: _Optional[_Union[RoomStateView, _Mapping]] = ..., viewer_count: _Optional[int] = ...) -> None: ...

class Delivery(_message.Message):
    __slots__ = ("frame", "audience", "conn_id", "user_id", "conn_ids", "kick", "reason")
    FRAME_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    CONN_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CONN_IDS_FIELD_NUMBER: _ClassVar[int]
    KICK_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    frame: bytes
    audience: Audience
    conn_id: str
    user_id: str
    conn_ids: _containers.RepeatedScalarFieldContainer[str]
    kick: bool
    reason: str
    def __init__(self, frame: _Optional[bytes] = ..., audience: _Optional[_Union[Audience, str]] = ..., conn_id: _Optional[str] = ..., user_id: _Optional[str] = ..., conn_ids: _Optional[_Iterable[str]] = ..., kick: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("seq", "server_ts_ms", "delivery")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    SERVER_TS_MS_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    seq: int
    server_ts_ms: int
    delivery: Delivery
    def __init__(self, seq: _Optional[int] = ..., server_ts_ms: _Optional[int] = ..., delivery: _Optional[_Union[Delivery, _Mapping]] = ...) -> None: ...

class EventBatch(_message.Message):
    __slots__ = ("room_id", "events")
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    room_id: str
    events: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, room_id: _Optional[str] = ..., events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...

class Subscribe(_message.Message):
    __slots__ = ("room_id", "on")
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    ON_FIELD_NUMBER: _ClassVar[int]
    room_id: str
    on: bool
    def __init__(self, room_id: _Optional[str] = ..., on: _Optional[bool] = ...) -> None: ...

class PresenceCounts(_message.Message):
    __slots__ = ("counts",)
    class CountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    counts: _containers.ScalarMap[str, int]
    def __init__(self, counts: _Optional[_Mapping[str, int]] = ...) -> None: ...

class RecentOp(_message.Message):
    __slots__ = ("op_id", "reply")
    OP_ID_FIELD_NUMBER: _ClassVar[int]
    REPLY_FIELD_NUMBER: _ClassVar[int]
    op_id: str
    reply: Reply
    def __init__(self, op_id: _Optional[str] = ..., reply: _Optional[_Union[Reply, _Mapping]] = ...) -> None: ...

class RoomSnapshot(_message.Message):
    __slots__ = ("room_id", "current", "rtc_joined", "last_viewer_count", "seq", "presence", "subscribers", "recent_ops")
    class PresenceEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: PresenceCounts
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[PresenceCounts, _Mapping]] = ...) -> None: ...
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    RTC_JOINED_FIELD_NUMBER: _ClassVar[int]
    LAST_VIEWER_COUNT_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    PRESENCE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBERS_FIELD_NUMBER: _ClassVar[int]
    RECENT_OPS_FIELD_NUMBER: _ClassVar[int]
    room_id: str
    current: Current
    rtc_joined: _containers.RepeatedScalarFieldContainer[str]
    last_viewer_count: int
    seq: int
    presence: _containers.MessageMap[str, PresenceCounts]
    subscribers: _containers.RepeatedScalarFieldContainer[str]
    recent_ops: _containers.RepeatedCompositeFieldContainer[RecentOp]
    def __init__(self, room_id: _Optional[str] = ..., current: _Optional[_Union[Current, _Mapping]] = ..., rtc_joined: _Optional[_Iterable[str]] = ..., last_viewer_count: _Optional[int] = ..., seq: _Optional[int] = ..., presence: _Optional[_Mapping[str, PresenceCounts]] = ..., subscribers: _Optional[_Iterable[str]] = ..., recent_ops: _Optional[_Iterable[_Union[RecentOp, _Mapping]]] = ...) -> None: ...

class ViewerCountsQuery(_message.Message):
    __slots__ = ("room_ids",)
    ROOM_IDS_FIELD_NUMBER: _ClassVar[int]
    room_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, room_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ViewerCounts(_message.Message):
    __slots__ = ("counts",)
    class CountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    counts: _containers.ScalarMap[str, int]
    def __init__(self, counts: _Optional[_Mapping[str, int]] = ...) -> None: ...

class HotRoomsQuery(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RoomCount(_message.Message):
    __slots__ = ("room_id", "viewers")
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    VIEWERS_FIELD_NUMBER: _ClassVar[int]
    room_id: str
    viewers: int
    def __init__(self, room_id: _Optional[str] = ..., viewers: _Optional[int] = ...) -> None: ...

class HotRooms(_message.Message):
    __slots__ = ("rooms",)
    ROOMS_FIELD_NUMBER: _ClassVar[int]
    rooms: _containers.RepeatedCompositeFieldContainer[RoomCount]
    def __init__(self, rooms: _Optional[_Iterable[_Union[RoomCount, _Mapping]]] = ...) -> None: ...

class OwnedRoomsQuery(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class OwnedRooms(_message.Message):
    __slots__ = ("room_ids", "connections")
    ROOM_IDS_FIELD_NUMBER: _ClassVar[int]
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    room_ids: _containers.RepeatedScalarFieldContainer[str]
    connections: int
    def __init__(self, room_ids: _Optional[_Iterable[str]] = ..., connections: _Optional[int] = ...) -> None: ...

class AdoptRoom(_message.Message):
    __slots__ = ("snapshot",)
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    snapshot: RoomSnapshot
    def __init__(self, snapshot: _Optional[_Union[RoomSnapshot, _Mapping]] = ...) -> None: ...

class PullRoom(_message.Message):
    __slots__ = ("room_id",)
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    room_id: str
    def __init__(self, room_id: _Optional[str] = ...) -> None: ...

class ThrottleRequest(_message.Message):
    __slots__ = ("op", "key", "limit", "period_ms", "want")
    OP_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PERIOD_MS_FIELD_NUMBER: _ClassVar[int]
    WANT_FIELD_NUMBER: _ClassVar[int]
    op: ThrottleOp
    key: str
    limit: int
    period_ms: int
    want: int
    def __init__(self, op: _Optional[_Union[ThrottleOp, str]] = ..., key: _Optional[str] = ..., limit: _Optional[int] = ..., period_ms: _Optional[int] = ..., want: _Optional[int] = ...) -> None: ...

class ThrottleGrant(_message.Message):
    __slots__ = ("granted", "lease_ms", "retry_after_ms")
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    LEASE_MS_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    granted: int
    lease_ms: int
    retry_after_ms: int
    def __init__(self, granted: _Optional[int] = ..., lease_ms: _Optional[int] = ..., retry_after_ms: _Optional[int] = ...) -> None: ...

class Query(_message.Message):
    __slots__ = ("query_id", "viewer_counts", "hot_rooms", "owned_rooms", "adopt", "pull", "control", "throttle", "live_host", "live_where", "slot_acquire", "slot_report")
    QUERY_ID_FIELD_NUMBER: _ClassVar[int]
    VIEWER_COUNTS_FIELD_NUMBER: _ClassVar[int]
    HOT_ROOMS_FIELD_NUMBER: _ClassVar[int]
    OWNED_ROOMS_FIELD_NUMBER: _ClassVar[int]
    ADOPT_FIELD_NUMBER: _ClassVar[int]
    PULL_FIELD_NUMBER: _ClassVar[int]
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    THROTTLE_FIELD_NUMBER: _ClassVar[int]
    LIVE_HOST_FIELD_NUMBER: _ClassVar[int]
    LIVE_WHERE_FIELD_NUMBER: _ClassVar[int]
    SLOT_ACQUIRE_FIELD_NUMBER: _ClassVar[int]
    SLOT_REPORT_FIELD_NUMBER: _ClassVar[int]
    query_id: str
    viewer_counts: ViewerCountsQuery
    hot_rooms: HotRoomsQuery
    owned_rooms: OwnedRoomsQuery
    adopt: AdoptRoom
    pull: PullRoom
    control: Control
    throttle: ThrottleRequest
    live_host: LiveHost
    live_where: LiveWhere
    slot_acquire: SlotAcquire
    slot_report: SlotReport
    def __init__(self, query_id: _Optional[str] = ..., viewer_counts: _Optional[_Union[ViewerCountsQuery, _Mapping]] = ..., hot_rooms: _Optional[_Union[HotRoomsQuery, _Mapping]] = ..., owned_rooms: _Optional[_Union[OwnedRoomsQuery, _Mapping]] = ..., adopt: _Optional[_Union[AdoptRoom, _Mapping]] = ..., pull: _Optional[_Union[PullRoom, _Mapping]] = ..., control: _Optional[_Union[Control, _Mapping]] = ..., throttle: _Optional[_Union[ThrottleRequest, _Mapping]] = ..., live_host: _Optional[_Union[LiveHost, _Mapping]] = ..., live_where: _Optional[_Union[LiveWhere, _Mapping]] = ..., slot_acquire: _Optional[_Union[SlotAcquire, _Mapping]] = ..., slot_report: _Optional[_Union[SlotReport, _Mapping]] = ...) -> None: ...

class Ack(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class QueryReply(_message.Message):
    __slots__ = ("query_id", "code", "error", "ack", "viewer_counts", "hot_rooms", "owned_rooms", "snapshot", "throttle", "live_host", "slot")
    QUERY_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    VIEWER_COUNTS_FIELD_NUMBER: _ClassVar[int]
    HOT_ROOMS_FIELD_NUMBER: _ClassVar[int]
    OWNED_ROOMS_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    THROTTLE_FIELD_NUMBER: _ClassVar[int]
    LIVE_HOST_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    query_id: str
    code: ErrorCode
    error: str
    ack: Ack
    viewer_counts: ViewerCounts
    hot_rooms: HotRooms
    owned_rooms: OwnedRooms
    snapshot: RoomSnapshot
    throttle: ThrottleGrant
    live_host: LiveHost
    slot: SlotGrant
    def __init__(self, query_id: _Optional[str] = ..., code: _Optional[_Union[ErrorCode, str]] = ..., error: _Optional[str] = ..., ack: _Optional[_Union[Ack, _Mapping]] = ..., viewer_counts: _Optional[_Union[ViewerCounts, _Mapping]] = ..., hot_rooms: _Optional[_Union[HotRooms, _Mapping]] = ..., owned_rooms: _Optional[_Union[OwnedRooms, _Mapping]] = ..., snapshot: _Optional[_Union[RoomSnapshot, _Mapping]] = ..., throttle: _Optional[_Union[ThrottleGrant, _Mapping]] = ..., live_host: _Optional[_Union[LiveHost, _Mapping]] = ..., slot: _Optional[_Union[SlotGrant, _Mapping]] = ...) -> None: ...

class Invalidation(_message.Message):
    __slots__ = ("kind", "key")
    KIND_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    kind: InvalidationKind
    key: str
    def __init__(self, kind: _Optional[_Union[InvalidationKind, str]] = ..., key: _Optional[str] = ...) -> None: ...

class RoomClosed(_message.Message):
    __slots__ = ("room_id", "reason")
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    room_id: str
    reason: str
    def __init__(self, room_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class Control(_message.Message):
    __slots__ = ("invalidation", "room_closed")
    INVALIDATION_FIELD_NUMBER: _ClassVar[int]
    ROOM_CLOSED_FIELD_NUMBER: _ClassVar[int]
    invalidation: Invalidation
    room_closed: RoomClosed
    def __init__(self, invalidation: _Optional[_Union[Invalidation, _Mapping]] = ..., room_closed: _Optional[_Union[RoomClosed, _Mapping]] = ...) -> None: ...

class LiveHost(_message.Message):
    __slots__ = ("room_id", "movie_id", "host", "on")
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    MOVIE_ID_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    ON_FIELD_NUMBER: _ClassVar[int]
    room_id: str
    movie_id: str
    host: str
    on: bool
    def __init__(self, room_id: _Optional[str] = ..., movie_id: _Optional[str] = ..., host: _Optional[str] = ..., on: _Optional[bool] = ...) -> None: ...

class LiveWhere(_message.Message):
    __slots__ = ("room_id", "movie_id", "pull")
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    MOVIE_ID_FIELD_NUMBER: _ClassVar[int]
    PULL_FIELD_NUMBER: _ClassVar[int]
    room_id: str
    movie_id: str
    pull: bool
    def __init__(self, room_id: _Optional[str] = ..., movie_id: _Optional[str] = ..., pull: _Optional[bool] = ...) -> None: ...

class LiveSubscribe(_message.Message):
    __slots__ = ("room_id", "movie_id", "on")
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    MOVIE_ID_FIELD_NUMBER: _ClassVar[int]
    ON_FIELD_NUMBER: _ClassVar[int]
    room_id: str
    movie_id: str
    on: bool
    def __init__(self, room_id: _Optional[str] = ..., movie_id: _Optional[str] = ..., on: _Optional[bool] = ...) -> None: ...

class LiveTag(_message.Message):
    __slots__ = ("kind", "timestamp_ms", "body")
    KIND_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    kind: int
    timestamp_ms: int
    body: bytes
    def __init__(self, kind: _Optional[int] = ..., timestamp_ms: _Optional[int] = ..., body: _Optional[bytes] = ...) -> None: ...

class LiveSegment(_message.Message):
    __slots__ = ("id", "seq", "duration_s", "data", "discontinuity")
    ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    DURATION_S_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    DISCONTINUITY_FIELD_NUMBER: _ClassVar[int]
    id: str
    seq: int
    duration_s: float
    data: bytes
    discontinuity: bool
    def __init__(self, id: _Optional[str] = ..., seq: _Optional[int] = ..., duration_s: _Optional[float] = ..., data: _Optional[bytes] = ..., discontinuity: _Optional[bool] = ...) -> None: ...

class LiveData(_message.Message):
    __slots__ = ("room_id", "movie_id", "tags", "segments", "start", "closed")
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    MOVIE_ID_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    room_id: str
    movie_id: str
    tags: _containers.RepeatedCompositeFieldContainer[LiveTag]
    segments: _containers.RepeatedCompositeFieldContainer[LiveSegment]
    start: bool
    closed: bool
    def __init__(self, room_id: _Optional[str] = ..., movie_id: _Optional[str] = ..., tags: _Optional[_Iterable[_Union[LiveTag, _Mapping]]] = ..., segments: _Optional[_Iterable[_Union[LiveSegment, _Mapping]]] = ..., start: _Optional[bool] = ..., closed: _Optional[bool] = ...) -> None: ...

class Envelope(_message.Message):
    __slots__ = ("hello", "command", "reply", "events", "subscribe", "query", "query_reply", "control", "live_data", "live_subscribe", "leaving")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    REPLY_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBE_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    QUERY_REPLY_FIELD_NUMBER: _ClassVar[int]
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    LIVE_DATA_FIELD_NUMBER: _ClassVar[int]
    LIVE_SUBSCRIBE_FIELD_NUMBER: _ClassVar[int]
    LEAVING_FIELD_NUMBER: _ClassVar[int]
    hello: Hello
    command: Command
    reply: Reply
    events: EventBatch
    subscribe: Subscribe
    query: Query
    query_reply: QueryReply
    control: Control
    live_data: LiveData
    live_subscribe: LiveSubscribe
    leaving: Leaving
    def __init__(self, hello: _Optional[_Union[Hello, _Mapping]] = ..., command: _Optional[_Union[Command, _Mapping]] = ..., reply: _Optional[_Union[Reply, _Mapping]] = ..., events: _Optional[_Union[EventBatch, _Mapping]] = ..., subscribe: _Optional[_Union[Subscribe, _Mapping]] = ..., query: _Optional[_Union[Query, _Mapping]] = ..., query_reply: _Optional[_Union[QueryReply, _Mapping]] = ..., control: _Optional[_Union[Control, _Mapping]] = ..., live_data: _Optional[_Union[LiveData, _Mapping]] = ..., live_subscribe: _Optional[_Union[LiveSubscribe, _Mapping]] = ..., leaving: _Optional[_Union[Leaving, _Mapping]] = ...) -> None: ...

class Leaving(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Frame(_message.Message):
    __slots__ = ("envelopes",)
    ENVELOPES_FIELD_NUMBER: _ClassVar[int]
    envelopes: _containers.RepeatedCompositeFieldContainer[Envelope]
    def __init__(self, envelopes: _Optional[_Iterable[_Union[Envelope, _Mapping]]] = ...) -> None: ...

class Empty(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MemberInfo(_message.Message):
    __slots__ = ("instance_id", "http_address", "grpc_address", "version", "started_at_ms", "excluded")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    HTTP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    GRPC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    EXCLUDED_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    http_address: str
    grpc_address: str
    version: str
    started_at_ms: int
    excluded: str
    def __init__(self, instance_id: _Optional[str] = ..., http_address: _Optional[str] = ..., grpc_address: _Optional[str] = ..., version: _Optional[str] = ..., started_at_ms: _Optional[int] = ..., excluded: _Optional[str] = ...) -> None: ...

class InstanceInfo(_message.Message):
    __slots__ = ("instance_id", "http_address", "grpc_address", "version", "started_at_ms", "members")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    HTTP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    GRPC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    http_address: str
    grpc_address: str
    version: str
    started_at_ms: int
    members: _containers.RepeatedCompositeFieldContainer[MemberInfo]
    def __init__(self, instance_id: _Optional[str] = ..., http_address: _Optional[str] = ..., grpc_address: _Optional[str] = ..., version: _Optional[str] = ..., started_at_ms: _Optional[int] = ..., members: _Optional[_Iterable[_Union[MemberInfo, _Mapping]]] = ...) -> None: ...

class OwnerRequest(_message.Message):
    __slots__ = ("room_id",)
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    room_id: str
    def __init__(self, room_id: _Optional[str] = ...) -> None: ...

class OwnerReply(_message.Message):
    __slots__ = ("instance_id",)
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    def __init__(self, instance_id: _Optional[str] = ...) -> None: ...

class RoomList(_message.Message):
    __slots__ = ("room_ids",)
    ROOM_IDS_FIELD_NUMBER: _ClassVar[int]
    room_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, room_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SlotWant(_message.Message):
    __slots__ = ("key", "limit")
    KEY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    key: str
    limit: int
    def __init__(self, key: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class SlotAcquire(_message.Message):
    __slots__ = ("wants",)
    WANTS_FIELD_NUMBER: _ClassVar[int]
    wants: _containers.RepeatedCompositeFieldContainer[SlotWant]
    def __init__(self, wants: _Optional[_Iterable[_Union[SlotWant, _Mapping]]] = ...) -> None: ...

class SlotGrant(_message.Message):
    __slots__ = ("granted",)
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    granted: _containers.RepeatedScalarFieldContainer[bool]
    def __init__(self, granted: _Optional[_Iterable[bool]] = ...) -> None: ...

class SlotCount(_message.Message):
    __slots__ = ("key", "count")
    KEY_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    key: str
    count: int
    def __init__(self, key: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class SlotReport(_message.Message):
    __slots__ = ("held",)
    HELD_FIELD_NUMBER: _ClassVar[int]
    held: _containers.RepeatedCompositeFieldContainer[SlotCount]
    def __init__(self, held: _Optional[_Iterable[_Union[SlotCount, _Mapping]]] = ...) -> None: ...
