"""Emby and Jellyfin: the interface (`api.py`) and the in-process implementation over their HTTP API (`local.py`)."""
