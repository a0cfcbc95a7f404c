"""Part of `make bench`: what a Query costs moto as its table grows, stock and with
devstack.moto_reads. Not a test.

    python -m benchmarks.moto_queries [--sizes 100 1000 5000]

moto in this process (boto3 through moto's in-process stubber, so moto's request parsing and
response serialisation are counted, not HTTP), one table with a GSI holding N items of eight
attributes spread over 50 hash keys and 20 index keys: a base-table query of one hash key
(N/50 items back) and an index query of one index key (N/20 items back), run alternately with
moto's stock query and serializer and with the fixes; the median of each (ms), and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

from benchmarks.bench import machine

QUERIES = {
    "base table, one hash key": {
        "KeyConditionExpression": "pk = :v",
        "ExpressionAttributeValues": {":v": {"S": "loan-7"}},
    },
    "GSI, one index key": {
        "IndexName": "grp-index",
        "KeyConditionExpression": "grp = :v",
        "ExpressionAttributeValues": {":v": {"S": "g7"}},
    },
}


def fill(ddb: Any, start: int, stop: int) -> None:
    for i in range(start, stop):
        ddb.put_item(
            TableName="bench",
            Item={
                "pk": {"S": f"loan-{i % 50}"},
                "sk": {"S": f"lender-{i:06d}"},
                "grp": {"S": f"g{i % 20}"},
                "status": {"S": "PENDING"},
                "amount": {"N": "1000.00"},
                "created_at": {"S": "2026-11-22T03:31:58Z"},
                "note": {"S": "x" * 40},
                "sealed": {"B": b"\x00" * 32},
            },
        )


def cost(sizes: list[int]) -> list[dict[str, Any]]:
    import boto3
    from moto import mock_aws
    from moto.core.serialize import BaseJSONSerializer
    from moto.dynamodb.models.table import Table

    from devstack import moto_reads

    def stock() -> None:
        Table.query, Table.all_items = moto_reads.STOCK_QUERY, moto_reads.STOCK_ALL_ITEMS  # type: ignore[method-assign]
        BaseJSONSerializer._serialize_type_structure = moto_reads.STOCK_SERIALIZE_STRUCTURE  # type: ignore[method-assign]

    rows, filled = [], 0
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(
            TableName="bench",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "grp")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "grp-index",
                    "KeySchema": [{"AttributeName": "grp", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        try:
            for size in sizes:
                fill(ddb, filled, size)
                filled = size
                repeats = max(5, min(31, 20_000 // size))
                for label, query in QUERIES.items():
                    times: dict[str, list[float]] = {"stock": [], "patched": []}
                    for _ in range(repeats):
                        for variant, install in (("stock", stock), ("patched", moto_reads.apply)):
                            install()
                            started = time.perf_counter()
                            found = ddb.query(TableName="bench", **query)["Count"]
                            times[variant].append((time.perf_counter() - started) * 1000)
                    before, after = (statistics.median(times[name]) for name in ("stock", "patched"))
                    rows.append(
                        {
                            "items": size,
                            "query": label,
                            "found": found,
                            "repeats": repeats,
                            "stock_ms": round(before, 2),
                            "patched_ms": round(after, 2),
                            "ratio": round(before / after, 1),
                        }
                    )
                    print(f"  {size} items, {label}: stock {before:.2f} ms, patched {after:.2f} ms", flush=True)
        finally:
            stock()
    return rows


def render(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| items in the table | query | items found | repeats | stock ms | patched ms | stock ÷ patched |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['items']} | {r['query']} | {r['found']} | {r['repeats']} | {r['stock_ms']} | {r['patched_ms']} "
        f"| ×{r['ratio']} |"
        for r in rows
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.moto_queries", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000], help="items in the table")
    args = parser.parse_args(argv)
    print(f"Machine: {machine()}", flush=True)
    rows = cost(sorted(args.sizes))
    print()
    print(render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
