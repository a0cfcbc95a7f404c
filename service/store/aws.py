"""What every storage adapter shares: the boto3 configuration, the DynamoDB client and tables,
the few multi-item operations, and the translation of AWS failures into `DATABASE_ERROR`.

This package is the only place that talks to AWS for data.
"""

import functools
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar

import boto3
from boto3.dynamodb.transform import TransformationInjector
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..config import TableNames
from ..domain.errors import StoreUnavailable
from ..usecases.ports import LostRace

P = ParamSpec("P")
T = TypeVar("T")
BATCH_GET_LIMIT = 100
BATCH_GET_ATTEMPTS = 5

# Standard mode retries throttling and transient errors with exponential backoff and jitter.
BOTO_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=2,
    read_timeout=5,
    max_pool_connections=50,
)
_DESERIALIZE = TypeDeserializer().deserialize


def store_errors(method: Callable[P, T]) -> Callable[P, T]:
    """AWS failures surface as `DATABASE_ERROR` (503, safe to retry), never as a stack trace."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable("The data store is unavailable; please retry.") from exc

    return wrapper


def plain(item: dict[str, Any] | None) -> dict[str, Any]:
    """An item in DynamoDB's JSON (as errors carry them; the resource's client does not
    convert those) as plain values."""
    return {key: _DESERIALIZE(value) for key, value in (item or {}).items()}


def epoch(seconds: float) -> Decimal:
    """Epoch seconds to the millisecond, as DynamoDB stores numbers."""
    return Decimal(str(round(seconds, 3)))


def lost_race(_item: dict[str, Any]) -> Exception:
    return LostRace()


Conflict = Callable[[dict[str, Any]], Exception]


@dataclass(frozen=True)
class Write:
    """One item of a TransactWriteItems, and the error to raise when its condition fails
    (made from the item as DynamoDB found it, when the write asks for it with `report`)."""

    request: dict[str, Any]
    conflict: Conflict = lost_race

    @classmethod
    def put(
        cls, table: str, item: dict[str, Any], condition: str | None = None, conflict: Conflict = lost_race
    ) -> "Write":
        return cls({"Put": _expression(table, {"Item": item}, condition)}, conflict)

    @classmethod
    def update(
        cls,
        table: str,
        key: dict[str, Any],
        update: str,
        condition: str,
        values: dict[str, Any],
        conflict: Conflict = lost_race,
        report: bool = False,
    ) -> "Write":
        """`#status` in the expressions names the `status` attribute (a reserved word)."""
        request = _expression(table, {"Key": key, "UpdateExpression": update}, condition, values)
        if "#status" in update + condition:
            request["ExpressionAttributeNames"] = {"#status": "status"}
        if report:
            request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return cls({"Update": request}, conflict)

    @classmethod
    def delete(
        cls,
        table: str,
        key: dict[str, Any],
        condition: str | None = None,
        values: dict[str, Any] | None = None,
        conflict: Conflict = lost_race,
    ) -> "Write":
        return cls({"Delete": _expression(table, {"Key": key}, condition, values)}, conflict)


def _expression(
    table: str, request: dict[str, Any], condition: str | None, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    request = {"TableName": table, **request}
    if condition:
        request["ConditionExpression"] = condition
    if values:
        request["ExpressionAttributeValues"] = values
    return request


class _ConditionsPerThread:
    """boto3's resource names a request's placeholders (#n0, :v0, ...) with one builder whose
    counter every request resets: threads sharing the resource (a local server's) can get each
    other's numbers, and a query then asks for another key. One builder per thread."""

    def __init__(self) -> None:
        self._local = threading.local()

    def __call__(self, params: Any, model: Any, **kwargs: Any) -> None:
        if not hasattr(self._local, "injector"):
            self._local.injector = TransformationInjector()
        self._local.injector.inject_condition_expressions(params, model, **kwargs)


class Database:
    def __init__(self, tables: TableNames, resource: Any = None):
        self.resource = resource or boto3.resource("dynamodb", config=BOTO_CONFIG)
        # The resource's client serialises plain Python values for every operation,
        # transactions and batches included.
        self.client = self.resource.meta.client
        self.names = tables
        events, event = self.client.meta.events, "before-parameter-build.dynamodb"
        events.unregister(event, unique_id="dynamodb-condition-expression")
        # First, as boto3's own was: the values it adds are serialised by the next handler.
        events.register_first(event, _ConditionsPerThread(), unique_id="dynamodb-condition-expression")

    def table(self, name: str) -> Any:
        return self.resource.Table(name)

    def transact(self, requests: list[dict[str, Any]]) -> None:
        """One TransactWriteItems. The token makes botocore's retries of it idempotent: a
        retry after a lost response returns the first success instead of failing on it."""
        self.client.transact_write_items(TransactItems=requests, ClientRequestToken=str(uuid.uuid4()))

    def query_all(self, table: str, **query: Any) -> Iterator[dict[str, Any]]:
        """Every item a query matches, page after page."""
        while True:
            response = self.table(table).query(**query)
            yield from response["Items"]
            if "LastEvaluatedKey" not in response:
                return
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def batch_get(self, keys_by_table: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
        """Consistent BatchGetItem in requests of at most 100 keys, retrying what DynamoDB
        leaves unprocessed."""
        found: dict[str, list[dict[str, Any]]] = {table: [] for table in keys_by_table}
        pairs = [(table, key) for table, keys in keys_by_table.items() for key in keys]
        for start in range(0, len(pairs), BATCH_GET_LIMIT):
            request: dict[str, dict[str, Any]] = {}
            for table, key in pairs[start : start + BATCH_GET_LIMIT]:
                request.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(key)
            for _ in range(BATCH_GET_ATTEMPTS):
                response = self.client.batch_get_item(RequestItems=request)
                for table, table_items in response["Responses"].items():
                    found[table] += table_items
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
            else:
                raise StoreUnavailable("The data store is too busy; please retry.")
        return found


def cancellation_reasons(exc: ClientError) -> list[dict[str, Any]]:
    return list(exc.response.get("CancellationReasons", []))
