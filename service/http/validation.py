"""Connexion's validation, made exact and given one reading of each body.

Connexion's own JSON body validator decodes the body in whatever charset the request declares
and then hands the same bytes to the handler, which parses them again as UTF-8: two readings
that an attacker can make disagree. `ExactJSONBodyValidator` reads the body once
(`json_body.parse`), validates that object, and hands that same object to the handler (as
the Connexion context's `body`, which Connexion passes to a handler's `body` argument); the
application downstream receives no bytes at all. Its numbers are `Decimal`s checked with exact
arithmetic (jsonschema's float `multipleOf` misjudges 0.07). Its messages name the field and
the rule, and never echo a large value back.
"""

import json
import operator
import typing as t
from decimal import Decimal
from fractions import Fraction

from connexion.exceptions import NonConformingResponseBody, UnsupportedMediaTypeProblem
from connexion.json_schema import Draft4RequestValidator, Draft4ResponseValidator, allow_nullable
from connexion.utils import is_null, is_nullable
from connexion.validators import JSONRequestBodyValidator, JSONResponseBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, ValidationError, validators
from starlette.datastructures import MutableHeaders
from starlette.types import Receive, Scope

from ..domain.errors import InvalidEmail, InvalidInput
from . import json_body

# jsonschema's keyword functions: (validator, the keyword's value, the instance, the schema).
Check = t.Callable[[t.Any, t.Any, t.Any, dict[str, t.Any]], t.Iterator[ValidationError]]


def _exact(number: object) -> Fraction:
    """A JSON number as the decimal it was written as. Fractions are exact at any magnitude
    (Decimal's 28 digits are not: 1e30 % 0.01 raises), and `str` of the schema's float 0.01
    is '0.01', where comparing with the float itself would see 0.01000000000000000020..."""
    return Fraction(str(number))


def _exact_multiple_of(
    validator: t.Any, multiple_of: t.Any, instance: t.Any, schema: dict[str, t.Any]
) -> t.Iterator[ValidationError]:
    if validator.is_type(instance, "number") and _exact(instance) % _exact(multiple_of) != 0:
        yield ValidationError(f"{instance!r} is not a multiple of {multiple_of}")


def _exact_bound(keyword: str, beyond: t.Callable[[Fraction, Fraction], bool], words: str) -> Check:
    """jsonschema's draft-4 `minimum`/`maximum` (with their boolean `exclusive…` flags)."""

    def check(validator: t.Any, bound: t.Any, instance: t.Any, schema: dict[str, t.Any]) -> t.Iterator[ValidationError]:
        if not validator.is_type(instance, "number"):
            return
        value, limit = _exact(instance), _exact(bound)
        if beyond(value, limit) or (schema.get(keyword, False) and value == limit):
            yield ValidationError(f"{instance!r} is {words} of {bound}")

    return check


_EXACT_NUMBERS = {
    "multipleOf": _exact_multiple_of,
    "minimum": _exact_bound("exclusiveMinimum", operator.lt, "less than the minimum"),
    "maximum": _exact_bound("exclusiveMaximum", operator.gt, "greater than the maximum"),
}


_RULES = {
    "minimum": "must be at least {rule}",
    "maximum": "must be at most {rule}",
    "exclusiveMinimum": "must be more than {rule}",
    "multipleOf": "must be a multiple of {rule}",
    "minLength": "must be at least {rule} characters long",
    "maxLength": "must be at most {rule} characters long",
    "minItems": "must have at least {rule} items",
    "maxItems": "must have at most {rule} items",
    "pattern": "must match {rule}",
    "enum": "must be one of {rule}",
    "format": "must be a valid {rule}",
    "type": "must be of type {rule}",
}


def describe(error: ValidationError, name: str = "") -> str:
    """A short message naming the field and the rule, without echoing the value."""
    field = ".".join(([name] if name else []) + [str(part) for part in error.absolute_path])
    template = _RULES.get(error.validator)
    if template is None:  # required, additionalProperties: jsonschema's text names the key
        return str(error.message)
    return f"'{field or 'body'}' {template.format(rule=error.validator_value)}."


def _invalid(error: ValidationError) -> InvalidInput:
    field = ".".join(str(part) for part in error.absolute_path) or None
    # A string that breaks the Email rule is `INVALID_EMAIL`, as the domain says too.
    malformed_email = error.schema.get("format") == "email" and error.validator != "type"
    kind = InvalidEmail if malformed_email else InvalidInput
    return kind(describe(error), {"field": field, "rule": error.validator})


def _error_order(error: ValidationError) -> tuple[int, str]:
    """Report the shallowest error first, so the message names the field the client sent."""
    return (len(error.absolute_path), str(error.absolute_path))


# `nullable: true` beside `allOf: [$ref]` is how the contract makes a referenced schema
# nullable (generated clients read it so); Connexion honours `nullable` only beside `type`
# and `enum`, so null would fail the referenced schema's `type`.
_NULLABLE_ALL_OF = {"allOf": allow_nullable(Draft4Validator.VALIDATORS["allOf"])}
ExactRequestValidator = validators.extend(Draft4RequestValidator, {**_EXACT_NUMBERS, **_NULLABLE_ALL_OF})
ExactResponseValidator = validators.extend(Draft4ResponseValidator, {**_EXACT_NUMBERS, **_NULLABLE_ALL_OF})
_BUILT: dict[tuple[int, int], tuple[t.Any, t.Any]] = {}  # (class, schema) ids: (schema, validator)


def built(validator_class: t.Any, schema: dict[str, t.Any]) -> t.Any:
    """The jsonschema validator of `schema`, built once. Connexion asks for one on every
    request, and building it (its reference resolver included) costs more than most of the
    validations it does. An entry keeps its schema, so the id stays that schema's; a process
    that builds many apps (the tests) starts over now and then."""
    key = (id(validator_class), id(schema))
    if key not in _BUILT:
        if len(_BUILT) >= 1024:
            _BUILT.clear()
        _BUILT[key] = (schema, validator_class(schema, format_checker=Draft4Validator.FORMAT_CHECKER))
    return _BUILT[key][1]


class ExactJSONBodyValidator(JSONRequestBodyValidator):
    @property
    def _validator(self) -> t.Any:
        return built(ExactRequestValidator, self._schema)

    def _validate(self, body: t.Any) -> None:
        error = next(iter(sorted(self._validator.iter_errors(body), key=_error_order)), None)
        if error is not None:
            raise _invalid(error)

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        headers = MutableHeaders(scope=scope)
        content_type = headers.get("content-type")
        raw = await _read_all(receive)  # bounded by the size limit middleware
        if content_type is None and (raw or self._required):
            raise UnsupportedMediaTypeProblem(detail="The request body must be sent as application/json.")
        try:
            json_body.require_utf8(content_type or "")
        except json_body.UnsupportedCharset as exc:
            raise UnsupportedMediaTypeProblem(
                detail=f"JSON request bodies must be UTF-8 (RFC 8259), not charset={exc}."
            ) from None
        body = json_body.parse(raw)
        if raw:
            # Whatever document the bytes hold, `null` included: only no bytes is no body.
            self._validate(body)
        elif self._required:
            raise InvalidInput("The request body must not be empty.")
        scope.setdefault("extensions", {}).setdefault("connexion_context", {})["body"] = body
        headers["content-length"] = "0"
        nothing = {"type": "http.request", "body": b"", "more_body": False}
        return self._insert_messages(receive, messages=[nothing]), scope


async def _read_all(receive: Receive) -> bytes:
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


class ExactJSONResponseValidator(JSONResponseBodyValidator):
    """Checks what handlers return with the same exact arithmetic (tests and staging)."""

    @property
    def validator(self) -> t.Any:
        return built(ExactResponseValidator, self._schema)

    def _parse(self, stream: t.Generator[bytes, None, None]) -> t.Any:
        body = b"".join(stream).decode(self._encoding)
        try:
            return json.loads(body, parse_float=Decimal) if body else None
        except json.JSONDecodeError as exc:
            raise NonConformingResponseBody(str(exc)) from None


class ConciseParameterValidator(ParameterValidator):
    """Connexion's parameter checks, with messages that do not dump the schema."""

    @staticmethod
    def validate_parameter(
        parameter_type: str, value: t.Any, param: dict[str, t.Any], param_name: str | None = None
    ) -> str | None:
        if value is None:
            if param.get("required"):
                return f"Missing {parameter_type} parameter '{param['name']}'."
            return None
        if is_nullable(param) and is_null(value):
            return None
        error = next(iter(built(Draft4Validator, param.get("schema", param)).iter_errors(value)), None)
        return describe(error, param["name"]) if error else None
