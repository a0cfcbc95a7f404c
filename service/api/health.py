"""Operations tagged `health`."""

from ..context import store
from ..domain.errors import StoreUnavailable


def get_health():
    try:
        store().ping()
    except StoreUnavailable:
        return {"status": "degraded", "store": "unavailable"}, 503
    return {"status": "ok", "store": "ok"}, 200
