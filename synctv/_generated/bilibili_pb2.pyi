from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class QRCodeStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNKNOWN: _ClassVar[QRCodeStatus]
    EXPIRED: _ClassVar[QRCodeStatus]
    NOTSCANNED: _ClassVar[QRCodeStatus]
    SCANNED: _ClassVar[QRCodeStatus]
    SUCCESS: _ClassVar[QRCodeStatus]
UNKNOWN: QRCodeStatus
EXPIRED: QRCodeStatus
NOTSCANNED: QRCodeStatus
SCANNED: QRCodeStatus
SUCCESS: QRCodeStatus

class Empty(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class NewQRCodeResp(_message.Message):
    __slots__ = ("url", "key")
    URL_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    url: str
    key: str
    def __init__(self, url: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...

class LoginWithQRCodeReq(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: str
    def __init__(self, key: _Optional[str] = ...) -> None: ...

class LoginWithQRCodeResp(_message.Message):
    __slots__ = ("status", "cookies")
    class CookiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    STATUS_FIELD_NUMBER: _ClassVar[int]
    COOKIES_FIELD_NUMBER: _ClassVar[int]
    status: QRCodeStatus
    cookies: _containers.ScalarMap[str, str]
    def __init__(self, status: _Optional[_Union[QRCodeStatus, str]] = ..., cookies: _Optional[_Mapping[str, str]] = ...) -> None: ...

class NewCaptchaResp(_message.Message):
    __slots__ = ("token", "gt", "challenge")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    GT_FIELD_NUMBER: _ClassVar[int]
    CHALLENGE_FIELD_NUMBER: _ClassVar[int]
    token: str
    gt: str
    challenge: str
    def __init__(self, token: _Optional[str] = ..., gt: _Optional[str] = ..., challenge: _Optional[str] = ...) -> None: ...

class NewSMSReq(_message.Message):
    __slots__ = ("phone", "token", "challenge", "validate")
    PHONE_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    CHALLENGE_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_FIELD_NUMBER: _ClassVar[int]
    phone: str
    token: str
    challenge: str
    validate: str
    def __init__(self, phone: _Optional[str] = ..., token: _Optional[str] = ..., challenge: _Optional[str] = ..., validate: _Optional[str] = ...) -> None: ...

class NewSMSResp(_message.Message):
    __slots__ = ("captchaKey",)
    CAPTCHAKEY_FIELD_NUMBER: _ClassVar[int]
    captchaKey: str
    def __init__(self, captchaKey: _Optional[str] = ...) -> None: ...

class LoginWithSMSReq(_message.Message):
    __slots__ = ("phone", "code", "captchaKey")
    PHONE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    CAPTCHAKEY_FIELD_NUMBER: _ClassVar[int]
    phone: str
    code: str
    captchaKey: str
    def __init__(self, phone: _Optional[str] = ..., code: _Optional[str] = ..., captchaKey: _Optional[str] = ...) -> None: ...

class LoginWithSMSResp(_message.Message):
    __slots__ = ("cookies",)
    class CookiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COOKIES_FIELD_NUMBER: _ClassVar[int]
    cookies: _containers.ScalarMap[str, str]
    def __init__(self, cookies: _Optional[_Mapping[str, str]] = ...) -> None: ...

class VideoPageInfo(_message.Message):
    __slots__ = ("title", "actors", "videoInfos")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    ACTORS_FIELD_NUMBER: _ClassVar[int]
    VIDEOINFOS_FIELD_NUMBER: _ClassVar[int]
    title: str
    actors: str
    videoInfos: _containers.RepeatedCompositeFieldContainer[VideoInfo]
    def __init__(self, title: _Optional[str] = ..., actors: _Optional[str] = ..., videoInfos: _Optional[_Iterable[_Union[VideoInfo, _Mapping]]] = ...) -> None: ...

class VideoInfo(_message.Message):
    __slots__ = ("bvid", "cid", "epid", "name", "coverImage")
    BVID_FIELD_NUMBER: _ClassVar[int]
    CID_FIELD_NUMBER: _ClassVar[int]
    EPID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COVERIMAGE_FIELD_NUMBER: _ClassVar[int]
    bvid: str
    cid: int
    epid: int
    name: str
    coverImage: str
    def __init__(self, bvid: _Optional[str] = ..., cid: _Optional[int] = ..., epid: _Optional[int] = ..., name: _Optional[str] = ..., coverImage: _Optional[str] = ...) -> None: ...

class ParseVideoPageReq(_message.Message):
    __slots__ = ("cookies", "aid", "bvid", "sections")
    class CookiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COOKIES_FIELD_NUMBER: _ClassVar[int]
    AID_FIELD_NUMBER: _ClassVar[int]
    BVID_FIELD_NUMBER: _ClassVar[int]
    SECTIONS_FIELD_NUMBER: _ClassVar[int]
    cookies: _containers.ScalarMap[str, str]
    aid: int
    bvid: str
    sections: bool
    def __init__(self, cookies: _Optional[_Mapping[str, str]] = ..., aid: _Optional[int] = ..., bvid: _Optional[str] = ..., sections: _Optional[bool] = ...) -> None: ...

class VideoURL(_message.Message):
    __slots__ = ("acceptDescription", "acceptQuality", "currentQuality", "url")
    ACCEPTDESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ACCEPTQUALITY_FIELD_NUMBER: _ClassVar[int]
    CURRENTQUALITY_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    acceptDescription: _containers.RepeatedScalarFieldContainer[str]
    acceptQuality: _containers.RepeatedScalarFieldContainer[int]
    currentQuality: int
    url: str
    def __init__(self, acceptDescription: _Optional[_Iterable[str]] = ..., acceptQuality: _Optional[_Iterable[int]] = ..., currentQuality: _Optional[int] = ..., url: _Optional[str] = ...) -> None: ...

class GetVideoURLReq(_message.Message):
    __slots__ = ("cookies", "aid", "bvid", "cid", "quality")
    class CookiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COOKIES_FIELD_NUMBER: _ClassVar[int]
    AID_FIELD_NUMBER: _ClassVar[int]
    BVID_FIELD_NUMBER: _ClassVar[int]
    CID_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    cookies: _containers.ScalarMap[str, str]
    aid: int
    bvid: str
    cid: int
    quality: int
    def __init__(self, cookies: _Optional[_Mapping[str, str]] = ..., aid: _Optional[int] = ..., bvid: _Optional[str] = ..., cid: _Optional[int] = ..., quality: _Optional[int] = ...) -> None: ...

class GetDashVideoURLReq(_message.Message):
    __slots__ = ("cookies", "aid", "bvid", "cid", "hevc")
    class CookiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COOKIES_FIELD_NUMBER: _ClassVar[int]
    AID_FIELD_NUMBER: _ClassVar[int]
    BVID_FIELD_NUMBER: _ClassVar[int]
    CID_FIELD_NUMBER: _ClassVar[int]
    HEVC_FIELD_NUMBER: _ClassVar[int]
    cookies: _containers.ScalarMap[str, str]
    aid: int
    bvid: str
    cid: int
    hevc: bool
    def __init__(self, cookies: _Optional[_Mapping[str, str]] = ..., aid: _Optional[int] = ..., bvid: _Optional[str] = ..., cid: _Optional[int] = ..., hevc: _Optional[bool] = ...) -> None: ...

class GetDashVideoURLResp(_message.Message):
    __slots__ = ("mpd",)
    MPD_FIELD_NUMBER: _ClassVar[int]
    mpd: str
    def __init__(self, mpd: _Optional[str] = ...) -> None: ...

class GetSubtitlesReq(_message.Message):
    __slots__ = ("cookies", "aid", "bvid", "cid")
    class CookiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COOKIES_FIELD_NUMBER: _ClassVar[int]
    AID_FIELD_NUMBER: _ClassVar[int]
    BVID_FIELD_NUMBER: _ClassVar[int]
    CID_FIELD_NUMBER: _ClassVar[int]
    cookies: _containers.ScalarMap[str, str]
    aid: int
    bvid: str
    cid: int
    def __init__(self, cookies: _Optional[_Mapping[str, str]] = ..., aid: _Optional[int] = ..., bvid: _Optional[str] = ..., cid: _Optional[int] = ...) -> None: ...

class GetSubtitlesResp(_message.Message):
    __slots__ = ("subtitles",)
    class SubtitlesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SUBTITLES_FIELD_NUMBER: _ClassVar[int]
    subtitles: _containers.ScalarMap[str, str]
    def __init__(self, subtitles: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ParsePGCPageReq(_message.Message):
    __slots__ = ("cookies", "ssid", "epid")
    class CookiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COOKIES_FIELD_NUMBER: _ClassVar[int]
    SSID_FIELD_NUMBER: _ClassVar[int]
    EPID_FIELD_NUMBER: _ClassVar[int]
    cookies: _containers.ScalarMap[str, str]
    ssid: int
    epid: int
    def __init__(self, cookies: _Optional[_Mapping[str, str]] = ..., ssid: _Optional[int] = ..., epid: _Optional[int] = ...) -> None: ...

class GetPGCURLReq(_message.Message):
    __slots__ = ("cookies", "epid", "cid", "quality")
    class CookiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COOKIES_FIELD_NUMBER: _ClassVar[int]
    EPID_FIELD_NUMBER: _ClassVar[int]
    CID_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    cookies: _containers.ScalarMap[str, str]
    epid: int
    cid: int
    quality: int
    def __init__(self, cookies: _Optional[_Mapping[str, str]] = ..., epid: _Optional[int] = ..., cid: _Optional[int] = ..., quality: _Optional[int] = ...) -> None: ...

class GetDashPGCURLReq(_message.Message):
    __slots__ = ("cookies", "epid", "cid", "hevc")
    class CookiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COOKIES_FIELD_NUMBER: _ClassVar[int]
    EPID_FIELD_NUMBER: _ClassVar[int]
    CID_FIELD_NUMBER: _ClassVar[int]
    HEVC_FIELD_NUMBER: _ClassVar[int]
    cookies: _containers.ScalarMap[str, str]
    epid: int
    cid: int
    hevc: bool
    def __init__(self, cookies: _Optional[_Mapping[str, str]] = ..., epid: _Optional[int] = ..., cid: _Optional[int] = ..., hevc: _Optional[bool] = ...) -> None: ...

class GetDashPGCURLResp(_message.Message):
    __slots__ = ("mpd",)
    MPD_FIELD_NUMBER: _ClassVar[int]
    mpd: str
    def __init__(self, mpd: _Optional[str] = ...) -> None: ...

class UserInfoReq(_message.Message):
    __slots__ = ("cookies",)
    class CookiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COOKIES_FIELD_NUMBER: _ClassVar[int]
    cookies: _containers.ScalarMap[str, str]
    def __init__(self, cookies: _Optional[_Mapping[str, str]] = ...) -> None: ...

class UserInfoResp(_message.Message):
    __slots__ = ("isLogin", "username", "face", "isVip")
    ISLOGIN_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    FACE_FIELD_NUMBER: _ClassVar[int]
    ISVIP_FIELD_NUMBER: _ClassVar[int]
    isLogin: bool
    username: str
    face: str
    isVip: bool
    def __init__(self, isLogin: _Optional[bool] = ..., username: _Optional[str] = ..., face: _Optional[str] = ..., isVip: _Optional[bool] = ...) -> None: ...

class MatchReq(_message.Message):
    __slots__ = ("url",)
    URL_FIELD_NUMBER: _ClassVar[int]
    url: str
    def __init__(self, url: _Optional[str] = ...) -> None: ...

class MatchResp(_message.Message):
    __slots__ = ("type", "id")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    type: str
    id: str
    def __init__(self, type: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...
