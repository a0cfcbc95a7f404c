"""The one reading of a JSON request body: UTF-8 bytes to one Python object.

The object this returns is what the schema validates and what the handler receives; nothing
else parses the body. So the reading is strict wherever two readers could disagree:
- JSON bodies are UTF-8 (RFC 8259 §8.1); a declared charset other than UTF-8 is refused
  (415), never decoded, since a second decoding is how a value could pass one reader and
  reach another;
- an object may name a key once (a parser that keeps the last of two and one that keeps the
  first see different requests);
- numbers are exact (`Decimal`, or `int`) and bounded in size; NaN and Infinity are not JSON;
- strings must be Unicode text (JSON can escape lone surrogates such as `\\ud800`);
- nesting is bounded, checked without recursion, so no input reaches a RecursionError.
"""

import json
from collections import Counter
from decimal import Decimal
from typing import Any, NoReturn

from ..domain.errors import InvalidInput

# No figure in this API needs more; bounding literals keeps exact arithmetic cheap
# (1e2000000 would otherwise cost seconds of CPU) and big integers within Python's limits.
MAX_NUMBER_CHARS = 40
MAX_EXPONENT = 40
# The deepest body the contract defines is three levels (a loan's lenders' entries).
MAX_DEPTH = 16


class UnsupportedCharset(Exception):
    """The body declares a charset other than UTF-8."""


def declared_charsets(content_type: str) -> list[str]:
    """The `charset` parameters of a Content-Type header, lower case, quotes removed."""
    _, _, parameters = content_type.partition(";")
    found = []
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            found.append(value.strip().strip('"').strip().lower())
    return found


def require_utf8(content_type: str) -> None:
    """Refuse any declared charset but UTF-8 (in any letter case), and more than one."""
    charsets = declared_charsets(content_type)
    if len(charsets) > 1 or any(charset != "utf-8" for charset in charsets):
        raise UnsupportedCharset(", ".join(charsets))


def _number(text: str) -> Decimal | int:
    """A JSON number literal, parsed exactly, or a 400 if it is absurdly long or large."""
    if len(text) > MAX_NUMBER_CHARS:
        raise InvalidInput(f"Numbers may have at most {MAX_NUMBER_CHARS} characters.")
    number = Decimal(text)
    if abs(number.adjusted()) > MAX_EXPONENT:
        raise InvalidInput("A number in the body is out of range.")
    return number if any(c in text for c in ".eE") else int(text)


def _not_a_number(name: str) -> NoReturn:
    raise InvalidInput(f"'{name}' is not a valid JSON number.")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        counts = Counter(key for key, _ in pairs)
        repeated = sorted(key for key, count in counts.items() if count > 1)
        raise InvalidInput(
            "The body names a key more than once (duplicate keys are ambiguous).",
            {"duplicate_keys": repeated[:10]},
        )
    return obj


def _check_text_and_depth(document: Any) -> None:
    """Every string is valid Unicode and nothing is nested deeper than MAX_DEPTH."""
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise InvalidInput(f"The body is nested more than {MAX_DEPTH} levels deep.")
        if isinstance(value, dict):
            pending.extend((key, depth) for key in value)
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidInput("Strings must be valid Unicode text.") from None


def parse(raw: bytes) -> Any:
    """The body as one object, or None if it is empty; `InvalidInput` when it is not JSON
    this API reads."""
    if not raw:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("The body is not valid UTF-8 text.") from None
    try:
        document = json.loads(
            text,
            parse_float=_number,
            parse_int=_number,
            parse_constant=_not_a_number,
            object_pairs_hook=_object,
        )
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"The body is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidInput(f"The body is nested more than {MAX_DEPTH} levels deep.") from None
    _check_text_and_depth(document)
    return document
