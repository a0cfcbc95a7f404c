"""The cost of a TransactWriteItems on the local stack depends on the items it names, not on
the size of the table: counted (deep copies made), not timed."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table

from devstack import moto_patches

from local_stack_support import HASHED, condition, ddb, fill, hashed_item, s, scratch_table, update  # noqa: F401


def touching_five(name: str, run: int, last_holds: bool) -> list[dict[str, Any]]:
    """A new Put, an overwriting Put, an Update, a Delete and a ConditionCheck."""
    base = 10 * run
    return [
        {"Put": {"TableName": name, "Item": hashed_item(f"new{run}-{last_holds}", "g0", 0)}},
        {"Put": {"TableName": name, "Item": hashed_item(base, "g1", base)}},
        update(name, {"pk": s(f"h{base + 1}")}, "SET #g = :g", {":g": s("g2")}),
        {"Delete": {"TableName": name, "Key": {"pk": s(f"h{base + 2}")}}},
        condition(name, f"h{base + 3}", last_holds),
    ]


def copies_made(ddb: Any, name: str, run: int) -> Counter:
    """Item and table instances moto creates (each deep copy creates one), and snapshots
    taken, during one committed and one cancelled transaction of five items each."""
    counts: Counter = Counter()
    snapshot = moto_patches._snapshot

    def counting_new(label: str, new: Any) -> Any:
        def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
            counts[label] += 1
            return new(cls, *args, **kwargs)

        return staticmethod(__new__)

    def counting_snapshot(*key: Any) -> Any:
        counts["snapshot"] += 1
        return snapshot(*key)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Item, "__new__", counting_new("item", Item.__new__))
        patch.setattr(Table, "__new__", counting_new("table", Table.__new__))
        patch.setattr(moto_patches, "_snapshot", counting_snapshot)
        ddb.transact_write_items(TransactItems=touching_five(name, run, last_holds=True))
        with pytest.raises(ddb.exceptions.TransactionCanceledException):
            ddb.transact_write_items(TransactItems=touching_five(name, run + 1, last_holds=False))
    return counts


def test_a_transaction_copies_the_items_it_names_whatever_the_table_size(ddb) -> None:
    with scratch_table(ddb, HASHED) as name:
        fill(ddb, name, [hashed_item(i, "g0", i) for i in range(100)])
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(DynamoDBBackend, "transact_write_items", moto_patches.STOCK_TRANSACT_WRITE_ITEMS)
            stock = copies_made(ddb, name, run=0)
        at_100 = copies_made(ddb, name, run=2)
        fill(ddb, name, [hashed_item(i, "g0", i) for i in range(100, 5000)])
        assert ddb.scan(TableName=name, Select="COUNT")["Count"] == 5000
        at_5000 = copies_made(ddb, name, run=4)

    # The spy sees moto's stock copies: the whole table, once per operation.
    assert stock["table"] == 10 and stock["item"] >= 10 * 100, stock
    assert at_5000 == at_100, (at_100, at_5000)
    assert at_5000["table"] == 0 and at_5000["snapshot"] == 2 * 5, at_5000
    # The snapshots, the two Puts' new items, and moto's own copy of the updated item.
    assert at_5000["item"] <= 2 * 2 * 5, at_5000


def test_a_table_with_a_stream_is_not_copied_whole_either(ddb) -> None:
    """The loan events table has a stream: its transactions must be as cheap as the others'."""
    stream = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}}
    with scratch_table(ddb, {**HASHED, **stream}) as name:
        fill(ddb, name, [hashed_item(i, "g0", i) for i in range(1000)])
        counts = copies_made(ddb, name, run=0)
    assert counts["table"] == 0 and counts["snapshot"] == 2 * 5, counts
