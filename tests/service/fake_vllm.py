"""Stands in for `python -m vllm.entrypoints.openai.api_server` in the fast entrypoint tests.

Invoked through a wrapper set as VLLM_PYTHON. FAKE_VLLM_MODE: ok | exit | hang | die (after 1 s).
Writes its arguments to FAKE_VLLM_ARGS so tests can check the flags entrypoint.sh passed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.service.fake_upstream import Recorder, make_upstream


def main() -> None:
    args = sys.argv[1:]
    if args[:2] == ["-m", "vllm.entrypoints.openai.api_server"]:
        args = args[2:]
    Path(os.environ["FAKE_VLLM_ARGS"]).write_text(json.dumps(args))
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int)
    parser.add_argument("--served-model-name")
    known, _ = parser.parse_known_args(args)
    mode = os.environ.get("FAKE_VLLM_MODE", "ok")
    if mode == "exit":
        sys.exit(3)
    if mode == "hang":
        time.sleep(3600)
    recorder = Recorder(models=[known.served_model_name])
    app = make_upstream(recorder)

    async def tokenize(request: Request) -> JSONResponse:
        return JSONResponse({"tokens": [1, 2, 3, 4]})

    app.router.routes.insert(0, Route("/tokenize", tokenize, methods=["POST"]))
    if mode == "die":
        threading.Timer(float(os.environ.get("FAKE_VLLM_DIE_AFTER", "1")), os._exit, [5]).start()
    uvicorn.run(app, host="127.0.0.1", port=known.port, log_level="warning")


if __name__ == "__main__":
    main()
