"""Instance-to-instance transport: typed envelopes over one gRPC stream per peer. Knows nothing about rooms."""

from synctv.mesh.api import MeshHandler, MeshInspector, MeshStats
from synctv.mesh.errors import MeshError, ProtocolMismatch
from synctv.mesh.node import MeshNode
from synctv.mesh.ring import Ring

__all__ = ["MeshError", "MeshHandler", "MeshInspector", "MeshNode", "MeshStats", "ProtocolMismatch", "Ring"]
