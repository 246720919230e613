"""Bilibili: the upstream vendor schema is carried for wire compatibility (package, service, methods, field
numbers), and everything Bilibili in the API is a clear 400 saying it is not supported yet."""

from __future__ import annotations

from google.protobuf import descriptor_pb2

from synctv._generated import bilibili_pb2
from synctv.core.movies import BILIBILI_UNSUPPORTED
from tests.support.asserts import assert_error
from tests.support.servers import Server


def test_schema_keeps_upstream_names_and_numbers() -> None:
    proto = descriptor_pb2.FileDescriptorProto()
    bilibili_pb2.DESCRIPTOR.CopyToProto(proto)
    assert proto.package == "api.bilibili"
    (service,) = proto.service
    assert service.name == "Bilibili"
    assert [(m.name, m.input_type, m.output_type) for m in service.method] == [
        (name, f".api.bilibili.{i}", f".api.bilibili.{o}") for name, i, o in (
            ("NewQRCode", "Empty", "NewQRCodeResp"), ("LoginWithQRCode", "LoginWithQRCodeReq", "LoginWithQRCodeResp"),
            ("NewCaptcha", "Empty", "NewCaptchaResp"), ("NewSMS", "NewSMSReq", "NewSMSResp"),
            ("LoginWithSMS", "LoginWithSMSReq", "LoginWithSMSResp"),
            ("ParseVideoPage", "ParseVideoPageReq", "VideoPageInfo"), ("GetVideoURL", "GetVideoURLReq", "VideoURL"),
            ("GetDashVideoURL", "GetDashVideoURLReq", "GetDashVideoURLResp"),
            ("GetSubtitles", "GetSubtitlesReq", "GetSubtitlesResp"),
            ("ParsePGCPage", "ParsePGCPageReq", "VideoPageInfo"), ("GetPGCURL", "GetPGCURLReq", "VideoURL"),
            ("GetDashPGCURL", "GetDashPGCURLReq", "GetDashPGCURLResp"), ("UserInfo", "UserInfoReq", "UserInfoResp"),
            ("Match", "MatchReq", "MatchResp"))]
    fields = {m.name: {f.name: f.number for f in m.field} for m in proto.message_type}
    # the numbers that do not start at 1 upstream, and a few ordinary ones
    assert fields["VideoPageInfo"] == {"title": 2, "actors": 3, "videoInfos": 4}
    assert fields["VideoInfo"] == {"bvid": 2, "cid": 3, "epid": 4, "name": 5, "coverImage": 6}
    assert fields["GetDashPGCURLReq"] == {"cookies": 1, "epid": 2, "cid": 3, "hevc": 5}
    assert fields["GetVideoURLReq"] == {"cookies": 1, "aid": 2, "bvid": 3, "cid": 4, "quality": 5}
    assert fields["VideoURL"] == {"acceptDescription": 1, "acceptQuality": 2, "currentQuality": 3, "url": 4}
    assert fields["UserInfoResp"] == {"isLogin": 1, "username": 2, "face": 3, "isVip": 4}
    assert dict(bilibili_pb2.QRCodeStatus.items()) == {"UNKNOWN": 0, "EXPIRED": 1, "NOTSCANNED": 2, "SCANNED": 3,
                                                       "SUCCESS": 4}
    # a message round-trips on the wire like upstream's (maps included)
    msg = bilibili_pb2.LoginWithQRCodeResp(status=bilibili_pb2.SUCCESS, cookies={"SESSDATA": "x"})
    assert bilibili_pb2.LoginWithQRCodeResp.FromString(msg.SerializeToString()) == msg


async def test_bilibili_requests_answer_not_supported_yet(sqlite_server: Server) -> None:
    api = sqlite_server.api
    alice = await api.signup("alice")
    rid = await api.create_room(alice, "bili")
    for method, path in (("GET", "/api/vendor/bilibili/login/qr"), ("POST", "/api/vendor/bilibili/parse"),
                         ("GET", "/api/vendor/bilibili/me")):
        for token in (alice, None):
            status, body = await api.call(method, path, token=token, json={})
            assert_error(status, body, 400)
            assert body["error"] == BILIBILI_UNSUPPORTED
    status, body = await api.call("POST", "/api/room/movie/push", token=alice, room=rid, json={
        "name": "bv", "vendorInfo": {"vendor": "bilibili", "bilibili": {"bvid": "BV1xx411c7mD", "cid": 1}}})
    assert_error(status, body, 400)
    assert BILIBILI_UNSUPPORTED in body["error"]
    # the backends list answers for bilibili as for the others (upstream's record shape), empty here
    assert await api.ok("GET", "/api/vendor/backends/bilibili", token=alice) == []
