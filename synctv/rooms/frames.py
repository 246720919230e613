"""WebSocket frames: protobuf `Message` bytes <-> `core.room.WsMessage`."""

from __future__ import annotations

from google.protobuf.message import DecodeError

from synctv._generated import message_pb2 as pb
from synctv.core.playback import Status
from synctv.core.room import MsgType, Sender, WebRTC, WsMessage


class FrameError(ValueError):
    """The bytes are not a protobuf Message."""


def encode(msg: WsMessage) -> bytes:
    out = pb.Message(type=int(msg.type), timestamp=msg.timestamp)  # type: ignore[arg-type]
    if msg.sender is not None:
        out.sender.user_id = msg.sender.user_id
        out.sender.username = msg.sender.username
    if msg.error_message is not None:
        out.error_message = msg.error_message
    elif msg.chat_content is not None:
        out.chat_content = msg.chat_content
    elif msg.status is not None:
        out.playback_status.is_playing = msg.status.is_playing
        out.playback_status.current_time = msg.status.current_time
        out.playback_status.playback_rate = msg.status.playback_rate
    elif msg.expiration_id is not None:
        out.expiration_id = msg.expiration_id
    elif msg.viewer_count is not None:
        out.viewer_count = msg.viewer_count
    elif msg.webrtc is not None:
        out.webrtc_data.data = msg.webrtc.data
        out.webrtc_data.to = msg.webrtc.to
        setattr(out.webrtc_data, "from", msg.webrtc.from_)
    data: bytes = out.SerializeToString()
    return data


def decode(data: bytes) -> WsMessage:
    m = pb.Message()
    try:
        m.ParseFromString(data)
    except (DecodeError, ValueError) as exc:
        raise FrameError(f"undecodable frame: {exc}") from None
    kind = m.WhichOneof("payload")
    try:
        mtype = MsgType(m.type)
    except ValueError:
        mtype = MsgType.UNKNOWN
    status = None
    if kind == "playback_status":
        ps = m.playback_status
        status = Status(is_playing=ps.is_playing, current_time=ps.current_time, playback_rate=ps.playback_rate)
    webrtc = None
    if kind == "webrtc_data":
        w = m.webrtc_data
        webrtc = WebRTC(data=w.data, to=w.to, from_=getattr(w, "from"))
    return WsMessage(
        type=mtype,
        timestamp=m.timestamp,
        sender=Sender(m.sender.user_id, m.sender.username) if m.HasField("sender") else None,
        error_message=m.error_message if kind == "error_message" else None,
        chat_content=m.chat_content if kind == "chat_content" else None,
        status=status,
        expiration_id=m.expiration_id if kind == "expiration_id" else None,
        viewer_count=m.viewer_count if kind == "viewer_count" else None,
        webrtc=webrtc,
    )


def peek_type(data: bytes) -> MsgType:
    """The message type of a frame from its first field, without parsing it (for span names and logs)."""
    if len(data) >= 2 and data[0] == 0x08 and data[1] < 0x80:
        try:
            return MsgType(data[1])
        except ValueError:
            pass
    return MsgType.UNKNOWN


def error_frame(text: str) -> bytes:
    return encode(WsMessage(MsgType.ERROR, error_message=text))


def viewer_count_frame(count: int) -> bytes:
    return encode(WsMessage(MsgType.VIEWER_COUNT, viewer_count=count))
