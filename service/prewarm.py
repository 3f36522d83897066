"""Pre-warm vLLM before the gateway opens: compile and capture the shapes real traffic will hit.

`python -m service.prewarm --url http://127.0.0.1:8000 --model NAME [--deadline 180]`

Sends one completion per prompt size (128 ... 2048 tokens, capped by the model's max length), one
at a time so each prefill shape compiles on its own, then a concurrent burst of short requests to
warm batched decoding. Everything runs under one deadline; it reports what it warmed and always
exits 0 on a deadline or server error, so start-up is never blocked.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from buildlens_core.jsonlog import configure_logging

_log = logging.getLogger("service.prewarm")
SIZES = (128, 256, 512, 1024, 2048)
_SEED_TEXT = "The build failed because the docker push step could not reach the registry. "


@dataclass
class Report:
    warmed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    capped: list[int] = field(default_factory=list)
    cap: int = 0
    seconds: float = 0.0
    timed_out: bool = False


async def _max_model_len(client: httpx.AsyncClient, model: str) -> int | None:
    response = await client.get("/v1/models")
    response.raise_for_status()
    for entry in response.json().get("data", []):
        if entry.get("id") == model and entry.get("max_model_len"):
            return int(entry["max_model_len"])
    return None


async def _seed_tokens(client: httpx.AsyncClient, model: str) -> list[int] | None:
    """Token ids of a sentence (vLLM's local /tokenize); None when it is not available."""
    try:
        response = await client.post("/tokenize", json={"model": model, "prompt": _SEED_TEXT})
        tokens = response.json().get("tokens") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    return [int(t) for t in tokens] if tokens else None


def _prompt(seed: list[int] | None, size: int) -> Any:
    if seed:
        return (seed * (size // len(seed) + 1))[:size]
    return "hello " * size  # roughly one token per word


async def _complete(
    client: httpx.AsyncClient, model: str, prompt: Any, max_tokens: int, label: str, report: Report
) -> None:
    start = time.perf_counter()
    body = {"model": model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0}
    try:
        response = await client.post("/v1/completions", json=body)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        report.failed.append(label)
        _log.warning("pre-warm %s failed: %s", label, exc, extra={"prewarm": label})
        return
    seconds = time.perf_counter() - start
    report.warmed.append(label)
    _log.info(
        "pre-warmed %s in %.2fs", label, seconds, extra={"prewarm": label, "seconds": seconds}
    )


async def prewarm(
    url: str,
    model: str,
    deadline: float,
    sizes: Sequence[int] = SIZES,
    max_tokens: int = 16,
    burst: int = 8,
    max_model_len: int | None = None,
) -> Report:
    report = Report()
    start = time.perf_counter()
    timeout = httpx.Timeout(deadline, connect=5.0)
    async with httpx.AsyncClient(base_url=url, timeout=timeout) as client:
        try:
            async with asyncio.timeout(deadline):
                limit = max_model_len or await _max_model_len(client, model) or max(sizes)
                seed = await _seed_tokens(client, model)
                cap = limit - max_tokens - 1
                plan = sorted({min(size, cap) for size in sizes if cap > 0})
                report.cap, report.capped = cap, [s for s in sizes if s > cap]
                for size in plan:
                    await _complete(
                        client, model, _prompt(seed, size), max_tokens, f"prompt_{size}", report
                    )
                # A burst warms the batched decode shapes that concurrent users produce.
                await asyncio.gather(
                    *(
                        _complete(
                            client, model, _prompt(seed, 32), max_tokens, f"burst_{i}", report
                        )
                        for i in range(burst)
                    )
                )
        except TimeoutError:
            report.timed_out = True
        except httpx.HTTPError as exc:
            report.failed.append(f"setup ({type(exc).__name__})")
    report.seconds = time.perf_counter() - start
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.prewarm", description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="vLLM's own address")
    parser.add_argument("--model", required=True, help="the served model name")
    parser.add_argument("--deadline", type=float, default=180.0, help="seconds for everything")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--max-model-len", type=int, help="default: read from /v1/models")
    parser.add_argument("--burst", type=int, default=8, help="concurrent short requests")
    args = parser.parse_args(argv)
    configure_logging()
    report = asyncio.run(
        prewarm(
            args.url,
            args.model,
            args.deadline,
            sizes=args.sizes,
            burst=args.burst,
            max_model_len=args.max_model_len,
        )
    )
    _log.log(
        logging.WARNING if report.timed_out or report.failed else logging.INFO,
        "pre-warm %s in %.2fs: warmed %d (%s)%s%s%s",
        "stopped at its deadline" if report.timed_out else "done",
        report.seconds,
        len(report.warmed),
        ", ".join(w for w in report.warmed if not w.startswith("burst_"))
        + (f" + burst of {sum(w.startswith('burst_') for w in report.warmed)}"),
        f"; failed: {', '.join(report.failed)}" if report.failed else "",
        (
            f"; capped to {report.cap} tokens by the max model length: "
            + ", ".join(map(str, report.capped))
        )
        if report.capped
        else "",
        "; first requests of the missing shapes will be slower" if report.timed_out else "",
        extra={"warmed": report.warmed, "failed": report.failed, "seconds": report.seconds},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
