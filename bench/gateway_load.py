"""Gateway under streaming load: the tiny real vLLM behind the gateway, through entrypoint.sh.

    python bench/gateway_load.py                 # 200 clients for 60 s
    python bench/gateway_load.py --clients 50 --seconds 20

Bounded and loopback only: `--clients` streaming chat clients for `--seconds`, one in five hanging
up after its first token, one in ten on a key capped at 20 requests/minute (its 429s are counted
apart). Prints a Markdown table: requests, completed streams, early disconnects, 429s, other
errors, p50/p99 time to first token, the gateway's RSS, and vLLM's queue afterwards.
Never asserts anything (tests/service/hardening/test_load.py does).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from tests.service import vllm_harness
    from tests.service.hardening import load
    from tests.service.hardening.test_load import load_stack_env, write_keys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()

    python = vllm_harness.vllm_venv()
    with tempfile.TemporaryDirectory(prefix="gateway-load-") as tmp:
        work = Path(tmp)
        model = vllm_harness.tiny_model(work / "model", python)
        keys = write_keys(work / "keys.json")
        env = load_stack_env(work, model, python, work / "keys.json")
        stack = vllm_harness.start_stack(env, work / "entrypoint.log")
        try:
            pid = load.gateway_pid(stack.proc.pid)
            result = asyncio.run(
                load.run_load(stack.url, keys, clients=args.clients, seconds=args.seconds, pid=pid)
            )
            load.settle(stack.vllm_url, result, within=10)
            result.rss_end_kib = load.rss_kib(pid)
        finally:
            stack.stop()
    print(f"## Gateway under streaming load ({args.clients} clients, {args.seconds:.0f} s)\n")
    print(load.table(result))


if __name__ == "__main__":
    main()
