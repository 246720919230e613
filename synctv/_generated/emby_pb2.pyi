from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LoginReq(_message.Message):
    __slots__ = ("host", "username", "password")
    HOST_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    host: str
    username: str
    password: str
    def __init__(self, host: _Optional[str] = ..., username: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class LoginResp(_message.Message):
    __slots__ = ("token", "userId", "serverId")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    USERID_FIELD_NUMBER: _ClassVar[int]
    SERVERID_FIELD_NUMBER: _ClassVar[int]
    token: str
    userId: str
    serverId: str
    def __init__(self, token: _Optional[str] = ..., userId: _Optional[str] = ..., serverId: _Optional[str] = ...) -> None: ...

class MeReq(_message.Message):
    __slots__ = ("host", "token", "userId")
    HOST_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    USERID_FIELD_NUMBER: _ClassVar[int]
    host: str
    token: str
    userId: str
    def __init__(self, host: _Optional[str] = ..., token: _Optional[str] = ..., userId: _Optional[str] = ...) -> None: ...

class MeResp(_message.Message):
    __slots__ = ("id", "name", "serverId")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SERVERID_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    serverId: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., serverId: _Optional[str] = ...) -> None: ...

class GetItemsReq(_message.Message):
    __slots__ = ("host", "token", "parentId", "searchTerm")
    HOST_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    PARENTID_FIELD_NUMBER: _ClassVar[int]
    SEARCHTERM_FIELD_NUMBER: _ClassVar[int]
    host: str
    token: str
    parentId: str
    searchTerm: str
    def __init__(self, host: _Optional[str] = ..., token: _Optional[str] = ..., parentId: _Optional[str] = ..., searchTerm: _Optional[str] = ...) -> None: ...

class MediaStreamInfo(_message.Message):
    __slots__ = ("codec", "language", "type", "title", "displayTitle", "displayLanguage", "isDefault", "index", "protocol")
    CODEC_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DISPLAYTITLE_FIELD_NUMBER: _ClassVar[int]
    DISPLAYLANGUAGE_FIELD_NUMBER: _ClassVar[int]
    ISDEFAULT_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    codec: str
    language: str
    type: str
    title: str
    displayTitle: str
    displayLanguage: str
    isDefault: bool
    index: int
    protocol: str
    def __init__(self, codec: _Optional[str] = ..., language: _Optional[str] = ..., type: _Optional[str] = ..., title: _Optional[str] = ..., displayTitle: _Optional[str] = ..., displayLanguage: _Optional[str] = ..., isDefault: _Optional[bool] = ..., index: _Optional[int] = ..., protocol: _Optional[str] = ...) -> None: ...

class MediaSourceInfo(_message.Message):
    __slots__ = ("id", "name", "path", "container", "protocol", "defaultSubtitleStreamIndex", "defaultAudioStreamIndex", "mediaStreamInfo", "directPlayUrl", "transcodingUrl")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    DEFAULTSUBTITLESTREAMINDEX_FIELD_NUMBER: _ClassVar[int]
    DEFAULTAUDIOSTREAMINDEX_FIELD_NUMBER: _ClassVar[int]
    MEDIASTREAMINFO_FIELD_NUMBER: _ClassVar[int]
    DIRECTPLAYURL_FIELD_NUMBER: _ClassVar[int]
    TRANSCODINGURL_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    path: str
    container: str
    protocol: str
    defaultSubtitleStreamIndex: int
    defaultAudioStreamIndex: int
    mediaStreamInfo: _containers.RepeatedCompositeFieldContainer[MediaStreamInfo]
    directPlayUrl: str
    transcodingUrl: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., path: _Optional[str] = ..., container: _Optional[str] = ..., protocol: _Optional[str] = ..., defaultSubtitleStreamIndex: _Optional[int] = ..., defaultAudioStreamIndex: _Optional[int] = ..., mediaStreamInfo: _Optional[_Iterable[_Union[MediaStreamInfo, _Mapping]]] = ..., directPlayUrl: _Optional[str] = ..., transcodingUrl: _Optional[str] = ...) -> None: ...

class Item(_message.Message):
    __slots__ = ("name", "id", "type", "parentId", "seriesName", "seriesId", "seasonName", "seasonId", "isFolder", "mediaSourceInfo", "collectionType")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PARENTID_FIELD_NUMBER: _ClassVar[int]
    SERIESNAME_FIELD_NUMBER: _ClassVar[int]
    SERIESID_FIELD_NUMBER: _ClassVar[int]
    SEASONNAME_FIELD_NUMBER: _ClassVar[int]
    SEASONID_FIELD_NUMBER: _ClassVar[int]
    ISFOLDER_FIELD_NUMBER: _ClassVar[int]
    MEDIASOURCEINFO_FIELD_NUMBER: _ClassVar[int]
    COLLECTIONTYPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    id: str
    type: str
    parentId: str
    seriesName: str
    seriesId: str
    seasonName: str
    seasonId: str
    isFolder: bool
    mediaSourceInfo: _containers.RepeatedCompositeFieldContainer[MediaSourceInfo]
    collectionType: str
    def __init__(self, name: _Optional[str] = ..., id: _Optional[str] = ..., type: _Optional[str] = ..., parentId: _Optional[str] = ..., seriesName: _Optional[str] = ..., seriesId: _Optional[str] = ..., seasonName: _Optional[str] = ..., seasonId: _Optional[str] = ..., isFolder: _Optional[bool] = ..., mediaSourceInfo: _Optional[_Iterable[_Union[MediaSourceInfo, _Mapping]]] = ..., collectionType: _Optional[str] = ...) -> None: ...

class GetItemsResp(_message.Message):
    __slots__ = ("items", "totalRecordCount")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    TOTALRECORDCOUNT_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Item]
    totalRecordCount: int
    def __init__(self, items: _Optional[_Iterable[_Union[Item, _Mapping]]] = ..., totalRecordCount: _Optional[int] = ...) -> None: ...

class GetItemReq(_message.Message):
    __slots__ = ("host", "token", "itemId")
    HOST_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    ITEMID_FIELD_NUMBER: _ClassVar[int]
    host: str
    token: str
    itemId: str
    def __init__(self, host: _Optional[str] = ..., token: _Optional[str] = ..., itemId: _Optional[str] = ...) -> None: ...

class SystemInfoReq(_message.Message):
    __slots__ = ("host", "token")
    HOST_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    host: str
    token: str
    def __init__(self, host: _Optional[str] = ..., token: _Optional[str] = ...) -> None: ...

class SystemInfoResp(_message.Message):
    __slots__ = ("systemUpdateLevel", "operatingSystemDisplayName", "packageName", "hasPendingRestart", "isShuttingDown", "supportsLibraryMonitor", "webSocketPortNumber", "canSelfRestart", "canSelfUpdate", "canLaunchWebBrowser", "programDataPath", "itemsByNamePath", "cachePath", "logPath", "internalMetadataPath", "transcodingTempPath", "httpServerPortNumber", "supportsHttps", "httpsPortNumber", "hasUpdateAvailable", "supportsAutoRunAtStartup", "hardwareAccelerationRequiresPremiere", "localAddress", "wanAddress", "serverName", "version", "operatingSystem", "id")
    SYSTEMUPDATELEVEL_FIELD_NUMBER: _ClassVar[int]
    OPERATINGSYSTEMDISPLAYNAME_FIELD_NUMBER: _ClassVar[int]
    PACKAGENAME_FIELD_NUMBER: _ClassVar[int]
    HASPENDINGRESTART_FIELD_NUMBER: _ClassVar[int]
    ISSHUTTINGDOWN_FIELD_NUMBER: _ClassVar[int]
    SUPPORTSLIBRARYMONITOR_FIELD_NUMBER: _ClassVar[int]
    WEBSOCKETPORTNUMBER_FIELD_NUMBER: _ClassVar[int]
    CANSELFRESTART_FIELD_NUMBER: _ClassVar[int]
    CANSELFUPDATE_FIELD_NUMBER: _ClassVar[int]
    CANLAUNCHWEBBROWSER_FIELD_NUMBER: _ClassVar[int]
    PROGRAMDATAPATH_FIELD_NUMBER: _ClassVar[int]
    ITEMSBYNAMEPATH_FIELD_NUMBER: _ClassVar[int]
    CACHEPATH_FIELD_NUMBER: _ClassVar[int]
    LOGPATH_FIELD_NUMBER: _ClassVar[int]
    INTERNALMETADATAPATH_FIELD_NUMBER: _ClassVar[int]
    TRANSCODINGTEMPPATH_FIELD_NUMBER: _ClassVar[int]
    HTTPSERVERPORTNUMBER_FIELD_NUMBER: _ClassVar[int]
    SUPPORTSHTTPS_FIELD_NUMBER: _ClassVar[int]
    HTTPSPORTNUMBER_FIELD_NUMBER: _ClassVar[int]
    HASUPDATEAVAILABLE_FIELD_NUMBER: _ClassVar[int]
    SUPPORTSAUTORUNATSTARTUP_FIELD_NUMBER: _ClassVar[int]
    HARDWAREACCELERATIONREQUIRESPREMIERE_FIELD_NUMBER: _ClassVar[int]
    LOCALADDRESS_FIELD_NUMBER: _ClassVar[int]
    WANADDRESS_FIELD_NUMBER: _ClassVar[int]
    SERVERNAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    OPERATINGSYSTEM_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    systemUpdateLevel: str
    operatingSystemDisplayName: str
    packageName: str
    hasPendingRestart: bool
    isShuttingDown: bool
    supportsLibraryMonitor: bool
    webSocketPortNumber: int
    canSelfRestart: bool
    canSelfUpdate: bool
    canLaunchWebBrowser: bool
    programDataPath: str
    itemsByNamePath: str
    cachePath: str
    logPath: str
    internalMetadataPath: str
    transcodingTempPath: str
    httpServerPortNumber: int
    supportsHttps: bool
    httpsPortNumber: int
    hasUpdateAvailable: bool
    supportsAutoRunAtStartup: bool
    hardwareAccelerationRequiresPremiere: bool
    localAddress: str
    wanAddress: str
    serverName: str
    version: str
    operatingSystem: str
    id: str
    def __init__(self, systemUpdateLevel: _Optional[str] = ..., operatingSystemDisplayName: _Optional[str] = ..., packageName: _Optional[str] = ..., hasPendingRestart: _Optional[bool] = ..., isShuttingDown: _Optional[bool] = ..., supportsLibraryMonitor: _Optional[bool] = ..., webSocketPortNumber: _Optional[int] = ..., canSelfRestart: _Optional[bool] = ..., canSelfUpdate: _Optional[bool] = ..., canLaunchWebBrowser: _Optional[bool] = ..., programDataPath: _Optional[str] = ..., itemsByNamePath: _Optional[str] = ..., cachePath: _Optional[str] = ..., logPath: _Optional[str] = ..., internalMetadataPath: _Optional[str] = ..., transcodingTempPath: _Optional[str] = ..., httpServerPortNumber: _Optional[int] = ..., supportsHttps: _Optional[bool] = ..., httpsPortNumber: _Optional[int] = ..., hasUpdateAvailable: _Optional[bool] = ..., supportsAutoRunAtStartup: _Optional[bool] = ..., hardwareAccelerationRequiresPremiere: _Optional[bool] = ..., localAddress: _Optional[str] = ..., wanAddress: _Optional[str] = ..., serverName: _Optional[str] = ..., version: _Optional[str] = ..., operatingSystem: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class FsListReq(_message.Message):
    __slots__ = ("host", "token", "path", "startIndex", "limit", "searchTerm", "userId")
    HOST_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    STARTINDEX_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    SEARCHTERM_FIELD_NUMBER: _ClassVar[int]
    USERID_FIELD_NUMBER: _ClassVar[int]
    host: str
    token: str
    path: str
    startIndex: int
    limit: int
    searchTerm: str
    userId: str
    def __init__(self, host: _Optional[str] = ..., token: _Optional[str] = ..., path: _Optional[str] = ..., startIndex: _Optional[int] = ..., limit: _Optional[int] = ..., searchTerm: _Optional[str] = ..., userId: _Optional[str] = ...) -> None: ...

class Path(_message.Message):
    __slots__ = ("name", "path")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    name: str
    path: str
    def __init__(self, name: _Optional[str] = ..., path: _Optional[str] = ...) -> None: ...

class FsListResp(_message.Message):
    __slots__ = ("paths", "items", "total")
    PATHS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    paths: _containers.RepeatedCompositeFieldContainer[Path]
    items: _containers.RepeatedCompositeFieldContainer[Item]
    total: int
    def __init__(self, paths: _Optional[_Iterable[_Union[Path, _Mapping]]] = ..., items: _Optional[_Iterable[_Union[Item, _Mapping]]] = ..., total: _Optional[int] = ...) -> None: ...

class LogoutReq(_message.Message):
    __slots__ = ("host", "token")
    HOST_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    host: str
    token: str
    def __init__(self, host: _Optional[str] = ..., token: _Optional[str] = ...) -> None: ...

class Empty(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PlaybackInfoReq(_message.Message):
    __slots__ = ("host", "token", "userId", "itemId", "mediaSourceId", "audioStreamIndex", "subtitleStreamIndex")
    HOST_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    USERID_FIELD_NUMBER: _ClassVar[int]
    ITEMID_FIELD_NUMBER: _ClassVar[int]
    MEDIASOURCEID_FIELD_NUMBER: _ClassVar[int]
    AUDIOSTREAMINDEX_FIELD_NUMBER: _ClassVar[int]
    SUBTITLESTREAMINDEX_FIELD_NUMBER: _ClassVar[int]
    host: str
    token: str
    userId: str
    itemId: str
    mediaSourceId: str
    audioStreamIndex: str
    subtitleStreamIndex: str
    def __init__(self, host: _Optional[str] = ..., token: _Optional[str] = ..., userId: _Optional[str] = ..., itemId: _Optional[str] = ..., mediaSourceId: _Optional[str] = ..., audioStreamIndex: _Optional[str] = ..., subtitleStreamIndex: _Optional[str] = ...) -> None: ...

class PlaybackInfoResp(_message.Message):
    __slots__ = ("playSessionID", "mediaSourceInfo")
    PLAYSESSIONID_FIELD_NUMBER: _ClassVar[int]
    MEDIASOURCEINFO_FIELD_NUMBER: _ClassVar[int]
    playSessionID: str
    mediaSourceInfo: _containers.RepeatedCompositeFieldContainer[MediaSourceInfo]
    def __init__(self, playSessionID: _Optional[str] = ..., mediaSourceInfo: _Optional[_Iterable[_Union[MediaSourceInfo, _Mapping]]] = ...) -> None: ...

class DeleteActiveEncodeingsReq(_message.Message):
    __slots__ = ("host", "token", "deviceId", "palySessionId")
    HOST_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    DEVICEID_FIELD_NUMBER: _ClassVar[int]
    PALYSESSIONID_FIELD_NUMBER: _ClassVar[int]
    host: str
    token: str
    deviceId: str
    palySessionId: str
    def __init__(self, host: _Optional[str] = ..., token: _Optional[str] = ..., deviceId: _Optional[str] = ..., palySessionId: _Optional[str] = ...) -> None: ...
