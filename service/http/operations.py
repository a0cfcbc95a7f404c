"""Connexion's operations, decorated once instead of on every request.

Connexion 3's `AsyncOperation.fn` is a property that builds a new decorator for each request,
and that decorator's wrapper decorates the handler again, inspecting its signature three
times: about a sixth of the framework's CPU per request, for a result that depends only on
the handler. These subclasses keep the result; the request each call builds is Connexion's,
as before. `decorate_once(app)` installs them before the app builds its routes.
"""

import functools
from typing import Any

from connexion import AsyncApp
from connexion.apps.asynchronous import AsyncApi, AsyncOperation
from connexion.context import receive, scope
from connexion.decorators import StarletteDecorator


class _DecoratedOnce(StarletteDecorator):
    def __call__(self, function: Any) -> Any:
        decorated = self.decorate(function)

        @functools.wraps(function)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            request = self.framework.get_request(uri_parser=self.uri_parser, scope=scope, receive=receive)
            return await decorated(request)

        return wrapper


class _Operation(AsyncOperation):
    @functools.cached_property
    def fn(self) -> Any:
        return _DecoratedOnce(pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)(self._fn)


class _Api(AsyncApi):
    def make_operation(self, operation: Any) -> Any:
        return _Operation.from_operation(operation, pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)


def decorate_once(app: AsyncApp) -> AsyncApp:
    """`app`, its operations decorated once (call before its first request)."""
    app._middleware_app.api_cls = _Api
    return app
