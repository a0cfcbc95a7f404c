"""Helpers for the tests of devstack.moto_patches: scratch tables with secondary indexes in the
shared local stack (deleted afterwards, so the database stack's own tests still see only its
tables), items and operations on them, a view of a table's whole state through the API, and
the live moto backend. Not a conftest, so `from conftest import ...` keeps its meaning."""

from __future__ import annotations

import gc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.model_instances import model_data
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends

from devstack.aws import REGION, client

# A hash-key table with two GSIs, and a hash + range table with one.
HASHED = {
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "AttributeDefinitions": [
        {"AttributeName": n, "AttributeType": t} for n, t in (("pk", "S"), ("grp", "S"), ("rank", "N"), ("state", "S"))
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "grp-index",
            "KeySchema": [{"AttributeName": "grp", "KeyType": "HASH"}, {"AttributeName": "rank", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        },
        {
            "IndexName": "state-index",
            "KeySchema": [{"AttributeName": "state", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        },
    ],
}
RANGED = {
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "owner")],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "owner-index",
            "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        },
    ],
}
# Every GSI hash value the tests write: querying each of them shows every index entry.
INDEX_VALUES = {
    "grp-index": ("grp", [f"g{i}" for i in range(4)]),
    "state-index": ("state", ["open", "closed"]),
    "owner-index": ("owner", [f"o{i}" for i in range(10)]),
}
NAMES = {"#g": "grp", "#r": "rank", "#s": "state", "#o": "owner"}  # for expressions


@pytest.fixture(scope="module")
def ddb(local_aws: Any) -> Any:
    return client("dynamodb", local_aws.endpoint_url)


@contextmanager
def scratch_table(ddb: Any, shape: dict[str, Any]) -> Iterator[str]:
    name = f"scratch-{uuid.uuid4().hex[:12]}"
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **shape)
    try:
        yield name
    finally:
        ddb.delete_table(TableName=name)


def s(value: str) -> dict[str, str]:
    return {"S": value}


def hashed_item(i: int | str, grp: str, rank: int, status: str = "open") -> dict[str, Any]:
    return {"pk": s(f"h{i}"), "grp": s(grp), "rank": {"N": str(rank)}, "state": s(status)}


def ranged_item(p: int | str, k: int, owner: str) -> dict[str, Any]:
    return {"pk": s(f"p{p}"), "sk": s(f"s{k}"), "owner": s(owner)}


def condition(table: str, pk: str, holds: bool) -> dict[str, Any]:
    expression = "attribute_exists(pk)" if holds else "attribute_not_exists(pk)"
    return {"ConditionCheck": {"TableName": table, "Key": {"pk": s(pk)}, "ConditionExpression": expression}}


def update(table: str, key: dict[str, Any], expression: str, values: dict[str, Any]) -> dict[str, Any]:
    names = {k: v for k, v in NAMES.items() if k in expression}
    return {
        "Update": {
            "TableName": table,
            "Key": key,
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def fill(ddb: Any, name: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        ddb.batch_write_item(
            RequestItems={name: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
        )


def state(ddb: Any, *names: str) -> dict[str, Any]:
    """Each table's items (a consistent scan) and every entry of each of its GSIs, in order."""
    view: dict[str, Any] = {}
    for name in names:
        view[name] = ddb.scan(TableName=name, ConsistentRead=True)["Items"]
        for index in ddb.describe_table(TableName=name)["Table"].get("GlobalSecondaryIndexes", []):
            attribute, values = INDEX_VALUES[index["IndexName"]]
            for value in values:
                view[f"{name}/{index['IndexName']}/{value}"] = ddb.query(
                    TableName=name,
                    IndexName=index["IndexName"],
                    KeyConditionExpression="#a = :v",
                    ExpressionAttributeNames={"#a": attribute},
                    ExpressionAttributeValues={":v": {"S": value}},
                )["Items"]
    return view


def backend() -> DynamoDBBackend:
    """The DynamoDB backend the in-process local stack serves."""
    return dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]


def tracked_instances() -> int:
    """How many model instances moto's registries hold (after a collection)."""
    gc.collect()
    return sum(len(cls.instances_tracked) for models in model_data.values() for cls in models.values())
