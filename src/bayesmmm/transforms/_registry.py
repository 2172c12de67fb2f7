"""A small explicit registry of named model components."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Named components of one kind (``"adstock"``, ``"saturation"``).

    Parameters
    ----------
    kind : str
        What the registry holds; used in error messages.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[Callable[[], T]], Callable[[], T]]:
        """Decorator: register the component built by a zero-argument factory."""

        def deco(factory: Callable[[], T]) -> Callable[[], T]:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._items[name] = factory()
            return factory

        return deco

    def add(self, name: str, item: T) -> T:
        """Register an already-built component under ``name``."""
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._items[name] = item
        return item

    def get(self, name: str) -> T:
        """The component called ``name``; ``ValueError`` naming the choices if unknown."""
        try:
            return self._items[name]
        except KeyError:
            raise ValueError(
                f"Unknown {self.kind} {name!r}; expected one of {sorted(self._items)}"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
