"""service.prewarm against the local upstream (vLLM's /tokenize and completions shape)."""

from __future__ import annotations

import asyncio
import time

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from service.prewarm import main, prewarm
from tests.service.fake_upstream import Recorder, make_upstream
from tests.service.servers import serve


def _upstream(recorder: Recorder, tokenize: bool = True):  # type: ignore[no-untyped-def]
    app = make_upstream(recorder)
    if tokenize:

        async def tok(request: Request) -> JSONResponse:
            return JSONResponse({"tokens": [11, 12, 13]})

        app.router.routes.insert(0, Route("/tokenize", tok, methods=["POST"]))
    return app


def test_sizes_capped_and_burst() -> None:
    recorder = Recorder()
    with serve(_upstream(recorder)) as url:
        report = asyncio.run(prewarm(url, "tiny", deadline=20, burst=4))
    prompts = [r["body"]["prompt"] for r in recorder.requests if r["path"] == "/v1/completions"]
    # max_model_len 512 from /v1/models: 128, 256 as asked, the rest capped to 512-16-1.
    assert [len(p) for p in prompts[:3]] == [128, 256, 495]
    assert all(isinstance(t, int) for t in prompts[0])
    assert len(prompts) == 3 + 4
    assert report.warmed[:3] == ["prompt_128", "prompt_256", "prompt_495"]
    assert report.capped == [512, 1024, 2048]
    assert not report.timed_out


def test_text_prompts_without_tokenize() -> None:
    recorder = Recorder()
    with serve(_upstream(recorder, tokenize=False)) as url:
        report = asyncio.run(prewarm(url, "tiny", deadline=20, sizes=[64], burst=1))
    assert report.warmed == ["prompt_64", "burst_0"]
    assert isinstance(recorder.requests[1]["body"]["prompt"], str)


def test_deadline_never_blocks() -> None:
    recorder = Recorder()
    with serve(_upstream(recorder)) as url:
        start = time.monotonic()
        # 50 concurrent requests cannot finish in 50 ms: the deadline must cut them off.
        report = asyncio.run(prewarm(url, "tiny", deadline=0.05, burst=50))
        assert time.monotonic() - start < 5
        assert report.timed_out
        assert main(["--url", url, "--model", "tiny", "--deadline", "0.01"]) == 0


def test_unreachable_server_reports_and_exits_zero() -> None:
    assert main(["--url", "http://127.0.0.1:9", "--model", "tiny", "--deadline", "2"]) == 0
