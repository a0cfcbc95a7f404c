"""Operations tagged `health`."""

from ..bootstrap import Services
from ..domain.errors import StoreUnavailable
from .views import Reply


def get_health(services: Services) -> Reply:
    try:
        services.store.ping()
    except StoreUnavailable:
        return {"status": "degraded", "store": "unavailable"}, 503
    return {"status": "ok", "store": "ok"}, 200
