"""The local stack keeps no dead moto instances: moto's instance registries (read by its
dashboard) hold what is live and let the rest go, also after moto resets them."""

from __future__ import annotations

import httpx
import pytest
from moto.core.model_instances import reset_model_data
from moto.dynamodb.models.dynamo_type import Item

from devstack.moto_patches import WeakInstances

from local_stack_support import HASHED, ddb, fill, scratch_table, tracked_instances  # noqa: F401 (fixture)


def traffic(ddb, name: str, rounds: int) -> None:
    """Committed and cancelled transactions, and reads, all of which make moto copy items."""
    for i in range(rounds):
        key = {"pk": {"S": f"k{1 + i % 49}"}}
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": name,
                        "Key": key,
                        "UpdateExpression": "SET #r = #r + :one",
                        "ExpressionAttributeNames": {"#r": "rank"},
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                }
            ]
        )
        with pytest.raises(ddb.exceptions.TransactionCanceledException):
            ddb.transact_write_items(
                TransactItems=[
                    {"Delete": {"TableName": name, "Key": key}},
                    {
                        "ConditionCheck": {
                            "TableName": name,
                            "Key": {"pk": {"S": "k0"}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        ddb.query(
            TableName=name,
            IndexName="grp-index",
            KeyConditionExpression="grp = :g",
            ExpressionAttributeValues={":g": {"S": "g1"}},
        )


def items(count: int) -> list[dict]:
    return [{"pk": {"S": f"k{i}"}, "grp": {"S": f"g{i % 4}"}, "rank": {"N": "0"}} for i in range(count)]


def test_transactions_and_reads_leave_no_instances_behind(ddb) -> None:
    with scratch_table(ddb, HASHED) as name:
        fill(ddb, name, items(500))
        traffic(ddb, name, rounds=2)
        before = tracked_instances()
        traffic(ddb, name, rounds=100)
        # With moto's plain lists every copy stays: these 100 rounds would leave thousands.
        assert tracked_instances() == before


def test_registries_moto_resets_are_weak_again_on_first_use(ddb) -> None:
    reset_model_data()  # what moto's reset does: fresh, plain lists
    with scratch_table(ddb, HASHED) as name:
        fill(ddb, name, items(100))
        assert isinstance(Item.instances_tracked, WeakInstances)
        before = tracked_instances()
        traffic(ddb, name, rounds=20)
        assert tracked_instances() == before


def test_the_dashboard_lists_each_live_table_once(local_aws, ddb) -> None:
    with scratch_table(ddb, HASHED) as name:
        fill(ddb, name, items(20))
        traffic(ddb, name, rounds=3)
        data = httpx.get(f"{local_aws.endpoint_url}/moto-api/data.json", timeout=30).json()
        listed = [table["name"] for table in data["dynamodb"]["Table"]]
        assert listed.count(name) == 1, listed  # stock moto also lists every copy it made
        assert len(data["dynamodb"]["Item"]) >= 20
