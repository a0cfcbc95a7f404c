"""What every storage adapter shares: the boto3 configuration, the DynamoDB client and tables,
the few multi-item operations, and the translation of AWS failures into `DATABASE_ERROR`.

This package is the only place that talks to AWS for data. The client is a low-level one made
to take and give plain values (`dynamo_json`), not the boto3 resource's: the same values for
the same calls, for about a third less client CPU per call.
"""

import functools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..config import TableNames
from ..domain.errors import StoreUnavailable
from ..usecases.ports import LostRace
from .dynamo_json import decode_item, plain_values

P = ParamSpec("P")
T = TypeVar("T")
BATCH_GET_LIMIT = 100
BATCH_GET_ATTEMPTS = 5

# Standard mode retries throttling and transient errors with exponential backoff and jitter.
# No client-side parameter validation: it walks every request through its shape model (0.16 ms
# for an acceptance's transaction), these requests are built here alone, AWS validates them
# anyway, and one it refuses is a `DATABASE_ERROR` like any other failed call.
BOTO_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=2,
    read_timeout=5,
    max_pool_connections=50,
    parameter_validation=False,
)


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
    """An item in DynamoDB's JSON (as errors carry them: the client converts only the items of
    successful responses) as plain values."""
    return decode_item(item or {})


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
        names: dict[str, str] | None = None,
    ) -> "Write":
        """`#status` in the expressions names the `status` attribute (a reserved word);
        `names` are any other attribute names (map keys that are data, such as ids)."""
        request = _expression(table, {"Key": key, "UpdateExpression": update}, condition, values)
        names = {**({"#status": "status"} if "#status" in update + condition else {}), **(names or {})}
        if names:
            request["ExpressionAttributeNames"] = names
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


class Table:
    """The operations the adapters make on one table, on the shared client: what they used
    of a boto3 resource's `Table`, which builds a new class from the resource model for each
    table object (1 ms each)."""

    def __init__(self, client: Any, name: str):
        self._client, self.name = client, name

    def get_item(self, **request: Any) -> Any:
        return self._client.get_item(TableName=self.name, **request)

    def put_item(self, **request: Any) -> Any:
        return self._client.put_item(TableName=self.name, **request)

    def update_item(self, **request: Any) -> Any:
        return self._client.update_item(TableName=self.name, **request)

    def delete_item(self, **request: Any) -> Any:
        return self._client.delete_item(TableName=self.name, **request)

    def query(self, **request: Any) -> Any:
        return self._client.query(TableName=self.name, **request)


class Database:
    def __init__(self, tables: TableNames, client: Any = None):
        """`client`: a low-level DynamoDB client to use (tests stub one); by default a new one."""
        # It takes and gives plain Python values for every operation the store makes,
        # transactions and batches included.
        self.client = plain_values(client or boto3.client("dynamodb", config=BOTO_CONFIG))
        self.names = tables
        self._tables: dict[str, Table] = {}

    def table(self, name: str) -> Table:
        if name not in self._tables:
            self._tables[name] = Table(self.client, name)
        return self._tables[name]

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
