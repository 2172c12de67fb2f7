"""The REST API: the FastAPI application, its routes and request schemas, reading
submitted tables, and the parts of a running server (:class:`Service`)."""

from bayesmmm.service.api._app import create_app
from bayesmmm.service.api._fetch import Fetcher
from bayesmmm.service.api._server import serve
from bayesmmm.service.api._service import FitCache, Service

__all__ = ["FitCache", "Fetcher", "Service", "create_app", "serve"]
