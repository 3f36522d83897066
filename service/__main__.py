"""`python -m service`: run the gateway with uvicorn on $PORT."""

from __future__ import annotations

import uvicorn

from buildlens_core.jsonlog import configure_logging

from .app import create_app
from .server import server_config
from .settings import Settings


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    uvicorn.Server(server_config(create_app(settings), settings)).run()


if __name__ == "__main__":
    main()
