"""FastAPI dependencies: each part of the service, swappable with
``app.dependency_overrides[get_store] = ...`` in tests."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bayesmmm.service._settings import Settings
from bayesmmm.service.api._fetch import Fetcher
from bayesmmm.service.api._service import FitCache, Service
from bayesmmm.service.api._sources import SourceReader
from bayesmmm.service.jobs import ArtifactStore, Dispatcher
from bayesmmm.service.store import JobStore

__all__ = ["get_service", "get_settings", "get_store", "get_artifacts", "get_dispatcher",
           "get_fetcher", "get_fits", "get_sources", "Sources"]


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def get_settings(request: Request) -> Settings:
    return get_service(request).settings


def get_store(request: Request) -> JobStore:
    return get_service(request).store


def get_artifacts(request: Request) -> ArtifactStore:
    return get_service(request).artifacts


def get_dispatcher(request: Request) -> Dispatcher:
    return get_service(request).dispatcher


def get_fetcher(request: Request) -> Fetcher:
    return get_service(request).fetcher


def get_fits(request: Request) -> FitCache:
    return get_service(request).fits


def get_sources(request: Request) -> SourceReader:
    return get_service(request).sources


#: A route parameter: the service's named sources (a request's ``source``).
Sources = Annotated[SourceReader, Depends(get_sources)]
