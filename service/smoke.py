"""Smoke-test a deployed gateway: `python -m service.smoke --url URL --key KEY`.

Checks health, 401 without a key, models, a chat completion (plain and streamed) with both key
headers, and that vLLM's internal routes are not reachable. Prints one line per check and exits 1
if any fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx


class CheckFailed(AssertionError):
    pass


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


@dataclass
class Smoke:
    client: httpx.Client
    key: str
    model: str | None = None

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def health(self) -> str:
        response = self.client.get("/health")
        _expect(
            response.status_code == 200,
            f"/health answered {response.status_code}: {response.text[:200]}",
        )
        return ", ".join(response.json().get("models", []))

    def unauthenticated(self) -> str:
        response = self.client.get("/v1/models")
        _expect(
            response.status_code == 401, f"expected 401 without a key, got {response.status_code}"
        )
        _expect("error" in response.json(), "401 body is not an OpenAI-style error")
        return "401"

    def models(self) -> str:
        response = self.client.get("/v1/models", headers=self._auth())
        _expect(
            response.status_code == 200,
            f"/v1/models answered {response.status_code}; is the key valid?",
        )
        ids = [m["id"] for m in response.json()["data"]]
        _expect(bool(ids), "no model served")
        if self.model is None:
            self.model = ids[0]
        _expect(self.model in ids, f"model {self.model!r} not served; served: {ids}")
        return self.model

    def x_api_key(self) -> str:
        response = self.client.get("/v1/models", headers={"X-API-Key": self.key})
        _expect(response.status_code == 200, f"X-API-Key refused with {response.status_code}")
        return "200"

    def chat(self) -> str:
        body = {
            "model": self.model,
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "Say OK."}],
        }
        response = self.client.post("/v1/chat/completions", json=body, headers=self._auth())
        _expect(
            response.status_code == 200,
            f"chat answered {response.status_code}: {response.text[:200]}",
        )
        message = response.json()["choices"][0]["message"]
        text = (message.get("reasoning") or message.get("reasoning_content") or "") + (
            message.get("content") or ""
        )
        _expect(bool(text), "chat answer is empty")
        return f"{response.json()['usage']['completion_tokens']} tokens"

    def stream(self) -> str:
        body = {
            "model": self.model,
            "max_tokens": 32,
            "stream": True,
            "messages": [{"role": "user", "content": "Hi"}],
        }
        chunks, done, first = 0, False, None
        start = time.perf_counter()
        with self.client.stream(
            "POST", "/v1/chat/completions", json=body, headers=self._auth()
        ) as response:
            _expect(response.status_code == 200, f"stream answered {response.status_code}")
            for line in response.iter_lines():
                if line == "data: [DONE]":
                    done = True
                elif line.startswith("data: "):
                    json.loads(line[6:])
                    chunks += 1
                    first = first or time.perf_counter() - start
        _expect(chunks > 0 and done, f"stream ended early after {chunks} chunks")
        return f"{chunks} chunks, first after {first or 0:.2f}s"

    def internal_routes(self) -> str:
        for path in ("/tokenize", "/pause", "/invocations"):
            response = self.client.post(path, json={}, headers=self._auth())
            _expect(
                response.status_code == 404, f"{path} answered {response.status_code}, expected 404"
            )
        return "404"


def _wait_healthy(client: httpx.Client, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if client.get("/health").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(5)


def run(url: str, key: str, model: str | None, timeout: float, wait: float) -> int:
    with httpx.Client(base_url=url.rstrip("/"), timeout=timeout) as client:
        if wait:
            _wait_healthy(client, wait)
        smoke = Smoke(client, key, model)
        checks: list[tuple[str, Callable[[], str]]] = [
            ("health", smoke.health),
            ("401 without key", smoke.unauthenticated),
            ("models (Bearer)", smoke.models),
            ("models (X-API-Key)", smoke.x_api_key),
            ("chat completion", smoke.chat),
            ("chat stream", smoke.stream),
            ("internal routes hidden", smoke.internal_routes),
        ]
        failed = 0
        for name, check in checks:
            start = time.perf_counter()
            try:
                detail, ok = check(), True
            except (CheckFailed, httpx.HTTPError, KeyError, ValueError, TypeError) as exc:
                detail, ok = f"{type(exc).__name__}: {exc}", False
                failed += 1
            ms = (time.perf_counter() - start) * 1000
            print(f"{'PASS' if ok else 'FAIL'}  {name:24} {ms:8.0f} ms  {detail}", flush=True)
    print(f"smoke: {len(checks) - failed} of {len(checks)} checks passed against {url}")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.smoke", description=__doc__)
    parser.add_argument(
        "--url", required=True, help="the deployed gateway, e.g. https://...run.app"
    )
    parser.add_argument("--key", required=True, help="an API key (not an admin key needed)")
    parser.add_argument("--model", help="served model name (default: the first listed)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    parser.add_argument(
        "--wait", type=float, default=0.0, help="first wait up to this long for /health"
    )
    args = parser.parse_args(argv)
    return run(args.url, args.key, args.model, args.timeout, args.wait)


if __name__ == "__main__":
    sys.exit(main())
