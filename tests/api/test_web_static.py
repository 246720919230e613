"""Static checks of the built-in web client (synctv/web) and its JavaScript unit tests."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "synctv" / "web"
JS = WEB / "js"


class _RefCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.links: list[dict[str, str | None]] = []
        self.ids: list[str] = []
        self.testids: list[str] = []
        self.label_fors: list[str] = []
        self.inline_scripts = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"] or "")
        if a.get("data-testid"):
            self.testids.append(a["data-testid"] or "")
        if tag == "label" and a.get("for"):
            self.label_fors.append(a["for"] or "")
        if tag == "script":
            self.scripts.append(a)
            self._in_script = "src" not in a
        if tag == "link":
            self.links.append(a)

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False


def _parse_index() -> _RefCollector:
    parser = _RefCollector()
    parser.feed((WEB / "index.html").read_text(encoding="utf-8"))
    parser.close()
    return parser


def _is_local(ref: str) -> bool:
    return not re.match(r"^[a-z][a-z0-9+.-]*:|^//", ref, re.I)


def test_index_references_only_existing_local_files() -> None:
    parser = _parse_index()
    assert parser.scripts, "index.html loads the application script"
    assert parser.inline_scripts == 0, "no inline scripts"
    refs = [s["src"] for s in parser.scripts if s.get("src")]
    refs += [link["href"] for link in parser.links if link.get("href") and link.get("rel") != "icon"]
    for ref in refs:
        assert ref is not None
        assert _is_local(ref), f"{ref} is not a local file"
        assert not ref.startswith("/"), f"{ref} must be relative so the client works under /web/"
        assert (WEB / ref).is_file(), f"{ref} referenced by index.html does not exist"
    module_scripts = [s for s in parser.scripts if s.get("type") == "module"]
    assert module_scripts, "the application is an ES module"


def test_index_ids_are_unique_and_labels_point_to_controls() -> None:
    parser = _parse_index()
    dupes = {i for i in parser.ids if parser.ids.count(i) > 1}
    assert not dupes, f"duplicate ids: {sorted(dupes)}"
    missing = [f for f in parser.label_fors if f not in parser.ids]
    assert not missing, f"labels for missing controls: {missing}"
    for testid in (
        "login-form",
        "login-username",
        "login-password",
        "login-submit",
        "signup-form",
        "logout-button",
        "room-list",
        "hot-room-list",
        "create-room-form",
        "create-room-name",
        "create-room-password",
        "create-room-submit",
        "playlist",
        "add-movie-form",
        "movie-url",
        "movie-add",
        "chat-log",
        "chat-input",
        "chat-send",
        "video",
        "viewer-count",
        "ws-status",
        "sync-button",
    ):
        assert testid in parser.testids, f"data-testid={testid} missing"


_IMPORT_RE = re.compile(
    r"""(?:^|\s)(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]"""  # static imports / re-exports
    r"""|import\(\s*['"]([^'"]+)['"]\s*\)""",  # dynamic imports with a literal specifier
    re.M,
)


def test_js_modules_import_only_existing_local_files() -> None:
    modules = sorted(JS.glob("*.js")) + sorted(JS.glob("*.mjs"))
    assert modules
    for mod in modules:
        text = mod.read_text(encoding="utf-8")
        for m in _IMPORT_RE.finditer(text):
            spec = m.group(1) or m.group(2)
            if spec.startswith("node:"):
                assert mod.name.endswith(".test.mjs"), f"{mod.name} imports {spec} but runs in the browser"
                continue
            assert spec.startswith("./") or spec.startswith("../"), f"{mod.name}: bare import {spec!r} needs a bundler"
            assert (mod.parent / spec).resolve().is_file(), f"{mod.name}: {spec} does not exist"


def test_every_element_id_used_by_scripts_exists() -> None:
    ids = set(_parse_index().ids)
    used: set[str] = set()
    for mod in JS.glob("*.js"):
        used.update(re.findall(r"\$\('([A-Za-z0-9_-]+)'\)", mod.read_text(encoding="utf-8")))
    missing = sorted(used - ids)
    assert not missing, f"scripts use ids missing from index.html: {missing}"


def test_package_manifest_pins_the_players_from_the_registry() -> None:
    pkg = json.loads((WEB / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((WEB / "package-lock.json").read_text(encoding="utf-8"))
    assert pkg.get("dependencies", {}) == {"hls.js": "1.7.4", "mpegts.js": "1.8.2"}  # exact pins
    assert not pkg.get("devDependencies")
    assert lock["packages"][""]["dependencies"] == pkg["dependencies"]
    installed = {k for k in lock["packages"] if k}
    # mpegts.js 1.8's own dependencies; no git-hosted package (`npm ci` reaches only the registry)
    assert installed == {"node_modules/hls.js", "node_modules/mpegts.js", "node_modules/es6-promise",
                         "node_modules/events"}
    for name, entry in lock["packages"].items():
        if name:
            assert entry.get("integrity", "").startswith("sha512-"), name
            assert "git" not in entry.get("resolved", ""), name
    # the players load them from the installed package paths
    assert "node_modules/hls.js/dist/hls.min.js" in (JS / "player.js").read_text(encoding="utf-8")
    assert "node_modules/mpegts.js/dist/mpegts.js" in (JS / "flvplayer.js").read_text(encoding="utf-8")


def test_javascript_unit_tests() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the JavaScript unit tests (synctv/web/js/*.test.mjs) were not run")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 18:
        pytest.skip(f"node {version} is too old for `node --test` (need >= 18)")
    tests = sorted(str(p) for p in JS.glob("*.test.mjs"))
    assert tests
    env = {**os.environ, "SYNCTV_PYTHON": sys.executable}
    proc = subprocess.run([node, "--test", *tests], cwd=REPO, capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, f"node --test failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
    summary = dict(re.findall(r"^# (pass|fail|skipped) (\d+)$", proc.stdout, re.M))
    assert int(summary.get("fail", "1")) == 0
    assert int(summary.get("pass", "0")) > 0
