"""A generic webhook receiver that records what it was sent and answers 200."""

from __future__ import annotations

from tests.fakes.http import RecordingServer, Request, Response


class FakeWebhook(RecordingServer):
    def respond(self, request: Request) -> Response:
        return Response(200, b'{"ok": true}')
