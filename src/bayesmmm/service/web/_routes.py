"""The dashboard: a single page at ``/`` with its scripts under ``/static`` and the
plotly.js bundled with the installed ``plotly`` package at ``/vendor/plotly.min.js``.
Everything is served from here, so the page works without internet access."""

from __future__ import annotations

import mimetypes
from functools import lru_cache
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

__all__ = ["mount", "WEB_DIR", "CSP"]

WEB_DIR = Path(__file__).parent

#: The page may talk to its own origin only; Plotly sets inline styles and draws images
#: from data and blob URLs.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")

_NO_CACHE = {"Cache-Control": "no-cache"}


@lru_cache(maxsize=1)
def _plotly_js() -> Path | bytes:
    """The ``plotly.min.js`` file shipped inside the ``plotly`` package (or its text)."""
    bundled = resources.files("plotly") / "package_data" / "plotly.min.js"
    if bundled.is_file():
        return Path(str(bundled))
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().encode()


def mount(app: FastAPI) -> None:
    """Add the dashboard's routes to ``app`` (none of them is in the API document)."""
    # Some systems map .js to text/plain, which browsers refuse for modules.
    mimetypes.add_type("text/javascript", ".js")

    async def index() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html", media_type="text/html",
                            headers={**_NO_CACHE, "Content-Security-Policy": CSP,
                                     "X-Content-Type-Options": "nosniff",
                                     "Referrer-Policy": "no-referrer"})

    async def plotly_js() -> Response:
        source = _plotly_js()
        headers = {"Cache-Control": "public, max-age=86400"}
        if isinstance(source, Path):
            return FileResponse(source, media_type="text/javascript", headers=headers)
        return Response(source, media_type="text/javascript", headers=headers)

    app.add_api_route("/", index, methods=["GET"], include_in_schema=False)
    app.add_api_route("/vendor/plotly.min.js", plotly_js, methods=["GET"],
                      include_in_schema=False)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
