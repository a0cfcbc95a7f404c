"""The HTTP entry point: the Connexion app from `openapi.yaml`, with validation, security,
errors, CORS and logs, over the use cases the composition root built."""

import functools
import importlib
from typing import Any

from connexion import AsyncApp
from connexion.datastructures import MediaTypeDict
from connexion.middleware import MiddlewarePosition
from connexion.resolver import Resolver

from ..bootstrap import Services, bootstrap
from ..logs import configure_logging
from .auth import bearer_security
from .errors import register_error_handlers
from .middleware import CorsMiddleware, RequestContextMiddleware
from .routing import SPEC_PATH, handler_name, load_spec
from .validation import ConciseParameterValidator, ExactJSONBodyValidator, ExactJSONResponseValidator


class BoundResolver(Resolver):
    """Finds each operation's handler by its first tag and operationId (see `routing`), and
    gives it the services as its first argument."""

    def __init__(self, services: Services):
        super().__init__()
        self.services = services

    def resolve_operation_id(self, operation: Any) -> str:
        return handler_name(operation._operation["tags"][0], operation.operation_id)

    def resolve_function_from_operation_id(self, operation_id: str) -> Any:
        module, _, name = operation_id.rpartition(".")
        return functools.partial(getattr(importlib.import_module(module), name), self.services)


def create_app(services: Services | None = None) -> AsyncApp:
    services = services or bootstrap()
    config = services.settings
    configure_logging(config.log_level)
    spec = load_spec()  # parsed here with libyaml: Connexion would use PyYAML's pure-Python parser
    app = AsyncApp(__name__, specification_dir=SPEC_PATH.parent, security_map=bearer_security(services.tokens.verify))
    app.add_api(
        spec,
        resolver=BoundResolver(services),
        strict_validation=True,
        validate_responses=config.validate_responses,
        validator_map={
            "body": MediaTypeDict({"*/*json": ExactJSONBodyValidator}),
            "response": MediaTypeDict({"*/*json": ExactJSONResponseValidator}),
            "parameter": ConciseParameterValidator,
        },
        swagger_ui_options=None,
    )
    register_error_handlers(app, spec)
    # Added first, so outermost: its request id reaches every response, errors included.
    app.add_middleware(
        RequestContextMiddleware,
        MiddlewarePosition.BEFORE_EXCEPTION,
        max_body_bytes=config.max_body_bytes,
    )
    if config.cors_allowed_origins:
        app.add_middleware(
            CorsMiddleware,
            MiddlewarePosition.BEFORE_EXCEPTION,
            allow_origins=list(config.cors_allowed_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            expose_headers=["X-Request-Id", "Location", "Idempotent-Replayed", "Retry-After"],
            max_age=600,
        )
    return app
