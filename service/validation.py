"""Connexion's JSON body validation, made exact and robust.

Connexion's own validator parses numbers as floats, so `multipleOf: 0.01` misjudges
amounts such as 0.07 (0.07 / 0.01 is 7.000000000000001); it lets `NaN` and `Infinity`
through; it answers a body that is not UTF-8 with a 500; and it treats a body sent
without `Content-Length` (chunked, or from some gateways) as missing. This validator
parses numbers as `Decimal`, refuses the non-finite constants, answers undecodable bodies
with a 400, and measures bodies that arrive without a length.
"""

import json
import typing as t
from decimal import Decimal

from connexion.exceptions import BadRequestProblem
from connexion.json_schema import Draft4RequestValidator
from connexion.validators import JSONRequestBodyValidator
from jsonschema import Draft4Validator, ValidationError, validators
from starlette.datastructures import MutableHeaders
from starlette.types import Receive, Scope


def _exact_multiple_of(validator, multiple_of, instance, schema):
    if not validator.is_type(instance, "number"):
        return
    if Decimal(str(instance)) % Decimal(str(multiple_of)) != 0:
        yield ValidationError(f"{instance!r} is not a multiple of {multiple_of}")


def _refuse_constant(name: str) -> t.NoReturn:
    raise BadRequestProblem(detail=f"'{name}' is not a valid JSON number.")


ExactRequestValidator = validators.extend(
    Draft4RequestValidator, {"multipleOf": _exact_multiple_of}
)


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
            return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
        except json.JSONDecodeError as exc:
            raise BadRequestProblem(detail=f"The body is not valid JSON: {exc}") from None
        except RecursionError:
            raise BadRequestProblem(detail="The body is nested too deeply.") from None

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        headers = MutableHeaders(scope=scope)
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
