"""`python -m service`: run the gateway with uvicorn on $PORT."""

from __future__ import annotations

import uvicorn

from .app import create_app
from .jsonlog import configure_logging
from .settings import Settings


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,  # the gateway logs each request itself, with the key name
        server_header=False,
        proxy_headers=True,
        forwarded_allow_ips="*",  # Cloud Run's front end is the only way in
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
