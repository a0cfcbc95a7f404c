"""TransactWriteItems on the local stack, with devstack.moto_patches: still all or nothing,
items and GSIs alike, and refused in moto's own words (its errors and CancellationReasons)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import DynamoDBBackend

from devstack import moto_patches
from devstack.aws import client

from local_stack_support import (  # noqa: F401 (ddb is a fixture)
    HASHED,
    RANGED,
    backend,
    condition,
    ddb,
    fill,
    hashed_item,
    ranged_item,
    s,
    scratch_table,
    state,
    update,
)


def two_tables(h: str, r: str, last_holds: bool) -> list[dict[str, Any]]:
    """Puts (new and overwriting), updates and deletes on both tables, GSI keys changing."""
    return [
        {
            "Put": {
                "TableName": h,
                "Item": hashed_item("new", "g0", 99),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {"Put": {"TableName": h, "Item": hashed_item(1, "g3", 1, "closed")}},
        update(
            h,
            {"pk": s("h2")},
            "SET #s = :c, #g = :g, #r = #r + :one",
            {":c": s("closed"), ":g": s("g3"), ":one": {"N": "1"}},
        ),
        {"Delete": {"TableName": h, "Key": {"pk": s("h3")}, "ConditionExpression": "attribute_exists(pk)"}},
        {"Put": {"TableName": r, "Item": ranged_item("new", 0, "o9")}},
        update(r, {"pk": s("p0"), "sk": s("s1")}, "SET #o = :o", {":o": s("o9")}),
        {"Delete": {"TableName": r, "Key": {"pk": s("p1"), "sk": s("s2")}}},
        condition(h, "h4", last_holds),
    ]


def one_table(h: str, r: str, last_holds: bool) -> list[dict[str, Any]]:
    return [
        update(h, {"pk": s("h5")}, "SET #g = :g", {":g": s("g3")}),
        {"Delete": {"TableName": h, "Key": {"pk": s("h6")}}},
        condition(h, "h7", last_holds),
    ]


@pytest.fixture
def tables(ddb):
    with scratch_table(ddb, HASHED) as h, scratch_table(ddb, RANGED) as r:
        fill(ddb, h, [hashed_item(i, f"g{i % 3}", i) for i in range(10)])
        fill(ddb, r, [ranged_item(p, k, f"o{3 * p + k}") for p in range(3) for k in range(3)])
        yield h, r


def hash_key_entries(*names: str) -> dict[str, set]:
    """moto's per-hash-key entries (a missed lookup could leave an empty one behind)."""
    return {name: set(backend().get_table(name).items) for name in names}


@pytest.mark.parametrize("operations", [two_tables, one_table])
def test_a_transaction_whose_last_condition_fails_changes_nothing(ddb, tables, operations) -> None:
    before, entries = state(ddb, *tables), hash_key_entries(*tables)
    transaction = operations(*tables, last_holds=False)

    with pytest.raises(ddb.exceptions.TransactionCanceledException) as cancelled:
        ddb.transact_write_items(TransactItems=transaction)

    codes = [reason["Code"] for reason in cancelled.value.response["CancellationReasons"]]
    assert codes == ["None"] * (len(transaction) - 1) + ["ConditionalCheckFailed"]
    assert state(ddb, *tables) == before
    assert hash_key_entries(*tables) == entries


def test_on_a_table_with_a_stream_a_cancelled_transaction_leaves_no_records(ddb) -> None:
    """Stream records are table state too: a cancelled transaction takes back those it added,
    and a committed one keeps them."""
    with scratch_table(
        ddb, {**HASHED, "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}}
    ) as name:
        fill(ddb, name, [hashed_item(i, "g0", i) for i in range(10)])
        before, records = state(ddb, name), len(backend().get_table(name).stream_shard.items)
        with pytest.raises(ddb.exceptions.TransactionCanceledException):
            ddb.transact_write_items(TransactItems=one_table(name, "", last_holds=False))
        assert state(ddb, name) == before
        assert len(backend().get_table(name).stream_shard.items) == records == 10
        ddb.transact_write_items(TransactItems=one_table(name, "", last_holds=True))
        assert len(backend().get_table(name).stream_shard.items) > records


def test_a_stream_mapped_to_a_function_keeps_its_records_for_its_readers(ddb, local_aws) -> None:
    """moto would hand each record to the mapped function (in a container the local stack does
    not have) and then drop the shard's records; here they stay, for the stream's readers
    (devstack.workers), as on DynamoDB."""
    stream = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}}
    lambdas, iam = client("lambda", local_aws.endpoint_url), client("iam", local_aws.endpoint_url)
    with scratch_table(ddb, {**HASHED, **stream}) as name:
        role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        function = lambdas.create_function(
            FunctionName=f"{name}-reader",
            Runtime="python3.11",
            Role=role,
            Handler="reader.handler",
            Code={"ZipFile": archive({"reader.py": "def handler(event, context):\n    return {}\n"})},
        )["FunctionName"]
        stream_arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
        lambdas.create_event_source_mapping(
            EventSourceArn=stream_arn, FunctionName=function, StartingPosition="TRIM_HORIZON"
        )
        fill(ddb, name, [hashed_item(i, "g0", i) for i in range(3)])
        ddb.transact_write_items(TransactItems=[update(name, {"pk": s("h0")}, "SET #g = :g", {":g": s("g1")})])
        assert backend().get_table(name).lambda_event_source_mappings  # the mapping is there
        streams = client("dynamodbstreams", local_aws.endpoint_url)
        [shard] = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records = streams.get_records(ShardIterator=iterator)["Records"]
        assert [record["eventName"] for record in records] == ["INSERT"] * 3 + ["MODIFY"]
        lambdas.delete_function(FunctionName=function)


def archive(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for path, text in files.items():
            zipped.writestr(path, text)
    return buffer.getvalue()


def keys(items: list[dict[str, Any]]) -> list[str]:
    return [item["pk"]["S"] + "/" + item.get("sk", {}).get("S", "") for item in items]


def test_a_transaction_whose_conditions_hold_applies_everything(ddb, tables) -> None:
    h, r = tables
    ddb.transact_write_items(TransactItems=two_tables(h, r, last_holds=True))

    after = state(ddb, h, r)
    by_key = {key: item for key, item in zip(keys(after[h]), after[h], strict=False)}
    assert by_key["hnew/"] == hashed_item("new", "g0", 99)
    assert by_key["h1/"] == hashed_item(1, "g3", 1, "closed")
    assert by_key["h2/"] == hashed_item(2, "g3", 3, "closed")
    assert "h3/" not in by_key and len(by_key) == 10
    assert keys(after[f"{h}/grp-index/g3"]) == ["h1/", "h2/"]
    assert sorted(keys(after[f"{h}/state-index/closed"])) == ["h1/", "h2/"]
    assert keys(after[f"{h}/grp-index/g0"]) == ["h0/", "h6/", "h9/", "hnew/"]
    assert {item["pk"]["S"] + item["sk"]["S"]: item["owner"]["S"] for item in after[r]} == {
        "p0s0": "o0",
        "p0s1": "o9",
        "p0s2": "o2",
        "p1s0": "o3",
        "p1s1": "o4",
        "p2s0": "o6",
        "p2s1": "o7",
        "p2s2": "o8",
        "pnews0": "o9",
    }
    assert sorted(keys(after[f"{r}/owner-index/o9"])) == ["p0/s1", "pnew/s0"]


def refused(h: str, r: str) -> dict[str, list[dict[str, Any]]]:
    """Transactions moto refuses, each after applying what comes before the refused part."""
    first = update(h, {"pk": s("h5")}, "SET #g = :g", {":g": s("g3")})
    return {
        "condition, returning the item": [
            first,
            {
                "ConditionCheck": {
                    "TableName": h,
                    "Key": {"pk": s("h4")},
                    "ConditionExpression": "attribute_not_exists(pk)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
        ],
        "same item twice": [first, {"Delete": {"TableName": h, "Key": {"pk": s("h5")}}}],
        "no such table": [first, condition("no-such-table", "h4", True)],
        "key attribute updated": [
            first,
            update(r, {"pk": s("p0"), "sk": s("s0")}, "SET #o = :o, sk = :o", {":o": s("o1")}),
        ],
        "range key missing": [first, {"Delete": {"TableName": r, "Key": {"pk": s("p0")}}}],
        "put without its key": [first, {"Put": {"TableName": r, "Item": {"pk": s("p9")}}}],
    }


@pytest.mark.parametrize("case", refused("", ""))
def test_moto_refuses_a_transaction_in_its_own_words(ddb, tables, case) -> None:
    """The same answer as moto's stock function (the application maps CancellationReasons
    to its errors), and nothing changed."""
    before = state(ddb, *tables)
    answers = []
    for function in (moto_patches.STOCK_TRANSACT_WRITE_ITEMS, moto_patches.transact_write_items):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(DynamoDBBackend, "transact_write_items", function)
            with pytest.raises(ClientError) as error:
                ddb.transact_write_items(TransactItems=refused(*tables)[case])
        answers.append({k: v for k, v in error.value.response.items() if k != "ResponseMetadata"})
        assert state(ddb, *tables) == before
    assert answers[0] == answers[1]
