"""What ``bayesmmm serve`` runs: the API with its job store and executor in this process."""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

__all__ = ["serve"]


def serve(host: str = "127.0.0.1", port: int = 8000, log_level: str = "info",
          **overrides: Any) -> None:
    """Run the API with its job store and Dask executor in this process.

    ``overrides`` are :class:`Settings` fields (None = from the environment). Unless
    ``BAYESMMM_INSTANCE`` says otherwise, the server is named ``<host name>:<port>``, so
    a restart on the same port takes back its unfinished jobs at once.
    """
    import uvicorn

    from bayesmmm.service._settings import Settings
    from bayesmmm.service.api._app import create_app

    given = {k: v for k, v in overrides.items() if v is not None}
    if not os.environ.get("BAYESMMM_INSTANCE") and "instance" not in given:
        given["instance"] = f"{socket.gethostname()}:{port}"
    settings = Settings.from_env(**given)
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("bayesmmm").setLevel(log_level.upper())
    app = create_app(settings)

    class _Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            # SIGTERM often reaches the Dask workers too (a process group, a systemd
            # unit): tell the dispatcher first, so runs they drop cost no attempt
            running = getattr(app.state, "service", None)
            if running is not None:
                running.dispatcher.stopping()
            super().handle_exit(sig, frame)

    config = uvicorn.Config(app, host=host, port=port, log_level=log_level,
                            timeout_graceful_shutdown=10)
    _Server(config).run()
