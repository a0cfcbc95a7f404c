"""Documents, in the loan-documents table (key: loan, document id), and their count on the loan.

Every write that adds or removes a document moves the loan's `document_count` in the same
transaction, under a condition: adding needs the loan open (not final, not past its deadline)
and the count below the limit (plus the abandoned documents the same write removes). So the
limit holds in DynamoDB itself, whatever creates race: of two that read 19, one commits and
the other's condition fails, and it decides again on a fresh read.
"""

from dataclasses import asdict
from typing import Any

from boto3.dynamodb.conditions import Key

from ..domain.documents import Document
from ..domain.lifecycle import DocumentStatus, LoanStatus
from .aws import Database, Write, store_errors
from .loan_items import loan_key, lost_to

_FIELDS = set(Document.__dataclass_fields__)
# Pending documents have no `uploaded_at` (a condition that needs no reserved word).
_PENDING = "attribute_not_exists(uploaded_at)"


def document_item(document: Document) -> dict[str, Any]:
    return {key: value for key, value in asdict(document).items() if value is not None}


def to_document(item: dict[str, Any]) -> Document:
    return Document(**{key: value for key, value in item.items() if key in _FIELDS})


class DocumentRecords:
    def __init__(self, db: Database, writes: list[Write]):
        self._db = db
        self._writes = writes
        self._name = db.names.documents

    @store_errors
    def of_loan(self, loan_id: str) -> list[Document]:
        query = self._db.query_all(self._name, KeyConditionExpression=Key("loan_id").eq(loan_id), ConsistentRead=True)
        return sorted((to_document(item) for item in query), key=lambda d: (d.created_at, d.document_id))

    @store_errors
    def get(self, loan_id: str, document_id: str) -> Document | None:
        item = self._db.table(self._name).get_item(Key=_key(loan_id, document_id), ConsistentRead=True).get("Item")
        return to_document(item) if item else None

    # -- writes -------------------------------------------------------------------------

    def add(self, document: Document, abandoned: list[Document], limit: int, now: str) -> None:
        """The document, the abandoned ones it replaces removed (if still pending), and the
        loan's count moved by the difference, if the loan is open and has room."""
        self._writes.append(Write.put(self._name, document_item(document), "attribute_not_exists(document_id)"))
        for old in abandoned:
            self._writes.append(Write.delete(self._name, _key(old.loan_id, old.document_id), _PENDING))
        open_loan = "(#status = :active OR (#status = :pending AND funding_deadline > :now))"
        room = "(attribute_not_exists(document_count) OR document_count < :room)"
        self._count(
            document.loan_id,
            1 - len(abandoned),
            f"{open_loan} AND {room}",
            {
                ":active": LoanStatus.ACTIVE,
                ":pending": LoanStatus.PENDING,
                ":now": now,
                ":room": limit + len(abandoned),
            },
        )

    def record_completion(self, document: Document) -> None:
        """Available, with the checked version, if it was still pending."""
        self._writes.append(
            Write.update(
                self._name,
                _key(document.loan_id, document.document_id),
                "SET #status = :available, uploaded_at = :uploaded, version_id = :version",
                f"attribute_exists(document_id) AND {_PENDING}",
                {
                    ":available": DocumentStatus.AVAILABLE,
                    ":uploaded": document.uploaded_at,
                    ":version": document.version_id,
                },
            )
        )

    def remove(self, document: Document) -> None:
        key = _key(document.loan_id, document.document_id)
        self._writes.append(Write.delete(self._name, key, "attribute_exists(document_id)"))
        self._count(document.loan_id, -1, "document_count > :none", {":none": 0})

    def _count(self, loan_id: str, delta: int, condition: str, values: dict[str, Any]) -> None:
        self._writes.append(
            Write.update(
                self._db.names.loans,
                loan_key(loan_id),
                "ADD document_count :delta",
                condition,
                {**values, ":delta": delta},
                conflict=lost_to,
                report=True,
            )
        )


def _key(loan_id: str, document_id: str) -> dict[str, str]:
    return {"loan_id": loan_id, "document_id": document_id}
