"""Part of `make bench`: what a TransactWriteItems costs moto, stock and with
devstack.moto_patches, and how much memory moto keeps. Not a test.

    python -m benchmarks.moto_transactions [--sizes 100 1000 5000] [--transactions 2000]

1. Cost: moto's DynamoDB backend in this process, one table (with a GSI) of N items, and an
   accept-like committed transaction of three items (a conditional Update, a Put, a
   ConditionCheck), run alternately through moto's stock ``transact_write_items`` and the
   patched one; the median of each, and the ratio. Both run with the weak instance registry.
2. Memory: a fresh process per variant (moto as installed, and with the patches) runs
   ``--transactions`` transactions, half committed and half cancelled, on a table of
   ``--memory-items`` items; it reports how much its resident memory (VmRSS) and moto's
   tracked instances grew.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
from typing import Any

from benchmarks.bench import machine
from loadtests.stack import ROOT

TABLE = "bench"


def backend_with_table(items: int) -> Any:
    """A fresh moto DynamoDB backend holding TABLE with ``items`` items of eight attributes."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import DynamoDBBackend

    backend = DynamoDBBackend("us-east-1", DEFAULT_ACCOUNT_ID)
    backend.create_table(
        TABLE,
        schema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        throughput=None,
        attr=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "grp", "AttributeType": "S"}],
        global_indexes=[
            {
                "IndexName": "grp-index",
                "KeySchema": [{"AttributeName": "grp", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        indexes=None,
        streams=None,
        billing_mode="PAY_PER_REQUEST",
        sse_specification=None,
        tags=[],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
    for i in range(items):
        backend.put_item(
            TABLE,
            {
                "pk": {"S": f"k{i}"},
                "grp": {"S": f"g{i % 20}"},
                "n": {"N": "0"},
                "status": {"S": "PENDING"},
                "amount": {"N": "1000.00"},
                "created_at": {"S": "2026-11-22T03:31:58Z"},
                "note": {"S": "x" * 40},
                "owner": {"S": f"user-{i % 97}"},
            },
        )
    return backend


def accept_like(i: int, commits: bool) -> list[dict[str, Any]]:
    """Three items, as an acceptance writes; the ConditionCheck fails when ``commits`` is false."""
    return [
        {
            "Update": {
                "TableName": TABLE,
                "Key": {"pk": {"S": "k1"}},
                "UpdateExpression": "SET n = n + :one",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
        {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "k2"}, "grp": {"S": "g2"}, "n": {"N": str(i)}}}},
        {
            "ConditionCheck": {
                "TableName": TABLE,
                "Key": {"pk": {"S": "k3"}},
                "ConditionExpression": "attribute_exists(pk)" if commits else "attribute_not_exists(pk)",
            }
        },
    ]


def cost(sizes: list[int]) -> list[dict[str, Any]]:
    from devstack import moto_patches

    moto_patches.apply()
    variants = {"stock": moto_patches.STOCK_TRANSACT_WRITE_ITEMS, "patched": moto_patches.transact_write_items}
    rows = []
    for size in sizes:
        backend = backend_with_table(size)
        repeats = max(5, min(31, 20_000 // size))
        times: dict[str, list[float]] = {name: [] for name in variants}
        for i in range(repeats):
            for name, transact in variants.items():
                started = time.perf_counter()
                transact(backend, accept_like(i, commits=True))
                times[name].append((time.perf_counter() - started) * 1000)
        stock, patched = (statistics.median(times[name]) for name in variants)
        rows.append(
            {
                "items": size,
                "repeats": repeats,
                "stock_ms": round(stock, 2),
                "patched_ms": round(patched, 3),
                "ratio": round(stock / patched, 1),
            }
        )
        print(f"  {size} items: stock {stock:.2f} ms, patched {patched:.3f} ms", flush=True)
    return rows


def rss_kib() -> int:
    for line in open("/proc/self/status", encoding="ascii"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def memory_child(variant: str, items: int, transactions: int) -> dict[str, Any]:
    """One variant's memory run, in this (fresh) process."""
    from moto.core.model_instances import model_data

    if variant == "patched":
        from devstack import moto_patches

        moto_patches.apply()
    from moto.dynamodb.models import DynamoDBBackend

    def tracked() -> int:
        gc.collect()
        return sum(len(cls.instances_tracked) for models in model_data.values() for cls in models.values())

    backend = backend_with_table(items)

    def run(count: int) -> None:
        for i in range(count):
            try:
                DynamoDBBackend.transact_write_items(backend, accept_like(i, commits=i % 2 == 0))
            except Exception as exc:  # the cancelled half
                assert type(exc).__name__ == "TransactionCanceledException", exc

    run(10)
    before = (rss_kib(), tracked())
    run(transactions)
    after = (rss_kib(), tracked())
    return {
        "variant": variant,
        "rss_growth_mib": round((after[0] - before[0]) / 1024, 1),
        "tracked_before": before[1],
        "tracked_after": after[1],
    }


def memory(items: int, transactions: int) -> list[dict[str, Any]]:
    """Both variants at once, one process each (the machine has two cores)."""
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.moto_transactions",
                "--memory-child",
                variant,
                "--memory-items",
                str(items),
                "--transactions",
                str(transactions),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for variant in ("stock", "patched")
    ]
    rows = []
    for child in children:
        out, _ = child.communicate()
        if child.returncode:
            raise RuntimeError(f"memory run failed: {child.args}")
        rows.append(json.loads(out.strip().splitlines()[-1]))
        print(f"  {rows[-1]}", flush=True)
    return rows


def render(cost_rows: list[dict[str, Any]], memory_rows: list[dict[str, Any]], items: int, transactions: int) -> str:
    lines = [
        "| items in the table | repeats | stock ms (median) | patched ms (median) | stock ÷ patched |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['items']} | {r['repeats']} | {r['stock_ms']} | {r['patched_ms']} | ×{r['ratio']} |" for r in cost_rows
    ]
    lines += [
        "",
        f"Memory, {transactions} transactions (half cancelled) on a table of {items} items, a fresh process each:",
        "",
        "| moto | VmRSS growth MiB | tracked instances before → after |",
        "|---|---|---|",
    ]
    lines += [
        f"| {r['variant']} | {r['rss_growth_mib']} | {r['tracked_before']} → {r['tracked_after']} |"
        for r in memory_rows
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.moto_transactions", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000], help="items in the table")
    parser.add_argument("--transactions", type=int, default=2000, help="transactions in the memory run")
    parser.add_argument("--memory-items", type=int, default=20, help="items in the memory run's table")
    parser.add_argument("--memory-child", choices=["stock", "patched"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        print(json.dumps(memory_child(args.memory_child, args.memory_items, args.transactions)))
        return 0
    print(f"Machine: {machine()}", flush=True)
    print("1/2 cost per committed transaction, stock and patched …", flush=True)
    cost_rows = cost(args.sizes)
    print(f"2/2 memory over {args.transactions} transactions, a process per variant …", flush=True)
    memory_rows = memory(args.memory_items, args.transactions)
    print()
    print(render(cost_rows, memory_rows, args.memory_items, args.transactions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
