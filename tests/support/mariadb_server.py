"""A real MariaDB server for tests (Debian's mariadb-server): installed into a temp dir, run on a free loopback
port, one `synctv` user with a password (as a deployment would have) and one database per test."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

USER, PASSWORD = "synctv", "synctv-test-password"


def find_server() -> Path | None:
    for candidate in ("/usr/sbin/mariadbd", "/usr/sbin/mysqld"):
        if Path(candidate).exists() and shutil.which("mariadb-install-db") and shutil.which("mariadb"):
            return Path(candidate)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MariaDbServer:
    def __init__(self) -> None:
        server = find_server()
        if server is None:
            raise RuntimeError("MariaDB server not found (apt-get install mariadb-server)")
        self.server = server
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="synctv-mariadb-"))
        self.socket = self.dir / "mysqld.sock"
        self.proc: subprocess.Popen[bytes] | None = None
        self._user = ["--user=mysql"] if os.geteuid() == 0 else []

    def _client(self, sql: str) -> None:
        subprocess.run(["mariadb", f"--socket={self.socket}", "-uroot", "-e", sql], check=True, capture_output=True)

    def start(self) -> None:
        data = self.dir / "data"
        first = not data.exists()
        if first:
            if os.geteuid() == 0:
                shutil.chown(self.dir, "mysql", "mysql")
            subprocess.run(["mariadb-install-db", f"--datadir={data}", "--auth-root-authentication-method=socket",
                            "--skip-test-db", *self._user], check=True, capture_output=True)
        self.proc = subprocess.Popen(
            [str(self.server), "--no-defaults", f"--datadir={data}", f"--port={self.port}", "--bind-address=127.0.0.1",
             f"--socket={self.socket}", f"--pid-file={self.dir / 'mysqld.pid'}", "--skip-log-bin",
             "--innodb-flush-log-at-trx-commit=0", "--max-connections=300", *self._user],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("MariaDB exited at start")
            try:
                self._client("SELECT 1")
                break
            except subprocess.CalledProcessError:
                time.sleep(0.2)
        else:
            raise RuntimeError("MariaDB did not start within 60 s")
        if first:
            self._client(f"CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'; "
                         f"GRANT ALL ON *.* TO '{USER}'@'127.0.0.1'")

    def create_database(self, name: str) -> str:
        self._client(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        return f"mysql+asyncmy://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{name}?charset=utf8mb4"

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)
