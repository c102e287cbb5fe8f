"""The engines the app offers, by name; building the list loads no model code."""

from __future__ import annotations

from collections.abc import Callable

from musicapp.core import InvalidInput
from musicapp.generation.base import Engine

DEFAULT_ENGINE = "concat"


def _concat() -> Engine:
    from musicapp.generation.concat import ConcatEngine

    return ConcatEngine()


# name -> factory. Factories import their engine's module themselves, so an engine that needs
# torch or weights costs nothing until it is asked for.
_FACTORIES: dict[str, Callable[[], Engine]] = {"concat": _concat}


def register(name: str, factory: Callable[[], Engine]) -> None:
    """Offer another engine (a model-based one, or a test double) under `name`."""
    _FACTORIES[name] = factory


def engines() -> dict[str, Engine]:
    """Every known engine by name, the default first."""
    return {name: factory() for name, factory in _FACTORIES.items()}


def get_engine(name: str) -> Engine:
    """The engine called `name`; an unknown name is an InvalidInput that lists the known ones."""
    factory = _FACTORIES.get(name)
    if factory is None:
        known = ", ".join(sorted(_FACTORIES))
        raise InvalidInput(f"engine {name!r} is not known (known engines: {known})")
    return factory()


def default_engine_name() -> str:
    return DEFAULT_ENGINE
