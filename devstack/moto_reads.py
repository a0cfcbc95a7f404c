"""What makes moto's DynamoDB reads cost more as its tables grow, fixed for the local stack
(installed by `devstack.moto_patches.apply`).

1. moto's ``Table.query`` takes its candidates from ``all_items()``, which lists and sorts every
   item of the table (Python comparisons of moto's typed values): each Query costs
   O(n log n) in the table's size (the sort alone ~50 ms at 3,000 items). Inside a query, ``all_items()`` now
   gives only what the query may match, unsorted: a base-table query's items of its hash key,
   an index query's every item (moto computes indexes at query time). moto filters and sorts
   the results by their keys afterwards either way, so the answers are unchanged.
2. moto's JSON serializer writes each DynamoDB ``AttributeValue`` of a response by probing all
   ten of its members under several spellings each: ~0.8 ms per item of eight attributes,
   most of a Query's cost. Its output for one is the value itself, strings as strings and
   binaries through its ``_base64``; the replacement writes exactly that directly, and hands
   anything else (a shape it does not expect) to moto's own.

Neither needs more of the local stack's one request at a time than moto does: a query's
candidates are kept per thread. tests/infra/test_moto_internals.py checks what they rely on inside moto;
tests/infra/test_local_stack_queries.py and test_local_stack_responses.py that the answers are
moto's own.
"""

from __future__ import annotations

import inspect
import threading
from typing import Any

from moto.core.serialize import BaseJSONSerializer
from moto.dynamodb.models.table import Table

STOCK_QUERY = Table.query
STOCK_ALL_ITEMS = Table.all_items
STOCK_SERIALIZE_STRUCTURE = BaseJSONSerializer._serialize_type_structure
_QUERY_PARAMETERS = inspect.signature(STOCK_QUERY)
# What the query running on this thread may match (fix 1); None outside queries.
_in_query = threading.local()


def query_candidates(table: Table, hash_key: Any, index_name: str | None) -> list[Any]:
    """The items a query may match, unsorted (``in`` first: ``items`` is a defaultdict)."""
    if index_name is None and hash_key is not None:
        entries = [table.items[hash_key]] if hash_key in table.items else []
    else:
        entries = list(table.items.values())
    return [item for entry in entries for item in (entry.values() if table.range_key_attr else [entry])]


def _all_items(self: Table) -> list[Any]:
    candidates = getattr(_in_query, "candidates", None)
    return STOCK_ALL_ITEMS(self) if candidates is None else candidates


def query(self: Table, *args: Any, **kwargs: Any) -> Any:
    """moto's own, over the items the query may match instead of the whole table sorted."""
    given = _QUERY_PARAMETERS.bind(self, *args, **kwargs).arguments
    _in_query.candidates = query_candidates(self, given.get("hash_key"), given.get("index_name"))
    try:
        return STOCK_QUERY(self, *args, **kwargs)
    finally:
        _in_query.candidates = None


class _Unexpected(Exception):
    """An attribute value the direct serialization does not know: moto's own writes it."""


def _as_moto_writes(serializer: BaseJSONSerializer, value: Any) -> Any:
    """One AttributeValue as moto's serializer writes it (strings `str`, binaries base64)."""
    if not isinstance(value, dict) or len(value) != 1:
        raise _Unexpected
    ((kind, inner),) = value.items()
    if inner is None:  # moto's leaves the member out
        raise _Unexpected
    if kind in ("S", "N"):
        return {kind: str(inner)}
    if kind in ("SS", "NS") and isinstance(inner, list):
        return {kind: [str(member) for member in inner]}
    if kind == "B":
        return {kind: serializer._base64(inner)}
    if kind == "BS" and isinstance(inner, list):
        return {kind: [serializer._base64(member) for member in inner]}
    if kind == "M" and isinstance(inner, dict):
        return {kind: {name: _as_moto_writes(serializer, member) for name, member in inner.items()}}
    if kind == "L" and isinstance(inner, list):
        return {kind: [_as_moto_writes(serializer, member) for member in inner]}
    if kind in ("NULL", "BOOL") and isinstance(inner, bool):
        return {kind: inner}
    raise _Unexpected


def serialize_structure(self: BaseJSONSerializer, serialized: Any, value: Any, shape: Any, key: str) -> None:
    """moto's own, except for a DynamoDB attribute value (fix 2)."""
    if shape.name == "AttributeValue" and key and value is not None:
        try:
            serialized[self.get_serialized_name(shape, key)] = _as_moto_writes(self, value)
            return
        except _Unexpected:
            pass
    STOCK_SERIALIZE_STRUCTURE(self, serialized, value, shape, key)


def apply() -> None:
    """Install both (idempotent)."""
    Table.query = query  # type: ignore[method-assign]
    Table.all_items = _all_items  # type: ignore[method-assign]
    BaseJSONSerializer._serialize_type_structure = serialize_structure  # type: ignore[method-assign]
