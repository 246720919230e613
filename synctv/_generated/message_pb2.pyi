from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MessageType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNKNOWN: _ClassVar[MessageType]
    ERROR: _ClassVar[MessageType]
    CHAT: _ClassVar[MessageType]
    STATUS: _ClassVar[MessageType]
    CHECK_STATUS: _ClassVar[MessageType]
    EXPIRED: _ClassVar[MessageType]
    CURRENT: _ClassVar[MessageType]
    MOVIES: _ClassVar[MessageType]
    VIEWER_COUNT: _ClassVar[MessageType]
    SYNC: _ClassVar[MessageType]
    MY_STATUS: _ClassVar[MessageType]
    WEBRTC_OFFER: _ClassVar[MessageType]
    WEBRTC_ANSWER: _ClassVar[MessageType]
    WEBRTC_ICE_CANDIDATE: _ClassVar[MessageType]
    WEBRTC_JOIN: _ClassVar[MessageType]
    WEBRTC_LEAVE: _ClassVar[MessageType]
UNKNOWN: MessageType
ERROR: MessageType
CHAT: MessageType
STATUS: MessageType
CHECK_STATUS: MessageType
EXPIRED: MessageType
CURRENT: MessageType
MOVIES: MessageType
VIEWER_COUNT: MessageType
SYNC: MessageType
MY_STATUS: MessageType
WEBRTC_OFFER: MessageType
WEBRTC_ANSWER: MessageType
WEBRTC_ICE_CANDIDATE: MessageType
WEBRTC_JOIN: MessageType
WEBRTC_LEAVE: MessageType

class Sender(_message.Message):
    __slots__ = ("user_id", "username")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    username: str
    def __init__(self, user_id: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...

class Status(_message.Message):
    __slots__ = ("is_playing", "current_time", "playback_rate")
    IS_PLAYING_FIELD_NUMBER: _ClassVar[int]
    CURRENT_TIME_FIELD_NUMBER: _ClassVar[int]
    PLAYBACK_RATE_FIELD_NUMBER: _ClassVar[int]
    is_playing: bool
    current_time: float
    playback_rate: float
    def __init__(self, is_playing: _Optional[bool] = ..., current_time: _Optional[float] = ..., playback_rate: _Optional[float] = ...) -> None: ...

class WebRTCData(_message.Message):
    __slots__ = ("data", "to")
    DATA_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    data: str
    to: str
    def __init__(self, data: _Optional[str] = ..., to: _Optional[str] = ..., **kwargs) -> None: ...

class Message(_message.Message):
    __slots__ = ("type", "timestamp", "sender", "error_message", "chat_content", "playback_status", "expiration_id", "viewer_count", "webrtc_data")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CHAT_CONTENT_FIELD_NUMBER: _ClassVar[int]
    PLAYBACK_STATUS_FIELD_NUMBER: _ClassVar[int]
    EXPIRATION_ID_FIELD_NUMBER: _ClassVar[int]
    VIEWER_COUNT_FIELD_NUMBER: _ClassVar[int]
    WEBRTC_DATA_FIELD_NUMBER: _ClassVar[int]
    type: MessageType
    timestamp: int
    sender: Sender
    error_message: str
    chat_content: str
    playback_status: Status
    expiration_id: int
    viewer_count: int
    webrtc_data: WebRTCData
    def __init__(self, type: _Optional[_Union[MessageType, str]] = ..., timestamp: _Optional[int] = ..., sender: _Optional[_Union[Sender, _Mapping]] = ..., error_message: _Optional[str] = ..., chat_content: _Optional[str] = ..., playback_status: _Optional[_Union[Status, _Mapping]] = ..., expiration_id: _Optional[int] = ..., viewer_count: _Optional[int] = ..., webrtc_data: _Optional[_Union[WebRTCData, _Mapping]] = ...) -> None: ...
