"""What one message crossing between two processes costs, over the mesh's transport and over a raw TCP stream.

    .venv/bin/python -m bench.mesh_crossing [--messages N] [--gap-ms G] [--rounds R]

A sender process writes N small messages (200 bytes, about a mesh envelope carrying a chat) one at a time, G ms
apart, to a receiver process, over
- `grpc`: a gRPC aio bidirectional stream of raw bytes (grpcio, uvloop), as the mesh's links are;
- `tcp`: a plain asyncio TCP stream (uvloop), the least any transport can cost.
Both processes' CPU (utime + stime of all threads) is read from /proc around the run; the figures are CPU per
message for each side and their sum, alternating the transports for R rounds (medians). A cluster pays this once
per hop of a room message: a message from a viewer whose instance does not own the room crosses three times (to
the owner, back with the events, and to the other instance with viewers; twice when the sender is on the owner),
so three times the sum is about the floor of what a 3-instance cluster adds per message over one instance at a
paced rate, before any application work.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from typing import Any

from bench.common import table, write_json
from bench.procs import free_port, proc_cpu

PAYLOAD = b"m" * 200
_METHOD = "/bench.Crossing/Stream"


def _identity(b: bytes) -> bytes:
    return b


async def _grpc_receiver(port: int) -> None:
    import grpc

    async def stream(requests: Any, context: Any) -> Any:
        async for _ in requests:
            pass
        yield b"done"

    server = grpc.aio.server()
    handler = grpc.stream_stream_rpc_method_handler(stream, _identity, _identity)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("bench.Crossing", {"Stream": handler}),))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()


async def _tcp_receiver(port: int) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(65536):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    print("ready", flush=True)
    await server.serve_forever()


async def _grpc_sender(port: int, n: int, gap: float) -> None:
    import grpc

    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    call = channel.stream_stream(_METHOD, request_serializer=_identity, response_deserializer=_identity)()
    await call.write(PAYLOAD)  # the stream is up before the measured part
    print("ready", flush=True)
    sys.stdin.readline()
    for _ in range(n):
        await call.write(PAYLOAD)
        await asyncio.sleep(gap)
    await call.done_writing()
    await call.read()
    print("done", flush=True)
    await channel.close()


async def _tcp_sender(port: int, n: int, gap: float) -> None:
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(PAYLOAD)
    await writer.drain()
    print("ready", flush=True)
    sys.stdin.readline()
    for _ in range(n):
        writer.write(PAYLOAD)
        await writer.drain()
        await asyncio.sleep(gap)
    writer.close()
    await writer.wait_closed()
    print("done", flush=True)


def _role(argv: list[str]) -> None:
    import uvloop

    uvloop.install()
    role, transport, port = argv[0], argv[1], int(argv[2])
    if role == "receiver":
        asyncio.run(_grpc_receiver(port) if transport == "grpc" else _tcp_receiver(port))
    else:
        n, gap = int(argv[3]), float(argv[4])
        asyncio.run((_grpc_sender if transport == "grpc" else _tcp_sender)(port, n, gap))


def _start(*args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-m", "bench.mesh_crossing", "--role", *args], text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise RuntimeError(f"{args[0]} {args[1]} did not start")
    return proc


def one_run(transport: str, n: int, gap: float) -> dict[str, Any]:
    port = free_port()
    receiver = _start("receiver", transport, str(port))
    try:
        time.sleep(0.3)
        sender = _start("sender", transport, str(port), str(n), str(gap))
        time.sleep(0.3)
        s0, r0, t0 = proc_cpu(sender.pid), proc_cpu(receiver.pid), time.monotonic()
        assert sender.stdin is not None and sender.stdout is not None
        sender.stdin.write("go\n")
        sender.stdin.flush()
        if sender.stdout.readline().strip() != "done":
            raise RuntimeError(f"{transport} sender failed")
        s1, r1, seconds = proc_cpu(sender.pid), proc_cpu(receiver.pid), time.monotonic() - t0
        sender.wait(10)
    finally:
        receiver.terminate()
        receiver.wait(10)
    send_us, recv_us = (s1 - s0) / n * 1e6, (r1 - r0) / n * 1e6
    return {"transport": transport, "messages": n, "gap_ms": gap * 1000, "seconds": seconds,
            "sender_cpu_us_per_msg": send_us, "receiver_cpu_us_per_msg": recv_us,
            "crossing_cpu_us": send_us + recv_us}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--role":
        _role(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--gap-ms", type=float, default=10.0, help="pause between messages (10: the load "
                        "harness's multiroom rate per room)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for rnd in range(1, args.rounds + 1):
        for transport in ("grpc", "tcp"):
            row = {"round": rnd, **one_run(transport, args.messages, args.gap_ms / 1000)}
            rows.append(row)
            print(f"round {rnd} {transport}: {row['crossing_cpu_us']:.0f} us of CPU per crossing", file=sys.stderr,
                  flush=True)
    medians = []
    for transport in ("grpc", "tcp"):
        mine = [r for r in rows if r["transport"] == transport]
        medians.append({"round": "median", "transport": transport, "messages": args.messages,
                        "gap_ms": args.gap_ms,
                        **{k: statistics.median(r[k] for r in mine)
                           for k in ("seconds", "sender_cpu_us_per_msg", "receiver_cpu_us_per_msg",
                                     "crossing_cpu_us")}})
    rows += medians
    ratio = medians[0]["crossing_cpu_us"] / medians[1]["crossing_cpu_us"]
    print(table(rows, ["round", "transport", "messages", "gap_ms", "sender_cpu_us_per_msg",
                       "receiver_cpu_us_per_msg", "crossing_cpu_us"]))
    print(f"\ngrpc / tcp per crossing: {ratio:.2f}; three crossings over gRPC: "
          f"{3 * medians[0]['crossing_cpu_us'] / 1000:.2f} ms of CPU per message")
    print("wrote", write_json("mesh_crossing", {"rows": rows, "grpc_vs_tcp": ratio}))


if __name__ == "__main__":
    main()
