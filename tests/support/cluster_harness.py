"""Real multi-process clusters on loopback: N `synctv serve` processes sharing PostgreSQL, found through etcd."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.support.etcd_server import free_port

CLUSTER_SECRET = "cluster-secret-for-tests-0123456789abcdef"
JWT_SECRET = "jwt-secret-for-tests-0123456789"


@dataclass
class Instance:
    instance_id: str
    http_port: int
    grpc_port: int
    data_dir: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.data_dir / "server.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "synctv", "serve", "--data-dir", str(self.data_dir), "--listen", "127.0.0.1",
             "--port", str(self.http_port)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout: float = 15.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""


class ClusterProcesses:
    def __init__(self, size: int, dsn: str, etcd_endpoint: str, *, ttl: str = "3s",
                 extra_env: dict[str, str] | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="synctv-cluster-"))
        self.dsn = dsn
        self.instances: list[Instance] = []
        for i in range(size):
            iid = f"n{i + 1}"
            env = dict(os.environ)
            env.update({
                "SYNCTV_DATABASE_TYPE": "postgres",
                "SYNCTV_DATABASE_CUSTOM_DSN": dsn,
                "SYNCTV_JWT_SECRET": JWT_SECRET,
                "SYNCTV_LOG_LEVEL": "info",
                "SYNCTV_CLUSTER_ENABLED": "true",
                "SYNCTV_CLUSTER_INSTANCE_ID": iid,
                "SYNCTV_CLUSTER_SECRET": CLUSTER_SECRET,
                "SYNCTV_CLUSTER_ADVERTISE_ADDRESS": "127.0.0.1",
                "SYNCTV_CLUSTER_GRPC_LISTEN": "127.0.0.1",
                "SYNCTV_CLUSTER_DISCOVERY_TYPE": "etcd",
                "SYNCTV_CLUSTER_DISCOVERY_TTL": ttl,
                "SYNCTV_CLUSTER_DISCOVERY_ETCD_ENDPOINTS": etcd_endpoint,
            })
            env.update(extra_env or {})
            grpc_port = free_port()
            env["SYNCTV_CLUSTER_GRPC_PORT"] = str(grpc_port)
            self.instances.append(Instance(iid, free_port(), grpc_port, self.root / iid, env))

    def start(self) -> None:
        for inst in self.instances:
            inst.start()

    async def wait_ready(self, timeout: float = 45.0, members: int | None = None) -> None:
        want = members or len(self.instances)
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            for inst in self.instances:
                if inst.proc is None:
                    continue
                while True:
                    if inst.proc.poll() is not None:
                        raise RuntimeError(f"{inst.instance_id} exited: {inst.log()}")
                    try:
                        async with session.get(inst.base + "/health") as resp:
                            body = await resp.json()
                            detail = body.get("components", {}).get("discovery", {}).get("detail", "")
                            if resp.status == 200 and detail.startswith(f"{want} members"):
                                break
                    except (aiohttp.ClientError, ValueError):
                        pass
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{inst.instance_id} not ready: {inst.log()}")
                    await asyncio.sleep(0.2)

    def stop(self) -> None:
        for inst in self.instances:
            inst.stop()
