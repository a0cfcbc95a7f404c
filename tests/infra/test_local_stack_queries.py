"""Queries on the local stack answer what moto's stock query answers, over only the items they
may match (devstack.moto_reads, fix 1): counted, not timed."""

from __future__ import annotations

from typing import Any

import pytest
from moto.dynamodb.models.table import Table

from devstack import moto_reads

from local_stack_support import HASHED, RANGED, ddb, fill, hashed_item, ranged_item, scratch_table  # noqa: F401


def queries() -> list[dict[str, Any]]:
    """Base-table and index queries: key conditions, order, pages, filters, projections."""
    owner = {"ExpressionAttributeNames": {"#o": "owner"}}

    def key(expression: str, **values: str) -> dict[str, Any]:
        return {
            "KeyConditionExpression": expression,
            "ExpressionAttributeValues": {f":{name}": {"S": value} for name, value in values.items()},
        }

    return [
        key("pk = :p", p="p3"),
        key("pk = :p AND sk > :k", p="p3", k="s4"),
        {**key("pk = :p", p="p5"), "ScanIndexForward": False},
        key("pk = :p", p="absent"),
        {"IndexName": "owner-index", **key("#o = :o", o="o2"), **owner},
        {
            "IndexName": "owner-index",
            "KeyConditionExpression": "#o = :o AND begins_with(sk, :k)",
            "ExpressionAttributeValues": {":o": {"S": "o7"}, ":k": {"S": "s1"}},
            "ScanIndexForward": False,
            **owner,
        },
        {
            "IndexName": "owner-index",
            "KeyConditionExpression": "#o = :o",
            "FilterExpression": "pk <> :p",
            "ExpressionAttributeValues": {":o": {"S": "o4"}, ":p": {"S": "p0"}},
            "ProjectionExpression": "pk, sk",
            **owner,
        },
    ]


def every_page(ddb: Any, name: str, query: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    pages, start = [], {}
    while True:
        page = ddb.query(TableName=name, Limit=limit, **query, **start)
        pages.append({key: page.get(key) for key in ("Items", "Count", "ScannedCount", "LastEvaluatedKey")})
        if "LastEvaluatedKey" not in page:
            return pages
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def test_every_query_answers_as_moto_does_page_by_page(ddb) -> None:
    with scratch_table(ddb, RANGED) as name:
        fill(ddb, name, [ranged_item(p, k, f"o{(p * 7 + k) % 10}") for p in range(12) for k in range(15)])
        patched = [every_page(ddb, name, query, limit) for query in queries() for limit in (3, 1000)]
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(Table, "query", moto_reads.STOCK_QUERY)
            patch.setattr(Table, "all_items", moto_reads.STOCK_ALL_ITEMS)
            stock = [every_page(ddb, name, query, limit) for query in queries() for limit in (3, 1000)]

    assert patched == stock
    assert sum(len(page["Items"]) for pages in stock for page in pages) > 100  # the queries found items


def candidates_per_query(ddb: Any, name: str, **query: Any) -> list[int]:
    seen: list[int] = []
    stock_candidates = moto_reads.query_candidates

    def counting(*args: Any) -> list[Any]:
        found = stock_candidates(*args)
        seen.append(len(found))
        return found

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(moto_reads, "query_candidates", counting)
        patch.setattr(moto_reads, "STOCK_ALL_ITEMS", lambda table: pytest.fail("a query sorted the whole table"))
        ddb.query(TableName=name, **query)
    return seen


def test_a_base_table_query_reads_its_hash_key_alone_whatever_the_table_size(ddb) -> None:
    by_key = {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "p1"}}}
    with scratch_table(ddb, RANGED) as name:
        fill(ddb, name, [ranged_item(p, k, "o1") for p in range(10) for k in range(5)])
        at_50 = candidates_per_query(ddb, name, **by_key)
        fill(ddb, name, [ranged_item(p, k, "o1") for p in range(10, 400) for k in range(5)])
        at_2000 = candidates_per_query(ddb, name, **by_key)

    assert at_50 == at_2000 == [5]


def test_an_index_query_reads_each_item_once_unsorted(ddb) -> None:
    with scratch_table(ddb, HASHED) as name:
        fill(ddb, name, [hashed_item(i, f"g{i % 4}", i) for i in range(300)])
        seen = candidates_per_query(
            ddb,
            name,
            IndexName="grp-index",
            KeyConditionExpression="#g = :g",
            ExpressionAttributeNames={"#g": "grp"},
            ExpressionAttributeValues={":g": {"S": "g1"}},
        )

    assert seen == [300]
