"""Connexion's JSON body validation, made exact and robust.

Connexion's own validator parses numbers as floats, so `multipleOf: 0.01` misjudges
amounts such as 0.07 (0.07 / 0.01 is 7.000000000000001); it lets `NaN` and `Infinity`
through; it answers a body that is not UTF-8 with a 500; and it treats a body sent
without `Content-Length` (chunked, or from some gateways) as missing. This validator
parses numbers as `Decimal` (and refuses absurd literals), refuses the non-finite constants
and strings that are not valid Unicode, answers undecodable bodies
with a 400, measures bodies that arrive without a length, and refuses a body with no
Content-Type. Its messages name the field
and the rule, and never echo a large value back.
"""

import json
import operator
import typing as t
from decimal import Decimal
from fractions import Fraction

from connexion.exceptions import BadRequestProblem, UnsupportedMediaTypeProblem

from .domain.errors import InvalidEmail, InvalidInput
from connexion.exceptions import NonConformingResponseBody
from connexion.json_schema import Draft4RequestValidator, Draft4ResponseValidator
from connexion.utils import is_null, is_nullable
from connexion.validators import JSONRequestBodyValidator, JSONResponseBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, ValidationError, validators
from starlette.datastructures import MutableHeaders
from starlette.types import Receive, Scope


def _exact(number) -> Fraction:
    """A JSON number as the decimal it was written as. Fractions are exact at any magnitude
    (Decimal's 28 digits are not: 1e30 % 0.01 raises), and `str` of the schema's float 0.01
    is '0.01', where comparing with the float itself would see 0.01000000000000000020..."""
    return Fraction(str(number))


def _exact_multiple_of(validator, multiple_of, instance, schema):
    if validator.is_type(instance, "number") and _exact(instance) % _exact(multiple_of) != 0:
        yield ValidationError(f"{instance!r} is not a multiple of {multiple_of}")


def _exact_bound(keyword: str, beyond, words: str):
    """jsonschema's draft-4 `minimum`/`maximum` (with their boolean `exclusive…` flags)."""

    def check(validator, bound, instance, schema):
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
        return error.message
    return f"'{field or 'body'}' {template.format(rule=error.validator_value)}."


def _invalid(error: ValidationError) -> InvalidInput:
    field = ".".join(str(part) for part in error.absolute_path) or None
    # A string that breaks the Email rule is the seed's INVALID_EMAIL, as the domain says too.
    malformed_email = error.schema.get("format") == "email" and error.validator != "type"
    kind = InvalidEmail if malformed_email else InvalidInput
    return kind(describe(error), {"field": field, "rule": error.validator})


def _refuse_constant(name: str) -> t.NoReturn:
    raise BadRequestProblem(detail=f"'{name}' is not a valid JSON number.")


# No figure in this API needs more; bounding literals keeps exact arithmetic cheap
# (1e2000000 would otherwise cost seconds of CPU) and big integers within Python's limits.
MAX_NUMBER_CHARS = 40
MAX_EXPONENT = 40


def _number(text: str) -> Decimal | int:
    """A JSON number literal, parsed exactly, or a 400 if it is absurdly long or large."""
    if len(text) > MAX_NUMBER_CHARS:
        raise BadRequestProblem(detail=f"Numbers may have at most {MAX_NUMBER_CHARS} characters.")
    number = Decimal(text)
    if abs(number.adjusted()) > MAX_EXPONENT:
        raise BadRequestProblem(detail="A number in the body is out of range.")
    return number if any(c in text for c in ".eE") else int(text)


def _check_text(value: t.Any) -> None:
    """JSON can escape lone surrogates (\\ud800), which are not text: refuse them here rather
    than fail later when they are hashed or stored."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequestProblem(detail="Strings must be valid Unicode text.") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


def _error_order(error: ValidationError) -> tuple:
    """Report the shallowest error first, so the message names the field the client sent."""
    return (len(error.absolute_path), str(error.absolute_path))


ExactRequestValidator = validators.extend(Draft4RequestValidator, _EXACT_NUMBERS)
ExactResponseValidator = validators.extend(Draft4ResponseValidator, _EXACT_NUMBERS)


class ExactJSONBodyValidator(JSONRequestBodyValidator):
    @property
    def _validator(self):
        return ExactRequestValidator(self._schema, format_checker=Draft4Validator.FORMAT_CHECKER)

    async def _parse(self, stream: t.AsyncGenerator[bytes, None], scope: Scope) -> t.Any:
        raw = b"".join([message async for message in stream])
        try:
            text = raw.decode(self._encoding)
        except (UnicodeDecodeError, LookupError):
            raise BadRequestProblem(detail=f"The body is not valid {self._encoding} text.") from None
        if not text:
            return None
        try:
            body = json.loads(text, parse_float=_number, parse_int=_number, parse_constant=_refuse_constant)
        except json.JSONDecodeError as exc:
            raise BadRequestProblem(detail=f"The body is not valid JSON: {exc}") from None
        except RecursionError:
            raise BadRequestProblem(detail="The body is nested too deeply.") from None
        _check_text(body)
        return body

    def _validate(self, body: t.Any) -> None:
        if body is None:
            raise InvalidInput("The request body must not be empty.")
        error = next(iter(sorted(self._validator.iter_errors(body), key=_error_order)), None)
        if error is not None:
            raise _invalid(error)

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        headers = MutableHeaders(scope=scope)
        if "content-type" not in headers:
            # Connexion would validate the body as JSON but hand the handler raw bytes.
            raise UnsupportedMediaTypeProblem(detail="The request body must be sent as application/json.")
        declared = headers.get("content-length")
        if declared is None or not declared.isdigit():
            # Buffer the body to learn its length; the size limit middleware bounds it.
            body = b""
            more = True
            while more:
                message = await receive()
                body += message.get("body", b"")
                more = message.get("more_body", False)
            headers["content-length"] = str(len(body))
            receive = self._insert_messages(
                receive, messages=[{"type": "http.request", "body": body, "more_body": False}]
            )
        return await super().wrap_receive(receive, scope=scope)


class ExactJSONResponseValidator(JSONResponseBodyValidator):
    """Checks what handlers return with the same exact arithmetic (tests and staging)."""

    @property
    def validator(self):
        return ExactResponseValidator(self._schema, format_checker=Draft4Validator.FORMAT_CHECKER)

    def _parse(self, stream: t.Generator[bytes, None, None]) -> t.Any:
        body = b"".join(stream).decode(self._encoding)
        try:
            return json.loads(body, parse_float=Decimal) if body else None
        except json.JSONDecodeError as exc:
            raise NonConformingResponseBody(str(exc)) from None


class ConciseParameterValidator(ParameterValidator):
    """Connexion's parameter checks, with messages that do not dump the schema."""

    @staticmethod
    def validate_parameter(parameter_type, value, param, param_name=None):
        if value is None:
            if param.get("required"):
                return f"Missing {parameter_type} parameter '{param['name']}'."
            return None
        if is_nullable(param) and is_null(value):
            return None
        error = next(iter(Draft4Validator(
            param.get("schema", param), format_checker=Draft4Validator.FORMAT_CHECKER
        ).iter_errors(value)), None)
        return describe(error, param["name"]) if error else None
