"""Bytes on the mesh: a stream write carries one `Frame` (every envelope a link had ready, in order).

The only place mesh messages are serialized or parsed, for the gRPC and the in-process transport alike.
"""

from __future__ import annotations

from synctv._generated import mesh_pb2 as pb


def serialize_frame(frame: pb.Frame) -> bytes:
    data: bytes = frame.SerializeToString()
    return data


def parse_frame(data: bytes) -> pb.Frame:
    frame = pb.Frame()
    frame.ParseFromString(data)
    return frame
