"""Cluster membership: who is alive, from a static list, etcd or consul. Knows nothing about rooms."""

from synctv.discovery.base import SELF_SERVICE, Discovery, Member, MembersCallback
from synctv.discovery.factory import create_discovery

__all__ = ["SELF_SERVICE", "Discovery", "Member", "MembersCallback", "create_discovery"]
