"""Vendor libraries (Alist, Emby/Jellyfin): users bind their servers, playlists hold their files.

One Python interface per vendor (`alist/api.py`, ...), served by the in-process implementation over the vendor's
HTTP API; the accounts, the credential encryption and the per-movie resolution cache live in `service.py`.
"""
