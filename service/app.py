"""Builds the Connexion app from `openapi.yaml`: validation, security, errors, CORS, logs."""

from connexion import AsyncApp
from connexion.datastructures import MediaTypeDict
from connexion.middleware import MiddlewarePosition
from connexion.resolver import Resolver

from . import context
from .config import Settings
from .errors import register_error_handlers
from .logs import configure_logging
from .middleware import CorsMiddleware, RequestContextMiddleware
from .routing import SPEC_PATH, handler_name, load_spec
from .security import cursor_key
from .store import AchVault, SesMailer, Store
from .validation import ConciseParameterValidator, ExactJSONBodyValidator, ExactJSONResponseValidator


class TagResolver(Resolver):
    """Finds each operation's handler by its first tag and operationId (see `routing`)."""

    def resolve_operation_id(self, operation) -> str:
        return handler_name(operation._operation["tags"][0], operation.operation_id)


def create_app(config: Settings | None = None, store: Store | None = None) -> AsyncApp:
    config = config or Settings.from_env()
    configure_logging(config.log_level)
    context.configure(config, store or Store(config.tables, cursor_key(config)), AchVault(config.ach_kms_key_id),
                      SesMailer(config.email_sender))

    app = AsyncApp(__name__, specification_dir=SPEC_PATH.parent)
    app.add_api(
        load_spec(),  # parsed here with libyaml: Connexion would use PyYAML's pure-Python parser
        resolver=TagResolver(),
        strict_validation=True,
        validate_responses=config.validate_responses,
        validator_map={
            "body": MediaTypeDict({"*/*json": ExactJSONBodyValidator}),
            "response": MediaTypeDict({"*/*json": ExactJSONResponseValidator}),
            "parameter": ConciseParameterValidator,
        },
        swagger_ui_options=None,
    )
    register_error_handlers(app)
    # Added first, so outermost: its request id reaches every response, errors included.
    app.add_middleware(
        RequestContextMiddleware, MiddlewarePosition.BEFORE_EXCEPTION,
        max_body_bytes=config.max_body_bytes,
    )
    if config.cors_allowed_origins:
        app.add_middleware(
            CorsMiddleware, MiddlewarePosition.BEFORE_EXCEPTION,
            allow_origins=list(config.cors_allowed_origins),
            allow_methods=["GET", "POST", "PUT", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["X-Request-Id", "Location"],
            max_age=600,
        )
    return app
