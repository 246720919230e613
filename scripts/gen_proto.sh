#!/usr/bin/env bash
# Regenerate the Python modules under synctv/_generated/ from proto/*.proto (never edit them by hand).
# The -I mapping makes the generated modules import each other as `synctv._generated.*`.
set -euo pipefail
cd "$(dirname "$0")/.."
# The vendor protos import google/api/annotations.proto, shipped by googleapis-common-protos.
GOOGLEAPIS="$(python -c 'import google.api.annotations_pb2 as a, pathlib; print(pathlib.Path(a.__file__).parents[2])')"
python -m grpc_tools.protoc -Isynctv/_generated=proto -I"$GOOGLEAPIS" \
  --python_out=. --grpc_python_out=. --pyi_out=. proto/*.proto
# message.proto has no services: drop its empty gRPC module.
rm -f synctv/_generated/message_pb2_grpc.py
