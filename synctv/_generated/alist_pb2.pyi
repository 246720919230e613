from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LoginReq(_message.Message):
    __slots__ = ("host", "username", "password", "hashed")
    HOST_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    HASHED_FIELD_NUMBER: _ClassVar[int]
    host: str
    username: str
    password: str
    hashed: bool
    def __init__(self, host: _Optional[str] = ..., username: _Optional[str] = ..., password: _Optional[str] = ..., hashed: _Optional[bool] = ...) -> None: ...

class LoginResp(_message.Message):
    __slots__ = ("token",)
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    token: str
    def __init__(self, token: _Optional[str] = ...) -> None: ...

class FsGetReq(_message.Message):
    __slots__ = ("host", "token", "path", "password")
    HOST_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    host: str
    token: str
    path: str
    password: str
    def __init__(self, host: _Optional[str] = ..., token: _Optional[str] = ..., path: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class FsGetResp(_message.Message):
    __slots__ = ("name", "size", "isDir", "modified", "created", "sign", "thumb", "type", "hashinfo", "rawUrl", "readme", "provider")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    ISDIR_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    SIGN_FIELD_NUMBER: _ClassVar[int]
    THUMB_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    HASHINFO_FIELD_NUMBER: _ClassVar[int]
    RAWURL_FIELD_NUMBER: _ClassVar[int]
    README_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    name: str
    size: int
    isDir: bool
    modified: int
    created: int
    sign: str
    thumb: str
    type: int
    hashinfo: str
    rawUrl: str
    readme: str
    provider: str
    def __init__(self, name: _Optional[str] = ..., size: _Optional[int] = ..., isDir: _Optional[bool] = ..., modified: _Optional[int] = ..., created: _Optional[int] = ..., sign: _Optional[str] = ..., thumb: _Optional[str] = ..., type: _Optional[int] = ..., hashinfo: _Optional[str] = ..., rawUrl: _Optional[str] = ..., readme: _Optional[str] = ..., provider: _Optional[str] = ...) -> None: ...

class FsListReq(_message.Message):
    __slots__ = ("host", "token", "path", "password", "page", "perPage", "refresh")
    HOST_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PERPAGE_FIELD_NUMBER: _ClassVar[int]
    REFRESH_FIELD_NUMBER: _ClassVar[int]
    host: str
    token: str
    path: str
    password: str
    page: int
    perPage: int
    refresh: bool
    def __init__(self, host: _Optional[str] = ..., token: _Optional[str] = ..., path: _Optional[str] = ..., password: _Optional[str] = ..., page: _Optional[int] = ..., perPage: _Optional[int] = ..., refresh: _Optional[bool] = ...) -> None: ...

class FsListResp(_message.Message):
    __slots__ = ("content", "total", "readme", "write", "provider")
    class FsListContent(_message.Message):
        __slots__ = ("name", "size", "isDir", "modified", "sign", "thumb", "type")
        NAME_FIELD_NUMBER: _ClassVar[int]
        SIZE_FIELD_NUMBER: _ClassVar[int]
        ISDIR_FIELD_NUMBER: _ClassVar[int]
        MODIFIED_FIELD_NUMBER: _ClassVar[int]
        SIGN_FIELD_NUMBER: _ClassVar[int]
        THUMB_FIELD_NUMBER: _ClassVar[int]
        TYPE_FIELD_NUMBER: _ClassVar[int]
        name: str
        size: int
        isDir: bool
        modified: int
        sign: str
        thumb: str
        type: int
        def __init__(self, name: _Optional[str] = ..., size: _Optional[int] = ..., isDir: _Optional[bool] = ..., modified: _Optional[int] = ..., sign: _Optional[str] = ..., thumb: _Optional[str] = ..., type: _Optional[int] = ...) -> None: ...
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    README_FIELD_NUMBER: _ClassVar[int]
    WRITE_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    content: _containers.RepeatedCompositeFieldContainer[FsListResp.FsListContent]
    total: int
    readme: str
    write: bool
    provider: str
    def __init__(self, content: _Optional[_Iterable[_Union[FsListResp.FsListContent, _Mapping]]] = ..., total: _Optional[int] = ..., readme: _Optional[str] = ..., write: _Optional[bool] = ..., provider: _Optional[str] = ...) -> None: ...

class FsOtherReq(_message.Message):
    __slots__ = ("host", "token", "path", "method", "password")
    HOST_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    host: str
    token: str
    path: str
    method: str
    password: str
    def __init__(self, host: _Optional[str] = ..., token: _Optional[str] = ..., path: _Optional[str] = ..., method: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class FsOtherResp(_message.Message):
    __slots__ = ("driveId", "fileId", "videoPreviewPlayInfo")
    class VideoPreviewPlayInfo(_message.Message):
        __slots__ = ("category", "liveTranscodingSubtitleTaskList", "liveTranscodingTaskList", "meta")
        class LiveTranscodingSubtitleTaskList(_message.Message):
            __slots__ = ("language", "status", "url")
            LANGUAGE_FIELD_NUMBER: _ClassVar[int]
            STATUS_FIELD_NUMBER: _ClassVar[int]
            URL_FIELD_NUMBER: _ClassVar[int]
            language: str
            status: str
            url: str
            def __init__(self, language: _Optional[str] = ..., status: _Optional[str] = ..., url: _Optional[str] = ...) -> None: ...
        class LiveTranscodingTaskList(_message.Message):
            __slots__ = ("stage", "status", "templateHeight", "templateId", "templateName", "templateWidth", "url")
            STAGE_FIELD_NUMBER: _ClassVar[int]
            STATUS_FIELD_NUMBER: _ClassVar[int]
            TEMPLATEHEIGHT_FIELD_NUMBER: _ClassVar[int]
            TEMPLATEID_FIELD_NUMBER: _ClassVar[int]
            TEMPLATENAME_FIELD_NUMBER: _ClassVar[int]
            TEMPLATEWIDTH_FIELD_NUMBER: _ClassVar[int]
            URL_FIELD_NUMBER: _ClassVar[int]
            stage: str
            status: str
            templateHeight: int
            templateId: str
            templateName: str
            templateWidth: int
            url: str
            def __init__(self, stage: _Optional[str] = ..., status: _Optional[str] = ..., templateHeight: _Optional[int] = ..., templateId: _Optional[str] = ..., templateName: _Optional[str] = ..., templateWidth: _Optional[int] = ..., url: _Optional[str] = ...) -> None: ...
        class Meta(_message.Message):
            __slots__ = ("duration", "height", "width")
            DURATION_FIELD_NUMBER: _ClassVar[int]
            HEIGHT_FIELD_NUMBER: _ClassVar[int]
            WIDTH_FIELD_NUMBER: _ClassVar[int]
            duration: float
            height: int
            width: int
            def __init__(self, duration: _Optional[float] = ..., height: _Optional[int] = ..., width: _Optional[int] = ...) -> None: ...
        CATEGORY_FIELD_NUMBER: _ClassVar[int]
        LIVETRANSCODINGSUBTITLETASKLIST_FIELD_NUMBER: _ClassVar[int]
        LIVETRANSCODINGTASKLIST_FIELD_NUMBER: _ClassVar[int]
        META_FIELD_NUMBER: _ClassVar[int]
        category: str
        liveTranscodingSubtitleTaskList: _containers.RepeatedCompositeFieldContainer[FsOtherResp.VideoPreviewPlayInfo.LiveTranscodingSubtitleTaskList]
        liveTranscodingTaskList: _containers.RepeatedCompositeFieldContainer[FsOtherResp.VideoPreviewPlayInfo.LiveTranscodingTaskList]
        meta: FsOtherResp.VideoPreviewPlayInfo.Meta
        def __init__(self, category: _Optional[str] = ..., liveTranscodingSubtitleTaskList: _Optional[_Iterable[_Union[FsOtherResp.VideoPreviewPlayInfo.LiveTranscodingSubtitleTaskList, _Mapping]]] = ..., liveTranscodingTaskList: _Optional[_Iterable[_Union[FsOtherResp.VideoPreviewPlayInfo.LiveTranscodingTaskList, _Mapping]]] = ..., meta: _Optional[_Union[FsOtherResp.VideoPreviewPlayInfo.Meta, _Mapping]] = ...) -> None: ...
    DRIVEID_FIELD_NUMBER: _ClassVar[int]
    FILEID_FIELD_NUMBER: _ClassVar[int]
    VIDEOPREVIEWPLAYINFO_FIELD_NUMBER: _ClassVar[int]
    driveId: str
    fileId: str
    videoPreviewPlayInfo: FsOtherResp.VideoPreviewPlayInfo
    def __init__(self, driveId: _Optional[str] = ..., fileId: _Optional[str] = ..., videoPreviewPlayInfo: _Optional[_Union[FsOtherResp.VideoPreviewPlayInfo, _Mapping]] = ...) -> None: ...

class MeReq(_message.Message):
    __slots__ = ("host", "token")
    HOST_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    host: str
    token: str
    def __init__(self, host: _Optional[str] = ..., token: _Optional[str] = ...) -> None: ...

class MeResp(_message.Message):
    __slots__ = ("id", "username", "password", "basePath", "role", "disabled", "permission", "ssoId", "otp")
    ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    BASEPATH_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    DISABLED_FIELD_NUMBER: _ClassVar[int]
    PERMISSION_FIELD_NUMBER: _ClassVar[int]
    SSOID_FIELD_NUMBER: _ClassVar[int]
    OTP_FIELD_NUMBER: _ClassVar[int]
    id: int
    username: str
    password: str
    basePath: str
    role: int
    disabled: bool
    permission: int
    ssoId: str
    otp: bool
    def __init__(self, id: _Optional[int] = ..., username: _Optional[str] = ..., password: _Optional[str] = ..., basePath: _Optional[str] = ..., role: _Optional[int] = ..., disabled: _Optional[bool] = ..., permission: _Optional[int] = ..., ssoId: _Optional[str] = ..., otp: _Optional[bool] = ...) -> None: ...

class FsSearchReq(_message.Message):
    __slots__ = ("host", "token", "parent", "keywords", "scope", "page", "perPage", "password")
    HOST_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    KEYWORDS_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    PERPAGE_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    host: str
    token: str
    parent: str
    keywords: str
    scope: int
    page: int
    perPage: int
    password: str
    def __init__(self, host: _Optional[str] = ..., token: _Optional[str] = ..., parent: _Optional[str] = ..., keywords: _Optional[str] = ..., scope: _Optional[int] = ..., page: _Optional[int] = ..., perPage: _Optional[int] = ..., password: _Optional[str] = ...) -> None: ...

class FsSearchResp(_message.Message):
    __slots__ = ("content", "total")
    class FsSearchContent(_message.Message):
        __slots__ = ("parent", "name", "isDir", "size", "type")
        PARENT_FIELD_NUMBER: _ClassVar[int]
        NAME_FIELD_NUMBER: _ClassVar[int]
        ISDIR_FIELD_NUMBER: _ClassVar[int]
        SIZE_FIELD_NUMBER: _ClassVar[int]
        TYPE_FIELD_NUMBER: _ClassVar[int]
        parent: str
        name: str
        isDir: bool
        size: int
        type: int
        def __init__(self, parent: _Optional[str] = ..., name: _Optional[str] = ..., isDir: _Optional[bool] = ..., size: _Optional[int] = ..., type: _Optional[int] = ...) -> None: ...
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    content: _containers.RepeatedCompositeFieldContainer[FsSearchResp.FsSearchContent]
    total: int
    def __init__(self, content: _Optional[_Iterable[_Union[FsSearchResp.FsSearchContent, _Mapping]]] = ..., total: _Optional[int] = ...) -> None: ...
