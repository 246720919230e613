from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Hello(_message.Message):
    __slots__ = ("instance_id", "started_at_ms", "grpc_address")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    GRPC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    started_at_ms: int
    grpc_address: str
    def __init__(self, instance_id: _Optional[str] = ..., started_at_ms: _Optional[int] = ..., grpc_address: _Optional[str] = ...) -> None: ...

class Command(_message.Message):
    __slots__ = ("room_id", "op_id", "deadline_unix_ms", "payload")
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    OP_ID_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    room_id: str
    op_id: str
    deadline_unix_ms: int
    payload: bytes
    def __init__(self, room_id: _Optional[str] = ..., op_id: _Optional[str] = ..., deadline_unix_ms: _Optional[int] = ..., payload: _Optional[bytes] = ...) -> None: ...

class Reply(_message.Message):
    __slots__ = ("op_id", "ok", "error", "redirect_to", "payload")
    OP_ID_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_TO_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    op_id: str
    ok: bool
    error: str
    redirect_to: str
    payload: bytes
    def __init__(self, op_id: _Optional[str] = ..., ok: _Optional[bool] = ..., error: _Optional[str] = ..., redirect_to: _Optional[str] = ..., payload: _Optional[bytes] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("seq", "server_ts_ms", "payload")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    SERVER_TS_MS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    seq: int
    server_ts_ms: int
    payload: bytes
    def __init__(self, seq: _Optional[int] = ..., server_ts_ms: _Optional[int] = ..., payload: _Optional[bytes] = ...) -> None: ...

class EventBatch(_message.Message):
    __slots__ = ("room_id", "events")
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    room_id: str
    events: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, room_id: _Optional[str] = ..., events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...

class Presence(_message.Message):
    __slots__ = ("room_id", "payload")
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    room_id: str
    payload: bytes
    def __init__(self, room_id: _Optional[str] = ..., payload: _Optional[bytes] = ...) -> None: ...

class Subscribe(_message.Message):
    __slots__ = ("room_id", "on")
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    ON_FIELD_NUMBER: _ClassVar[int]
    room_id: str
    on: bool
    def __init__(self, room_id: _Optional[str] = ..., on: _Optional[bool] = ...) -> None: ...

class SnapshotRequest(_message.Message):
    __slots__ = ("request_id", "room_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    room_id: str
    def __init__(self, request_id: _Optional[str] = ..., room_id: _Optional[str] = ...) -> None: ...

class SnapshotResponse(_message.Message):
    __slots__ = ("request_id", "ok", "payload", "error")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    ok: bool
    payload: bytes
    error: str
    def __init__(self, request_id: _Optional[str] = ..., ok: _Optional[bool] = ..., payload: _Optional[bytes] = ..., error: _Optional[str] = ...) -> None: ...

class Control(_message.Message):
    __slots__ = ("kind", "payload")
    KIND_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    kind: str
    payload: bytes
    def __init__(self, kind: _Optional[str] = ..., payload: _Optional[bytes] = ...) -> None: ...

class Envelope(_message.Message):
    __slots__ = ("hello", "command", "reply", "events", "presence", "subscribe", "snapshot_request", "snapshot_response", "control")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    REPLY_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    PRESENCE_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIBE_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_REQUEST_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    hello: Hello
    command: Command
    reply: Reply
    events: EventBatch
    presence: Presence
    subscribe: Subscribe
    snapshot_request: SnapshotRequest
    snapshot_response: SnapshotResponse
    control: Control
    def __init__(self, hello: _Optional[_Union[Hello, _Mapping]] = ..., command: _Optional[_Union[Command, _Mapping]] = ..., reply: _Optional[_Union[Reply, _Mapping]] = ..., events: _Optional[_Union[EventBatch, _Mapping]] = ..., presence: _Optional[_Union[Presence, _Mapping]] = ..., subscribe: _Optional[_Union[Subscribe, _Mapping]] = ..., snapshot_request: _Optional[_Union[SnapshotRequest, _Mapping]] = ..., snapshot_response: _Optional[_Union[SnapshotResponse, _Mapping]] = ..., control: _Optional[_Union[Control, _Mapping]] = ...) -> None: ...

class Empty(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MemberInfo(_message.Message):
    __slots__ = ("instance_id", "http_address", "grpc_address", "version", "started_at_ms")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    HTTP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    GRPC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    http_address: str
    grpc_address: str
    version: str
    started_at_ms: int
    def __init__(self, instance_id: _Optional[str] = ..., http_address: _Optional[str] = ..., grpc_address: _Optional[str] = ..., version: _Optional[str] = ..., started_at_ms: _Optional[int] = ...) -> None: ...

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
