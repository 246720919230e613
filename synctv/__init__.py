"""SyncTV: a watch-together server, wire-compatible with upstream SyncTV, that scales out as a peer cluster."""

__version__ = "0.1.0"
