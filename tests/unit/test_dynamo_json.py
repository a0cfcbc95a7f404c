"""The store's plain-value converters give DynamoDB exactly what the boto3 resource's client
would, and read its answers the same way; they never change what the caller passed."""

import copy
from decimal import Decimal
from enum import StrEnum
from types import SimpleNamespace

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.transform import TransformationInjector
from boto3.dynamodb.types import Binary

from service.store.dynamo_json import decode, encode, from_wire, to_wire

MODEL = boto3.client("dynamodb", region_name="us-east-1").meta.service_model


class Status(StrEnum):
    PENDING = "PENDING"


ITEM = {
    "id": "u1",
    "amount": Decimal("1250.50"),
    "count": 3,
    "negative": Decimal("-0.01"),
    "big": Decimal("12345678901234567890123456789012345678"),
    "status": Status.PENDING,
    "flag": True,
    "nothing": None,
    "blob": b"\x00\x01sealed",
    "nested": {"list": [1, "two", {"three": False}], "empty": {}},
    "tags": {"a", "b"},
    "numbers": {Decimal(1), Decimal("2.5")},
    "blobs": {b"x", b"y"},
}

REQUESTS = [
    ("GetItem", {"TableName": "t", "Key": {"id": "u1"}, "ConsistentRead": True}),
    ("PutItem", {"TableName": "t", "Item": ITEM, "ConditionExpression": "attribute_not_exists(id)"}),
    (
        "UpdateItem",
        {
            "TableName": "t",
            "Key": {"id": "u1"},
            "UpdateExpression": "ADD attempts :one",
            "ConditionExpression": Attr("attempts").lt(5) & Attr("window").gt(Decimal("1.5")),
            "ExpressionAttributeValues": {":one": 1},
            "ReturnValues": "ALL_NEW",
        },
    ),
    ("DeleteItem", {"TableName": "t", "Key": {"id": "u1"}, "ConditionExpression": Attr("owner").eq("me")}),
    (
        "Query",
        {
            "TableName": "t",
            "IndexName": "by-status",
            "KeyConditionExpression": Key("lender_id").eq("l1") & Key("status").eq(Status.PENDING),
            "FilterExpression": Attr("amount").between(1, 10),
            "ExclusiveStartKey": {"id": "u1", "lender_id": "l1"},
            "ExpressionAttributeNames": {"#x": "x"},
        },
    ),
    ("Scan", {"TableName": "t", "FilterExpression": Attr("email").exists()}),
    (
        "BatchGetItem",
        {"RequestItems": {"t": {"Keys": [{"id": "a"}, {"id": "b"}], "ConsistentRead": True}, "u": {"Keys": []}}},
    ),
    (
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": "t", "Item": ITEM, "ConditionExpression": "attribute_not_exists(id)"}},
                {
                    "Update": {
                        "TableName": "t",
                        "Key": {"id": "u1"},
                        "UpdateExpression": "SET #status = :s",
                        "ConditionExpression": "remaining > :n",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": {":s": Status.PENDING, ":n": Decimal("70")},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {"Delete": {"TableName": "t", "Key": {"id": "u2"}}},
                {"ConditionCheck": {"TableName": "t", "Key": {"id": "u3"}, "ConditionExpression": "x = :x",
                                    "ExpressionAttributeValues": {":x": "y"}}},
            ],
            "ClientRequestToken": "token",
        },
    ),
]  # fmt: skip


def boto3_resource_way(operation: str, params: dict) -> dict:
    model, injector, params = MODEL.operation_model(operation), TransformationInjector(), copy.deepcopy(params)
    injector.inject_condition_expressions(params, model)
    injector.inject_attribute_value_input(params, model)
    return params


@pytest.mark.parametrize(("operation", "params"), REQUESTS, ids=[r[0] for r in REQUESTS])
def test_requests_are_what_the_resource_would_send_and_the_callers_stay_as_they_were(operation, params):
    before = copy.deepcopy(params)
    sent = dict(params)  # botocore's own dict of the call's keyword arguments
    to_wire(sent, MODEL.operation_model(operation))
    assert sent == boto3_resource_way(operation, params)
    assert params == before


WIRE_ITEM = boto3_resource_way("PutItem", {"TableName": "t", "Item": ITEM})["Item"]
RESPONSES = [
    ("GetItem", {"Item": WIRE_ITEM}),
    ("UpdateItem", {"Attributes": WIRE_ITEM}),
    ("Query", {"Items": [WIRE_ITEM, {**WIRE_ITEM}], "Count": 2, "LastEvaluatedKey": {"id": {"S": "u1"}}}),
    ("Scan", {"Items": []}),
    (
        "BatchGetItem",
        {
            "Responses": {"t": [WIRE_ITEM]},
            "UnprocessedKeys": {"t": {"Keys": [{"id": {"S": "b"}}], "ConsistentRead": True}},
        },
    ),
    ("TransactWriteItems", {}),
]


@pytest.mark.parametrize(("operation", "parsed"), RESPONSES, ids=[r[0] for r in RESPONSES])
def test_answers_read_as_the_resource_reads_them(operation, parsed):
    model, expected, mine = MODEL.operation_model(operation), copy.deepcopy(parsed), copy.deepcopy(parsed)
    TransformationInjector().inject_attribute_value_output(expected, model)
    from_wire(mine, model, SimpleNamespace(status_code=200))
    assert mine == expected


def test_errors_keep_dynamodb_json_for_plain_to_read():
    parsed = {"Error": {"Code": "ConditionalCheckFailedException"}, "Item": WIRE_ITEM}
    from_wire(parsed, MODEL.operation_model("UpdateItem"), SimpleNamespace(status_code=400))
    assert parsed["Item"] == WIRE_ITEM


def test_values_round_trip_with_their_types():
    for value in ITEM.values():
        back = decode(encode(value))
        assert back == (Binary(value) if isinstance(value, bytes) else value)
    assert isinstance(decode(encode(3)), Decimal)


@pytest.mark.parametrize(
    "value", [1.5, Decimal("NaN"), Decimal("Infinity"), Decimal("1.000000000000000000000000000000000000001"), object()]
)
def test_what_dynamodb_cannot_hold_exactly_is_refused(value):
    with pytest.raises((TypeError, ArithmeticError)):
        encode(value)
