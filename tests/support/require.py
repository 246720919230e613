"""A missing test component: a skip on a developer's machine, a failure where every component must be present
(the `SYNCTV_REQUIRE_<NAME>` flag, `SYNCTV_REQUIRE_ALL` or `CI`; scripts/test.sh sets them)."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(name: str, reason: str) -> NoReturn:
    flag = f"SYNCTV_REQUIRE_{name.upper()}"
    if os.environ.get(flag) or os.environ.get("SYNCTV_REQUIRE_ALL") or os.environ.get("CI"):
        pytest.fail(f"{reason}, and it is required here ({flag}, SYNCTV_REQUIRE_ALL or CI is set)")
    pytest.skip(reason)
