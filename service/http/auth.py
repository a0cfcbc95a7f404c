"""Bearer authentication for Connexion, bound to the app's token verifier.

Connexion normally imports the function the spec names in `x-bearerInfoFunc`; here the
security handler is given the verifier the composition root built, so the check needs no
module-level state. The claims become the handler's `token_info` and `sub` its `user`.
Whether that user still exists, and has not revoked the token since (`usecases.ports.CALLER`,
set here), is checked by the operation itself, in the read that loads what it needs.
"""

from collections.abc import Callable
from typing import Any

from connexion.security import SECURITY_HANDLERS, BearerSecurityHandler

from ..usecases.ports import CALLER, Caller


def bearer_security(verify: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """Connexion's security handlers, with bearer tokens checked by `verify`."""

    def verify_and_bind(token: str) -> dict[str, Any]:
        # Each request runs in a task of its own, whose context the handler's thread copies.
        claims = verify(token)
        session = claims.get("sid")
        CALLER.set(Caller(claims["sub"], claims.get("ver", 0), session if isinstance(session, str) else None))
        return claims

    class BoundBearer(BearerSecurityHandler):
        def _resolve_func(self, security_scheme: dict[str, Any]) -> Callable[[str], dict[str, Any]]:
            return verify_and_bind

        @staticmethod
        def _accepts_kwarg(func: Callable[..., Any], keyword: str) -> bool:
            """`verify` takes the token alone: Connexion would inspect its signature twice a
            request to find that out."""
            return False

    return {**SECURITY_HANDLERS, "bearer": BoundBearer}
