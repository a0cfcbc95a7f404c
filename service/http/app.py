"""The HTTP entry point: the Connexion app from `openapi.yaml`, with validation, security,
errors, CORS and logs, over the use cases the composition root built."""

import contextlib
import functools
import importlib
from typing import Any

from connexion import AsyncApp
from connexion.datastructures import MediaTypeDict
from connexion.middleware import ConnexionMiddleware, MiddlewarePosition
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.resolver import Resolver

from ..bootstrap import Services, bootstrap
from ..logs import configure_logging
from .auth import bearer_security
from .errors import register_error_handlers
from .middleware import CorsMiddleware, RequestContextMiddleware
from .operations import decorate_once
from .routing import SPEC_PATH, handler_name, load_spec, spec_checked_already
from .validation import ConciseParameterValidator, ExactJSONBodyValidator, ExactJSONResponseValidator


class BoundResolver(Resolver):
    """Finds each operation's handler by its first tag and operationId (see `routing`), and
    gives it the services as its first argument; `threads=False` has it run on the event loop."""

    def __init__(self, services: Services, threads: bool):
        super().__init__()
        self.services = services
        self.threads = threads

    def resolve_operation_id(self, operation: Any) -> str:
        return handler_name(operation._operation["tags"][0], operation.operation_id)

    def resolve_function_from_operation_id(self, operation_id: str) -> Any:
        module, _, name = operation_id.rpartition(".")
        handler = functools.partial(getattr(importlib.import_module(module), name), self.services)
        return handler if self.threads else _on_the_loop(handler)


def _on_the_loop(handler: Any) -> Any:
    """`handler` as a coroutine function, which Connexion awaits instead of handing it to
    anyio's thread pool. Its signature stays the handler's, for Connexion to fill."""

    @functools.wraps(handler)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return handler(*args, **kwargs)

    return run


def create_app(services: Services | None = None, *, lambda_function: bool = False) -> AsyncApp:
    """The app. `lambda_function`: as a Lambda function runs it, which serves one request at a
    time per process, behind API Gateway:
    - the handlers run on the event loop, not in anyio's thread pool: nothing else waits on
      the loop, and under Mangum (a new root task per invocation, which anyio's workers end
      with) the pool starts a new OS thread for every request (0.2-0.3 ms of CPU each);
    - without Connexion's Swagger UI layer: API Gateway routes only the spec's operations, and
      the layer builds Jinja templates at every cold start whether or not the UI is installed;
    - without Connexion's check of the spec, which the artifact's spec passed when packaged.
    """
    services = services or bootstrap()
    config = services.settings
    configure_logging(config.log_level)
    middlewares = [m for m in ConnexionMiddleware.default_middlewares if m is not SwaggerUIMiddleware]
    app = AsyncApp(
        __name__,
        specification_dir=SPEC_PATH.parent,
        security_map=bearer_security(services.tokens.verify),
        middlewares=middlewares if lambda_function else None,
    )
    decorate_once(app)
    spec = load_spec()  # parsed here (see `load_spec`): Connexion would use PyYAML's pure-Python parser
    with spec_checked_already() if lambda_function else contextlib.nullcontext():
        app.add_api(
            spec,
            resolver=BoundResolver(services, threads=not lambda_function),
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
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            expose_headers=["X-Request-Id", "Location", "Idempotent-Replayed", "Retry-After"],
            max_age=600,
        )
    return app
