"""docs/configuration.md names every config.yaml key and every site setting, and is what the script writes now."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from synctv import config_reference
from synctv.core.site_settings import SETTINGS, SettingDef

DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "gen_config_reference.py"


def test_every_key_and_setting_is_in_the_file() -> None:
    text = DOC.read_text()
    keys = list(config_reference.config_keys())
    assert len(keys) >= 70  # the walk reaches the nested sections
    for key in keys:
        assert f"| `{key.path}` |" in text and f"`{key.env}`" in text, key.path
    for name in SETTINGS:
        assert f"| `{name}` |" in text, name


def test_file_is_current() -> None:
    res = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert DOC.read_text() == config_reference.render()


def test_a_key_without_description_fails_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(config_reference.CONFIG_DESCRIPTIONS, "rooms.chat_burst")
    with pytest.raises(KeyError, match=r"rooms\.chat_burst has no description"):
        config_reference.render()
    with pytest.raises(KeyError, match="site setting brand_new has no description"):
        config_reference.setting_description(SettingDef("brand_new", "bool", False, "room"))


def test_check_reports_a_stale_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_config_reference", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    stale = tmp_path / "configuration.md"
    stale.write_text(DOC.read_text().replace("| `log.level` |", "| `log.lvl` |"))
    monkeypatch.setattr(module, "TARGET", stale)
    assert module.main(["--check"]) == 1
    assert module.main([]) == 0 and module.main(["--check"]) == 0
