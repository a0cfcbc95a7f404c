"""Plain Python values on a low-level DynamoDB client: its item operations take and return
`str`, `Decimal`, `bool`, `dict`, ... and `boto3.dynamodb.conditions` objects, as the boto3
resource's client does, at a fraction of the cost.

The resource converts by walking each operation's botocore shape model on every call, after a
deep copy of the parameters, and its `Table` objects are classes built per call: together
about a third of the client CPU per request here. These converters know where the DynamoDB
operations the store uses carry attribute values, and build new values instead of changing
the caller's. They hang on the client's own events (after botocore's Stubber, which tests use
to check plain parameters), so whoever calls the client gets plain values, and whoever listens
to its events sees every call. Errors keep DynamoDB JSON, as with the resource: `aws.plain()`
reads the items they carry. Other operations pass through unchanged.
"""

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import ConditionBase, ConditionExpressionBuilder
from boto3.dynamodb.types import DYNAMODB_CONTEXT, Binary

Item = dict[str, Any]


def _number(value: int | Decimal) -> dict[str, str]:
    """As boto3 writes numbers: exactly (38 digits at most) or not at all, never NaN or Infinity."""
    text = str(DYNAMODB_CONTEXT.create_decimal(value))
    if text in ("Infinity", "-Infinity", "NaN", "sNaN"):
        raise TypeError("Infinity and NaN not supported")
    return {"N": text}


def encode(value: Any) -> dict[str, Any]:
    """One attribute value in DynamoDB JSON (the types boto3's `TypeSerializer` accepts)."""
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | Decimal):
        return _number(value)
    if value is None:
        return {"NULL": True}
    if isinstance(value, Mapping):
        return {"M": {key: encode(item) for key, item in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [encode(item) for item in value]}
    if isinstance(value, bytes | bytearray | Binary):
        return {"B": value.value if isinstance(value, Binary) else bytes(value)}
    if isinstance(value, set | frozenset) and value:
        members = [encode(item) for item in value]
        kind = next(iter(members[0]))
        if kind in ("S", "N", "B") and all(kind in member for member in members):
            return {kind + "S": [member[kind] for member in members]}
    if isinstance(value, float):
        raise TypeError("Float types are not supported. Use Decimal types instead.")
    raise TypeError(f"Unsupported type {type(value)} for value {value!r}")


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "S": str,
    "N": DYNAMODB_CONTEXT.create_decimal,
    "BOOL": bool,
    "NULL": lambda _: None,
    "B": Binary,
    "M": lambda value: {key: decode(item) for key, item in value.items()},
    "L": lambda value: [decode(item) for item in value],
    "SS": set,
    "NS": lambda value: {DYNAMODB_CONTEXT.create_decimal(number) for number in value},
    "BS": lambda value: {Binary(blob) for blob in value},
}


def decode(value: dict[str, Any]) -> Any:
    """One attribute value from DynamoDB JSON (as boto3's `TypeDeserializer` reads it)."""
    [(kind, raw)] = value.items()
    return _DECODERS[kind](raw)


def encode_item(item: Mapping[str, Any]) -> Item:
    return {name: encode(value) for name, value in item.items()}


def decode_item(item: Mapping[str, Any]) -> Item:
    return {name: decode(value) for name, value in item.items()}


def _items(items: list[Item]) -> list[Item]:
    return [decode_item(item) for item in items]


_ITEM_FIELDS = ("Key", "Item", "ExpressionAttributeValues", "ExclusiveStartKey")
_CONDITION_FIELDS = {"ConditionExpression": False, "FilterExpression": False, "KeyConditionExpression": True}
_SINGLE = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan")


def _encode_request(request: dict[str, Any]) -> dict[str, Any]:
    """The attribute values of one request (or one item of a transaction) in DynamoDB JSON."""
    return {name: encode_item(value) if name in _ITEM_FIELDS else value for name, value in request.items()}


def _expand_conditions(params: dict[str, Any]) -> None:
    """Condition objects (`Key("id").eq(...)`) as expressions with their placeholders."""
    builder = ConditionExpressionBuilder()
    for field, is_key in _CONDITION_FIELDS.items():
        condition = params.get(field)
        if isinstance(condition, ConditionBase):
            built = builder.build_expression(condition, is_key_condition=is_key)
            params[field] = built.condition_expression
            for placeholders, generated in (
                ("ExpressionAttributeNames", built.attribute_name_placeholders),
                ("ExpressionAttributeValues", built.attribute_value_placeholders),
            ):
                if generated:
                    params[placeholders] = {**params.get(placeholders, {}), **generated}


def to_wire(params: dict[str, Any], model: Any, **_: Any) -> None:
    """`before-parameter-build`: plain values to DynamoDB JSON. `params` is botocore's own
    dict of the call's keyword arguments, so only its top level is replaced; whatever the
    caller passed inside it stays as it was."""
    operation = model.name
    if operation in _SINGLE:
        _expand_conditions(params)
        params.update(_encode_request(params))
    elif operation == "TransactWriteItems":
        params["TransactItems"] = [
            {kind: _encode_request(request) for kind, request in item.items()} for item in params["TransactItems"]
        ]
    elif operation == "BatchGetItem":
        params["RequestItems"] = {
            table: {**request, "Keys": [encode_item(key) for key in request["Keys"]]}
            for table, request in params["RequestItems"].items()
        }


_RESPONSES: dict[str, dict[str, Callable[[Any], Any]]] = {
    "GetItem": {"Item": decode_item},
    "PutItem": {"Attributes": decode_item},
    "UpdateItem": {"Attributes": decode_item},
    "DeleteItem": {"Attributes": decode_item},
    "Query": {"Items": _items, "LastEvaluatedKey": decode_item},
    "Scan": {"Items": _items, "LastEvaluatedKey": decode_item},
    "BatchGetItem": {
        "Responses": lambda found: {table: _items(items) for table, items in found.items()},
        "UnprocessedKeys": lambda left: {
            table: {**request, "Keys": _items(request["Keys"])} for table, request in left.items()
        },
    },
}


def from_wire(parsed: dict[str, Any], model: Any, http_response: Any, **_: Any) -> None:
    """`after-call`: a successful response's items as plain values."""
    if http_response.status_code >= 300:
        return
    for field, convert in _RESPONSES.get(model.name, {}).items():
        if field in parsed:
            parsed[field] = convert(parsed[field])


def plain_values(client: Any) -> Any:
    """`client` (a low-level DynamoDB client), taking and giving plain values from now on."""
    client.meta.events.register("before-parameter-build.dynamodb", to_wire, unique_id="plain-values-in")
    client.meta.events.register("after-call.dynamodb", from_wire, unique_id="plain-values-out")
    return client
