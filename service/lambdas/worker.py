"""What the non-HTTP functions share: their services, built once per process from the
environment (without the JWT secret, which nothing they do uses)."""

import logging

from ..bootstrap import Services, bootstrap
from ..config import Settings
from ..logs import configure_logging

_built: list[Services] = []


def services() -> Services:
    if not _built:
        settings = Settings.from_env(with_secret=False)
        configure_logging(settings.log_level)
        _built.append(bootstrap(settings))
    return _built[0]


logger = logging.getLogger("service.lambda")
