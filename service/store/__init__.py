"""The storage adapters: DynamoDB by aggregate (users, loans, participants, invitations, ACH
details, events, notifications, idempotency keys, documents), the S3 file store, the KMS vault,
the SES mailer. The only package that talks to AWS for data."""

from typing import Any

from ..config import TableNames
from .ach import KmsVault
from .aws import Database, store_errors
from .cursors import CursorCodec
from .files import S3Files
from .idempotency import IdempotencyRecords
from .mailer import SesMailer
from .unit_of_work import DynamoUnitOfWork


class DynamoStore:
    """Storage, as the use cases see it (`usecases.ports.Storage`): a unit of work per use."""

    def __init__(self, tables: TableNames, cursor_key: bytes, resource: Any = None):
        self.db = Database(tables, resource)
        self.cursors = CursorCodec(cursor_key)
        self.idempotency = IdempotencyRecords(self.db, cursor_key)

    def unit_of_work(self) -> DynamoUnitOfWork:
        return DynamoUnitOfWork(self.db, self.cursors, self.idempotency)

    @store_errors
    def ping(self) -> None:
        self.db.table(self.db.names.users).get_item(Key={"user_id": "health#probe"})


__all__ = ["DynamoStore", "KmsVault", "S3Files", "SesMailer"]
