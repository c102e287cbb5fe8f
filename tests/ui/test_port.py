"""The UI port (musicapp/ui/services.py) at run time: the real studio and the tests' fake offer
every method the views call, with the port's parameters, so the fake cannot drift from the
studio unnoticed (mypy proves the types; ui_fakes.py holds its check)."""

import inspect

import pytest
from ui_fake_rooms import FakeLibrary, FakeRecords
from ui_fakes import FakeStudio

from musicapp.rooms.library import LibraryRoom
from musicapp.rooms.records import RecordsRoom
from musicapp.rooms.sync import SyncRoom
from musicapp.studio import Studio
from musicapp.ui.services import LibraryPort, RecordsPort, StudioPort, SyncPort


def _members(port: type) -> dict[str, object]:
    """The port's own methods and properties (its Protocol bases' included)."""
    found: dict[str, object] = {}
    for klass in reversed(port.__mro__):
        if klass is object or klass.__name__ in ("Protocol", "Generic"):
            continue
        for name, value in vars(klass).items():
            if not name.startswith("_") and (callable(value) or isinstance(value, property)):
                found[name] = value
    return found


def _params(function: object) -> list[str]:
    return [p for p in inspect.signature(function).parameters if p != "self"]  # type: ignore[arg-type]


CASES = [
    (StudioPort, Studio),
    (StudioPort, FakeStudio),
    (LibraryPort, LibraryRoom),
    (LibraryPort, FakeLibrary),
    (RecordsPort, RecordsRoom),
    (RecordsPort, FakeRecords),
    (SyncPort, SyncRoom),
]


@pytest.mark.parametrize(("port", "cls"), CASES, ids=lambda c: c.__name__)
def test_the_class_offers_every_method_of_the_port(port, cls):
    for name, member in _members(port).items():
        if isinstance(member, property):
            continue  # an attribute or a property: the studio's rooms are set in __init__
        assert hasattr(cls, name), f"{cls.__name__} lacks {port.__name__}.{name}"
        wanted, offered = _params(member), _params(getattr(cls, name))
        assert offered[: len(wanted)] == wanted, f"{cls.__name__}.{name}{offered} ≠ {wanted}"


def test_the_fake_studio_has_the_rooms_the_window_uses():
    studio = FakeStudio()
    for name, member in _members(StudioPort).items():
        if isinstance(member, property):
            assert hasattr(studio, name), f"FakeStudio lacks the {name} room"
