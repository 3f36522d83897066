"""Start and stop the real servers tests use: functions-framework and the gcloud emulators."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Process:
    proc: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group: no clean-up, as when an instance dies."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)


def start(
    command: list[str],
    env: Mapping[str, str],
    log_path: Path,
    url: str,
    ready_path: str | None = "/",
) -> Process:
    """Start `command` in its own process group and wait until `url` answers."""
    log = log_path.open("ab")  # appended: a restarted server keeps one log
    proc = subprocess.Popen(
        command, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    process = Process(proc, url, log_path)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{command[0]} exited early:\n{process.output()[-3000:]}")
        try:
            if ready_path is None:
                host, port = url.rsplit("/", 1)[-1].split(":")
                socket.create_connection((host, int(port)), timeout=1).close()
            else:
                httpx.get(url + ready_path, timeout=1)
            return process
        except (httpx.HTTPError, OSError):
            time.sleep(0.2)
    process.stop()
    raise RuntimeError(f"{' '.join(command)} did not answer on {url} within 120 s")


def start_function(env: Mapping[str, str], log_path: Path, port: int = 0) -> Process:
    """The real functions-framework server running `notifier.main:on_build_event`."""
    port = port or free_port()
    command = [
        sys.executable, "-m", "functions_framework",
        "--target", "on_build_event",
        "--source", str(ROOT / "notifier" / "main.py"),
        "--signature-type", "cloudevent",
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
    return start(command, full_env, log_path, f"http://127.0.0.1:{port}", None)


def start_emulator(
    kind: str, log_path: Path, project: str = "buildlens-demo", port: int = 0
) -> Process:
    """`gcloud beta emulators pubsub start` or `gcloud emulators firestore start`."""
    port = port or free_port()
    if kind == "pubsub":
        command = ["gcloud", "beta", "emulators", "pubsub", "start", f"--project={project}"]
    else:
        command = ["gcloud", "emulators", "firestore", "start"]
    command.append(f"--host-port=127.0.0.1:{port}")
    env = {**os.environ, "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"}
    return start(command, env, log_path, f"http://127.0.0.1:{port}")
