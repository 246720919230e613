"""Instance-to-instance transport: typed envelopes over one gRPC stream per peer. Knows nothing about rooms."""

from synctv.mesh.api import MeshEvent, MeshHandler, MeshInspector, MeshStats
from synctv.mesh.errors import MeshError, NotOwner
from synctv.mesh.node import MeshNode
from synctv.mesh.ring import Ring

__all__ = ["MeshError", "MeshEvent", "MeshHandler", "MeshInspector", "MeshNode", "MeshStats", "NotOwner", "Ring"]
