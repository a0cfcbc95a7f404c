"""The process-wide settings and store, set once when the app is built.

Lambda reuses a process across invocations, so both are created at init and shared.
"""

from typing import TYPE_CHECKING

from .config import Settings

if TYPE_CHECKING:
    from .store import Store

_current: dict = {}


def configure(config: Settings, store: "Store") -> None:
    _current.update(settings=config, store=store)


def settings() -> Settings:
    return _current["settings"]


def store() -> "Store":
    return _current["store"]
