"""A real PostgreSQL server for tests: initdb into a temp dir and run it on a free loopback port.

PostgreSQL refuses to run as root, so when the tests run as root the server runs as the `postgres` user.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_bin() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "postgres").exists() and (candidate / "initdb").exists():
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    def __init__(self) -> None:
        bindir = find_bin()
        if bindir is None:
            raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
        self.bindir = bindir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="synctv-pg-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self._as_root = os.geteuid() == 0

    def _cmd(self, args: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if self._as_root else args

    def start(self) -> None:
        """initdb (first time only) and run the server; after `stop_process()` this starts it again on the same
        data directory and port."""
        data = self.dir / "data"
        if not (data / "PG_VERSION").exists():
            if self._as_root:
                shutil.chown(self.dir, "postgres", "postgres")
            subprocess.run(self._cmd([str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                                      "--no-sync", "-E", "UTF8"]), check=True, capture_output=True)
        self.proc = subprocess.Popen(
            self._cmd([str(self.bindir / "postgres"), "-D", str(data), "-p", str(self.port), "-h", "127.0.0.1",
                       "-k", str(self.dir), "-c", "fsync=off", "-c", "synchronous_commit=off",
                       "-c", "full_page_writes=off", "-c", "max_connections=300"]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
                ready = subprocess.run([str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                                       capture_output=True)
                if ready.returncode == 0:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("PostgreSQL did not start within 30 s")

    def create_database(self, name: str) -> str:
        subprocess.run([str(self.bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                        "-c", f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{name}"

    def stop_process(self, timeout: float = 15.0) -> None:
        """Stop the server (fast shutdown: open sessions are ended) but keep its data; `start()` resumes it."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            subprocess.run(self._cmd([str(self.bindir / "pg_ctl"), "stop", "-D", str(self.dir / "data"), "-m", "fast",
                                      "-w", "-t", str(int(timeout))]), capture_output=True)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def restart(self) -> None:
        self.stop_process()
        self.start()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
