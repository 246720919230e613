"""A real MariaDB/MySQL server for tests: mariadb-install-db into a temp dir, run on a free loopback port.

As root the server runs as the `mysql` user (it refuses to run as root otherwise). Authentication is skipped
(loopback only, throw-away data), so any user name connects.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_server() -> tuple[str, str] | None:
    """(server binary, install-db binary), or None when MariaDB/MySQL is not installed."""
    for server, install in (("mariadbd", "mariadb-install-db"), ("mysqld", "mysql_install_db")):
        server_path = shutil.which(server) or shutil.which(server, path="/usr/sbin")
        install_path = shutil.which(install)
        if server_path and install_path:
            return server_path, install_path
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MysqlServer:
    def __init__(self) -> None:
        found = find_server()
        if found is None:
            raise RuntimeError("MariaDB/MySQL server not installed (apt-get install mariadb-server)")
        self.server_bin, self.install_bin = found
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="synctv-mysql-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self._user = ["--user=mysql"] if os.geteuid() == 0 else []

    def start(self) -> None:
        data = self.dir / "data"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "mysql", "mysql")
        subprocess.run([self.install_bin, f"--datadir={data}", "--auth-root-authentication-method=normal",
                        "--skip-test-db", *self._user], check=True, capture_output=True)
        self.proc = subprocess.Popen(
            [self.server_bin, "--no-defaults", f"--datadir={data}", f"--port={self.port}", "--bind-address=127.0.0.1",
             f"--socket={self.dir / 'mysql.sock'}", f"--pid-file={self.dir / 'mysql.pid'}", "--skip-grant-tables",
             "--skip-log-bin", "--innodb-flush-log-at-trx-commit=0", *self._user],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"MariaDB exited with status {self.proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("MariaDB did not start within 60 s")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)
