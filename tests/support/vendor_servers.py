"""`synctv vendor serve` processes on loopback, for the vendor backend tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.etcd_server import free_port


class VendorProcess:
    def __init__(self, log_dir: Path, name: str, *, jwt_secret: str, service_name: str, etcd: str = "",
                 consul: str = "", ttl: float = 2.0) -> None:
        self.name = name
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}.log"
        args = [sys.executable, "-m", "synctv", "vendor", "serve", "--listen", self.address, "--jwt-secret",
                jwt_secret, "--service-name", service_name, "--instance-id", name, "--allow-local", "--ttl", str(ttl)]
        if etcd:
            args += ["--etcd", etcd]
        if consul:
            args += ["--consul", consul]
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ})

    def wait_ready(self, timeout: float = 20.0) -> VendorProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if b"listening on" in self.log_path.read_bytes():
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"vendor server {self.name} exited: {self.log_path.read_text()}")
            time.sleep(0.05)
        raise TimeoutError(f"vendor server {self.name} did not start: {self.log_path.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no deregistration, the record stays until its lease expires."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
