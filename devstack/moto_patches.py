"""Fixes to moto internals that otherwise make the local stack slow down, grow with its data,
or lose stream records (and, in `devstack.moto_reads`, what makes its reads cost more as its
tables grow).

1. moto's ``DynamoDBBackend.transact_write_items`` deep-copies every table a transaction names,
   so it can roll back: each transaction costs O(table size). The replacement deep-copies only
   the items the transaction names, runs moto's own function with its table copies turned into
   no-ops (so moto's validation, error codes and CancellationReasons are moto's, unchanged), and
   on any failure puts exactly those items back. Secondary indexes need nothing more: moto
   computes them from the items at query time and stores no index data.
2. moto's ``BaseModel.__new__`` appends every model instance (every item, every deep copy of
   one, every query result) to its class's ``instances_tracked`` list, so moto never frees any.
   moto reads those lists only to iterate them (the /moto-api/data.json dashboard, S3's reset)
   and assigns fresh ones on reset; here they become registries that hold their instances
   weakly, so the dashboard still lists every live instance and the rest are freed.
3. moto hands each new stream record to the Lambda functions mapped to the stream (running them
   in a container, which the local stack does not have) and, when that answers, drops the
   shard's records. The local stack runs no function code in moto: ``devstack.workers`` reads
   the stream as the deployed event source mapping would. So records are only appended, and a
   stream keeps them for its readers whatever mappings a stack template created.

All rely on the local stack handling one request at a time (``devstack.aws``): moto is not
thread-safe, and while a transaction runs, a deep copy of a table it names is that table.
tests/infra/test_moto_internals.py checks that what this module relies on is still there.
"""

from __future__ import annotations

import copy
import functools
import itertools
import weakref
from collections.abc import Iterable, Iterator
from typing import Any

from moto.core.common_models import BaseModel
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamShard, Table

from devstack import moto_buckets, moto_reads

STOCK_TRANSACT_WRITE_ITEMS = DynamoDBBackend.transact_write_items
STOCK_BASE_MODEL_NEW = BaseModel.__new__
STOCK_STREAM_ADD = StreamShard.add

# (table, hash key, range key or None, whether the hash key had an entry, a copy of the item or None)
_Snapshot = tuple[Table, Any, Any, bool, Any]


def _touched(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> tuple[list[Table], list[tuple]]:
    """The tables the transaction names, and each named item's (table, hash key, range key).

    Keys are resolved the way moto resolves them. An entry whose table or key does not resolve
    is one moto rejects before writing anything for it, with its own error, so it is skipped.
    """
    tables: dict[int, Table] = {}
    keys = []
    for entry in transact_items:
        try:
            op_type, op = next(iter(entry.items()))
            table = backend.get_table(op["TableName"])
            tables[id(table)] = table
            if op_type == "Put":
                names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
                key = {name: op["Item"][name] for name in names}
            else:
                key = op["Key"]
            keys.append((table, *backend.get_keys_value(table, key)))
        except Exception:
            continue
    return list(tables.values()), keys


def _snapshot(table: Table, hash_key: Any, range_key: Any) -> _Snapshot:
    """A deep copy of one item (None if absent). Reads with ``.get``: moto's ``items`` is a
    defaultdict, and a missed lookup would add an entry."""
    entry = table.items.get(hash_key)
    item = entry if range_key is None else (entry or {}).get(range_key)
    return table, hash_key, range_key, entry is not None, copy.deepcopy(item)


def _restore(snapshots: list[_Snapshot]) -> None:
    """Put each item back as it was: re-create deleted ones, drop created ones, replace updated
    ones by their copy (moto updates items in place). Last first, so an item named twice ends
    as it began; a hash key's entry the transaction created is removed with its last item."""
    for table, hash_key, range_key, had_entry, item in reversed(snapshots):
        if range_key is None:
            if item is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = item
            continue
        by_range = table.items[hash_key]
        if item is None:
            by_range.pop(range_key, None)
        else:
            by_range[range_key] = item
        if not by_range and not had_entry:
            del table.items[hash_key]


def _same_table(table: Table, memo: dict[int, Any]) -> Table:
    return table


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto's own, with a backup of the named items instead of the named tables."""
    tables, keys = _touched(self, transact_items)
    snapshots = [_snapshot(*key) for key in keys]
    # A stream's records are table state too: a failed transaction takes back those it added
    # (records are only appended: fix 3).
    streams = [(table.stream_shard, len(table.stream_shard.items)) for table in tables if table.stream_shard]
    for table in tables:
        # copy.deepcopy looks __deepcopy__ up on the instance: moto's backup becomes the table
        # itself, and moto's rollback (putting its backup back) a no-op.
        table.__deepcopy__ = functools.partial(_same_table, table)
    try:
        return STOCK_TRANSACT_WRITE_ITEMS(self, transact_items)
    except BaseException:
        _restore(snapshots)
        for shard, length in streams:
            del shard.items[length:]
        raise
    finally:
        for table in tables:
            del table.__deepcopy__


class WeakInstances:
    """What moto does with an ``instances_tracked`` list (append, iterate, len), holding weakly."""

    def __init__(self, instances: Iterable[Any] = ()) -> None:
        self._live: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
        self._ids = itertools.count()
        for instance in instances:
            self.append(instance)

    def append(self, instance: Any) -> None:
        self._live[next(self._ids)] = instance

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._live.values()))

    def __len__(self) -> int:
        return len(self._live)


def _new_tracked_weakly(cls: type, *args: Any, **kwargs: Any) -> Any:
    """moto's ``BaseModel.__new__``, on a weak registry. The class's list is swapped on first
    use, so classes moto imports later and the fresh lists of moto's reset get one too."""
    tracked = cls.instances_tracked  # type: ignore[attr-defined]
    if not isinstance(tracked, WeakInstances):
        cls.instances_tracked = WeakInstances(tracked)  # type: ignore[attr-defined]
    return STOCK_BASE_MODEL_NEW(cls, *args, **kwargs)


def _add_undelivered(self: StreamShard, old: Any, new: Any) -> None:
    """moto's ``StreamShard.add`` with no Lambda mapping to hand the record to."""
    mappings, self.table.lambda_event_source_mappings = self.table.lambda_event_source_mappings, {}
    try:
        STOCK_STREAM_ADD(self, old, new)
    finally:
        self.table.lambda_event_source_mappings = mappings


def apply() -> None:
    """Install the fixes (idempotent), before moto serves a request; the cheaper reads
    (`devstack.moto_reads`); and what moto's CloudFormation leaves out of a bucket
    (`devstack.moto_buckets`)."""
    moto_buckets.apply()
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    BaseModel.__new__ = staticmethod(_new_tracked_weakly)  # type: ignore[assignment,method-assign]
    StreamShard.add = _add_undelivered  # type: ignore[method-assign]
    moto_reads.apply()
