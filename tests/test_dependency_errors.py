"""A dependency that fails at start-up is one line on stderr naming the component and its address, never a
traceback: the database (closed port, unknown role, unknown database), the HTTP port, the mesh port, etcd, Consul."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.pg_server import PostgresServer, free_port
from tests.test_cli import _env

SECRET = "s" * 40


def _serve(tmp_path: Path, *args: str, **env: str) -> str:
    """`synctv serve` expected to fail; returns its one stderr line about the failure."""
    data = tmp_path / "data"
    res = subprocess.run([sys.executable, "-m", "synctv", "serve", "--data-dir", str(data), *args],
                         capture_output=True, text=True, timeout=120,
                         env=_env(tmp_path, SYNCTV_SERVER_HTTP_LISTEN="127.0.0.1", **env), cwd=str(tmp_path))
    assert res.returncode == 1, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr, res.stderr
    lines = [line for line in res.stderr.splitlines() if "initialising a new data directory" not in line]
    assert len(lines) == 1 and lines[0].startswith("synctv: cannot start: "), res.stderr
    assert "Created the first root user" not in res.stdout
    return lines[0]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def _cluster_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A cluster member on a SQLite file (enough to reach the cluster's own dependencies)."""
    return {"SYNCTV_DATABASE_CUSTOM_DSN": f"sqlite:///{tmp_path / 'shared.db'}", "SYNCTV_CLUSTER_ENABLED": "true",
            "SYNCTV_CLUSTER_INSTANCE_ID": "i1", "SYNCTV_CLUSTER_SECRET": SECRET,
            "SYNCTV_CLUSTER_GRPC_LISTEN": "127.0.0.1", "SYNCTV_CLUSTER_GRPC_PORT": "0",
            "SYNCTV_CLUSTER_ADVERTISE_ADDRESS": "127.0.0.1", **extra}


def test_database_port_closed(tmp_path: Path) -> None:
    port = free_port()
    line = _serve(tmp_path, SYNCTV_DATABASE_TYPE="postgres", SYNCTV_DATABASE_HOST="127.0.0.1",
                  SYNCTV_DATABASE_PORT=str(port), SYNCTV_DATABASE_NAME="tv")
    assert line == f"synctv: cannot start: database (postgresql at 127.0.0.1:{port}/tv): connection refused"


def test_database_refuses_the_login(tmp_path: Path, pg_server: PostgresServer) -> None:
    base = f"postgresql://nobody@127.0.0.1:{pg_server.port}/postgres"
    line = _serve(tmp_path, SYNCTV_DATABASE_TYPE="postgres", SYNCTV_DATABASE_CUSTOM_DSN=base)
    assert f"database (postgresql at 127.0.0.1:{pg_server.port}/postgres): " in line
    assert 'role "nobody" does not exist' in line
    line = _serve(tmp_path, SYNCTV_DATABASE_TYPE="postgres",
                  SYNCTV_DATABASE_CUSTOM_DSN=f"postgresql://postgres@127.0.0.1:{pg_server.port}/no_such_db")
    assert f"(postgresql at 127.0.0.1:{pg_server.port}/no_such_db)" in line and "does not exist" in line


def test_database_password_is_not_shown(tmp_path: Path) -> None:
    port = free_port()
    line = _serve(tmp_path, SYNCTV_DATABASE_TYPE="postgres",
                  SYNCTV_DATABASE_CUSTOM_DSN=f"postgresql://tv:hunter2secret@127.0.0.1:{port}/tv")
    assert "hunter2secret" not in line and f"127.0.0.1:{port}/tv" in line


def test_http_port_in_use(tmp_path: Path, busy_port: int) -> None:
    line = _serve(tmp_path, "--port", str(busy_port))
    assert line.lower() == f"synctv: cannot start: http listener (127.0.0.1:{busy_port}): address already in use"


def test_mesh_port_in_use(tmp_path: Path, busy_port: int) -> None:
    line = _serve(tmp_path, "--port", "0", **_cluster_env(tmp_path, SYNCTV_CLUSTER_GRPC_PORT=str(busy_port),
                                                           SYNCTV_CLUSTER_DISCOVERY_TYPE="static"))
    assert line.lower() == (f"synctv: cannot start: cluster.grpc.port: cannot listen on 127.0.0.1:{busy_port}: "
                            "address already in use")


def test_etcd_unreachable(tmp_path: Path) -> None:
    port = free_port()
    line = _serve(tmp_path, "--port", "0", **_cluster_env(
        tmp_path, SYNCTV_CLUSTER_DISCOVERY_TYPE="etcd", SYNCTV_CLUSTER_DISCOVERY_ETCD_ENDPOINTS=f"127.0.0.1:{port}"))
    assert line.startswith(f"synctv: cannot start: cluster.discovery.etcd.endpoints: cannot reach etcd at "
                           f"127.0.0.1:{port}: ")


def test_consul_unreachable(tmp_path: Path) -> None:
    port = free_port()
    line = _serve(tmp_path, "--port", "0", **_cluster_env(
        tmp_path, SYNCTV_CLUSTER_DISCOVERY_TYPE="consul", SYNCTV_CLUSTER_DISCOVERY_CONSUL_ADDRESS=f"127.0.0.1:{port}"))
    assert line.startswith(f"synctv: cannot start: cluster.discovery.consul.address: cannot reach consul at "
                           f"127.0.0.1:{port}: ")


def test_management_command_names_the_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    port = free_port()
    (data / "config.yaml").write_text(f"database:\n  type: postgres\n  host: 127.0.0.1\n  port: {port}\n")
    res = subprocess.run([sys.executable, "-m", "synctv", "user", "search", "x", "--data-dir", str(data)],
                         capture_output=True, text=True, timeout=60, env=_env(tmp_path), cwd=str(tmp_path))
    assert res.returncode == 1 and res.stderr.strip() == (
        f"synctv: database (postgresql at 127.0.0.1:{port}/synctv): connection refused"), res.stderr
