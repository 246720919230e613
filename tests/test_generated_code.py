"""Hand-kept tables and generated code cannot drift from `proto/`: the generated modules are regenerated
into a temporary folder and compared, and every copy of the WebSocket message-type enum is held against
`message.proto`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from google.api import annotations_pb2

from synctv._generated import message_pb2
from synctv.core.room import MsgType

ROOT = Path(__file__).resolve().parents[1]


def _proto_enum(path: Path, name: str) -> dict[str, int]:
    body = re.search(r"enum " + name + r" \{(.*?)\}", path.read_text(), re.S)
    assert body is not None
    return {k: int(v) for k, v in re.findall(r"^\s*([A-Z_0-9]+)\s*=\s*(\d+);", body.group(1), re.M)}


def test_generated_modules_match_the_protos(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    protos = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "proto").glob("*.proto"))
    googleapis = Path(annotations_pb2.__file__).parents[2]  # google/api/annotations.proto for the vendor protos
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-Isynctv/_generated=proto", f"-I{googleapis}",
                    f"--python_out={out}",
                    f"--grpc_python_out={out}", f"--pyi_out={out}", *protos], cwd=ROOT, check=True)
    (out / "synctv/_generated/message_pb2_grpc.py").unlink()  # no services in message.proto (as gen_proto.sh)
    fresh = {p.name: p.read_text() for p in (out / "synctv/_generated").iterdir()}
    committed = {p.name: p.read_text() for p in (ROOT / "synctv/_generated").iterdir() if p.name != "__init__.py"
                 and p.suffix in (".py", ".pyi")}
    assert sorted(fresh) == sorted(committed)
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"synctv/_generated is stale; run scripts/gen_proto.sh ({stale})"


def test_message_type_enums_match_message_proto() -> None:
    expected = _proto_enum(ROOT / "proto/message.proto", "MessageType")
    assert {m.name: int(m) for m in MsgType} == expected
    assert dict(message_pb2.MessageType.items()) == expected
    js = (ROOT / "synctv/web/js/proto.js").read_text()
    table = re.search(r"export const MessageType = Object\.freeze\(\{(.*?)\}\)", js, re.S)
    assert table is not None
    assert {k: int(v) for k, v in re.findall(r"([A-Z_]+): (\d+)", table.group(1))} == expected
