"""The local stack writes DynamoDB's attribute values into its responses exactly as moto's own
serializer does (devstack.moto_reads, fix 2), for every kind of value and every operation
that returns items or their images."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from moto.core.serialize import BaseJSONSerializer

from devstack import moto_reads
from devstack.aws import client

from local_stack_support import RANGED, ddb, scratch_table  # noqa: F401

EVERY_KIND = {
    "s": {"S": "text é ✓"},
    "blank": {"S": ""},
    "n": {"N": "-12.50"},
    "b": {"B": b"\x00\x01sealed\xff"},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "bs": {"BS": [b"\x00", b"\xfe\xff"]},
    "m": {"M": {"inner": {"M": {"deep": {"L": [{"N": "1"}, {"S": "x"}, {"NULL": True}]}}}, "empty": {"M": {}}}},
    "l": {"L": [{"BOOL": False}, {"BOOL": True}, {"L": []}, {"B": b"\x10"}]},
    "null": {"NULL": True},
    "yes": {"BOOL": True},
    "no": {"BOOL": False},
}


def responses(ddb: Any, streams: Any, name: str) -> list[Any]:
    key = {"pk": {"S": "p1"}, "sk": {"S": "s1"}}
    by_key = {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": key["pk"]}}
    found = [
        # The same update each round: the same answer, and one more stream record.
        ddb.update_item(
            TableName=name,
            Key=key,
            UpdateExpression="SET touched = :t",
            ExpressionAttributeValues={":t": {"BOOL": True}},
            ReturnValues="ALL_NEW",
        )["Attributes"],
        ddb.get_item(TableName=name, Key=key)["Item"],
        ddb.query(TableName=name, **by_key)["Items"],
        ddb.scan(TableName=name)["Items"],
        ddb.batch_get_item(RequestItems={name: {"Keys": [key]}})["Responses"][name],
        ddb.transact_get_items(TransactItems=[{"Get": {"TableName": name, "Key": key}}])["Responses"],
    ]
    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    return [*found, [record["dynamodb"] for record in records]]


def test_every_kind_of_value_comes_back_as_moto_writes_it(ddb, local_aws) -> None:
    streams = client("dynamodbstreams", local_aws.endpoint_url)
    stream = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}}
    with scratch_table(ddb, {**RANGED, **stream}) as name:
        ddb.put_item(TableName=name, Item={"pk": {"S": "p1"}, "sk": {"S": "s1"}, **EVERY_KIND})
        patched = responses(ddb, streams, name)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(BaseJSONSerializer, "_serialize_type_structure", moto_reads.STOCK_SERIALIZE_STRUCTURE)
            stock = responses(ddb, streams, name)

    assert {key: value for key, value in patched[0].items() if key in EVERY_KIND} == EVERY_KIND
    assert patched[:6] == stock[:6]
    # The stream's records of the put and the first update, as each serializer writes them.
    assert len(patched[6]) == 2 and patched[6] == stock[6][:2]


def test_a_value_of_a_shape_it_does_not_know_is_left_to_moto() -> None:
    class Serializer:
        def _base64(self, value: bytes) -> str:
            return base64.b64encode(value).decode()

    with pytest.raises(moto_reads._Unexpected):
        moto_reads._as_moto_writes(Serializer(), {"S": "a", "N": "1"})  # type: ignore[arg-type]
    with pytest.raises(moto_reads._Unexpected):
        moto_reads._as_moto_writes(Serializer(), {"M": {"x": {"S": None}}})  # type: ignore[arg-type]
