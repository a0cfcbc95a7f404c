"""The process-wide settings, store and vault, set once when the app is built.

Lambda reuses a process across invocations, so they are created at init and shared.
"""

from typing import TYPE_CHECKING

from .config import Settings

if TYPE_CHECKING:
    from .store import AchVault, SesMailer, Store

_current: dict = {}


def configure(config: Settings, store: "Store", vault: "AchVault", mailer: "SesMailer") -> None:
    _current.update(settings=config, store=store, vault=vault, mailer=mailer)


def settings() -> Settings:
    return _current["settings"]


def store() -> "Store":
    return _current["store"]


def vault() -> "AchVault":
    return _current["vault"]


def mailer() -> "SesMailer":
    return _current["mailer"]
