"""Bounded loopback load against the gateway: concurrent streaming clients, some leaving early.

Shared by the load test (tests/service/hardening/test_load.py) and bench/gateway_load.py. Every
request goes to 127.0.0.1; every loop ends at its deadline; nothing here outlives `run_load`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

MODEL = "tiny-r1"


@dataclass
class LoadResult:
    clients: int
    seconds: float
    requests: int = 0
    completed: int = 0  # streams read to `data: [DONE]`
    early_disconnects: int = 0  # clients that hung up after the first token, on purpose
    cut_at_deadline: int = 0  # in flight when the run ended (also a hang-up)
    rate_limited: int = 0  # 429 with Retry-After: the configured limit at work
    errors: Counter[str] = field(default_factory=Counter)  # anything else
    ttft: list[float] = field(default_factory=list)
    rss_start_kib: int = 0
    rss_warm_kib: int = 0
    rss_end_kib: int = 0
    vllm_after: dict[str, float] = field(default_factory=dict)
    settle_seconds: float = 0.0

    @property
    def other_errors(self) -> int:
        return sum(self.errors.values())

    def percentile(self, q: float) -> float:
        ordered = sorted(self.ttft)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def gateway_pid(entrypoint_pid: int) -> int:
    """The `python -m service` child of entrypoint.sh."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (proc / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if ppid == entrypoint_pid and argv[1:3] == [b"-m", b"service"]:
                return int(proc.name)
    raise RuntimeError(f"no gateway process under entrypoint pid {entrypoint_pid}")


def vllm_queue(vllm_url: str) -> dict[str, float]:
    """Running and waiting requests from vLLM's own /metrics (loopback, not via the gateway)."""
    with urllib.request.urlopen(vllm_url + "/metrics", timeout=5) as response:
        text = response.read().decode()
    found = {"running": 0.0, "waiting": 0.0}
    for line in text.splitlines():
        for name in found:
            if line.startswith(f"vllm:num_requests_{name}"):
                found[name] += float(line.rsplit(" ", 1)[1])
    return found


async def _client(
    http: httpx.AsyncClient,
    index: int,
    key: str,
    leaves_early: bool,
    deadline: float,
    result: LoadResult,
) -> None:
    rng = random.Random(index)
    headers = {"Authorization": f"Bearer {key}"}
    while time.monotonic() < deadline:
        body = {
            "model": MODEL,
            "messages": [{"role": "user", "content": f"client {index}: why did the build fail?"}],
            "max_tokens": rng.randint(8, 32),
            "stream": True,
            "ignore_eos": True,
        }
        result.requests += 1
        start = time.monotonic()
        first = True
        try:
            async with http.stream(
                "POST", "/v1/chat/completions", json=body, headers=headers
            ) as response:
                if response.status_code == 429:
                    result.rate_limited += 1
                    assert response.headers["retry-after"].isdigit()
                    await response.aread()
                    await asyncio.sleep(1.0)
                    continue
                if response.status_code != 200:
                    result.errors[f"HTTP {response.status_code}"] += 1
                    await response.aread()
                    continue
                done = False
                async for chunk in response.aiter_raw():
                    if first and b"data:" in chunk:
                        first = False
                        result.ttft.append(time.monotonic() - start)
                        if leaves_early:
                            break
                    if b"data: [DONE]" in chunk:
                        done = True
                if leaves_early and not first:
                    result.early_disconnects += 1
                elif done:
                    result.completed += 1
                else:
                    result.errors["stream ended without [DONE]"] += 1
        except asyncio.CancelledError:
            result.cut_at_deadline += 1
            raise
        except (httpx.HTTPError, AssertionError) as exc:
            result.errors[type(exc).__name__] += 1


async def run_load(
    url: str,
    keys: list[str],
    *,
    clients: int = 200,
    seconds: float = 60.0,
    early_fraction: float = 0.2,
    pid: int | None = None,
) -> LoadResult:
    """`clients` streaming clients for `seconds`; client i uses keys[i % len(keys)]; one in
    1/early_fraction hangs up after its first token. Stops by itself at the deadline.
    With `pid` (the gateway's), its RSS is sampled before, 10 s in, and after the run."""
    result = LoadResult(clients=clients, seconds=seconds)
    if pid is not None:
        result.rss_start_kib = rss_kib(pid)

    async def sample_warm() -> None:
        await asyncio.sleep(min(10.0, seconds / 3))
        if pid is not None:
            result.rss_warm_kib = rss_kib(pid)

    every = round(1 / early_fraction)
    limits = httpx.Limits(max_connections=clients + 10, max_keepalive_connections=clients + 10)
    timeout = httpx.Timeout(connect=10, read=seconds + 30, write=10, pool=seconds + 30)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout) as http:
        deadline = time.monotonic() + seconds
        tasks = [
            asyncio.create_task(
                _client(http, i, keys[i % len(keys)], i % every == 0, deadline, result)
            )
            for i in range(clients)
        ]
        sampler = asyncio.create_task(sample_warm())
        _, pending = await asyncio.wait(tasks, timeout=seconds)
        for task in pending:  # in flight at the deadline: hang up, as a leaving client does
            task.cancel()
        await asyncio.gather(*pending, sampler, return_exceptions=True)
    return result


def settle(vllm_url: str, result: LoadResult, within: float = 10.0) -> None:
    """Wait until vLLM has nothing running or waiting (or `within` s); record what it shows."""
    start = time.monotonic()
    while True:
        result.vllm_after = vllm_queue(vllm_url)
        result.settle_seconds = time.monotonic() - start
        if not any(result.vllm_after.values()) or result.settle_seconds > within:
            return
        time.sleep(0.1)


def table(result: LoadResult) -> str:
    mib = 1024
    rows = [
        ("clients (1 in 5 leaves after its first token)", result.clients),
        ("seconds", f"{result.seconds:.0f}"),
        ("requests", result.requests),
        ("completed streams", result.completed),
        ("early disconnects", result.early_disconnects),
        ("cut at the deadline", result.cut_at_deadline),
        ("429 (rate limit)", result.rate_limited),
        ("other errors", f"{result.other_errors} {dict(result.errors) or ''}".strip()),
        ("TTFT p50 (s)", f"{result.percentile(50):.2f}"),
        ("TTFT p99 (s)", f"{result.percentile(99):.2f}"),
        ("gateway RSS before load (MiB)", f"{result.rss_start_kib / mib:.1f}"),
        ("gateway RSS after 10 s of load (MiB)", f"{result.rss_warm_kib / mib:.1f}"),
        ("gateway RSS at the end (MiB)", f"{result.rss_end_kib / mib:.1f}"),
        (
            "vLLM running / waiting afterwards",
            f"{result.vllm_after.get('running', -1):.0f} / "
            f"{result.vllm_after.get('waiting', -1):.0f} "
            f"(after {result.settle_seconds:.1f} s)",
        ),
    ]
    lines = ["| measure | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)
