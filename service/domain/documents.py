"""A loan's documents (pay slips, contracts): what its borrower may attach, and whether an
uploaded file is the one declared.

The file itself never passes through the service: the borrower uploads it straight to storage
through a pre-signed form whose policy fixes its key, type and size range, then asks for it to
be completed. Storage may not enforce that policy (the local stand-in does not), so completing
checks the stored file against its declaration whatever the form said: its size, its content
type and its first bytes. Only a checked file is ever served.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from .errors import AccessDenied, DomainError, InvalidInput
from .lifecycle import DOCUMENTS, LOANS, DocumentEvent, DocumentStatus, LoanEvent, parse_status
from .loans import Loan

MAX_DOCUMENTS = 20
MAX_BYTES = 10 * 1024 * 1024
UPLOAD_SECONDS = 600  # how long an upload form is valid
DOWNLOAD_SECONDS = 300  # how long a download link is valid
# A declared document whose upload was not completed within this time (its form expired 50
# minutes before) is abandoned: it stops counting towards the limit and is removed by the next
# document created on its loan.
ABANDONED_AFTER_SECONDS = 3600
SIGNATURES = {
    "application/pdf": b"%PDF-",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
}
SNIFF_BYTES = max(len(signature) for signature in SIGNATURES.values())
# The contract's pattern for file names: no control characters, no path separators.
_FILE_NAME = re.compile(r"[^\x00-\x1f\x7f-\x9f/\\]{1,255}")


class DocumentNotFound(DomainError):
    code = "DOCUMENT_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("Document not found.")


class DocumentLimitReached(DomainError):
    code = "DOCUMENT_LIMIT_REACHED"

    def __init__(self) -> None:
        super().__init__(f"A loan has at most {MAX_DOCUMENTS} documents; delete one first.", {"limit": MAX_DOCUMENTS})


class DocumentNotUploaded(DomainError):
    code = "DOCUMENT_NOT_UPLOADED"

    def __init__(self) -> None:
        super().__init__("Upload the file to the URL you were given first.")


class DocumentMismatch(DomainError):
    """The stored file is not the one declared (it is deleted, with its document)."""

    code = "DOCUMENT_MISMATCH"

    def __init__(self, field: str, declared: object, found: object):
        what = {"size_bytes": "the declared size", "content_type": "the declared type"}.get(field)
        message = f"The uploaded file does not have {what}" if what else f"The uploaded file is not a {declared} file"
        super().__init__(f"{message}; it was deleted.", {"field": field, "declared": declared, "found": found})


@dataclass(frozen=True)
class Document:
    loan_id: str
    document_id: str
    file_name: str
    content_type: str
    size_bytes: int
    created_at: str
    status: DocumentStatus = DocumentStatus.PENDING_UPLOAD
    uploaded_at: str | None = None
    # The version of the file that was checked: the one every download gets.
    version_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", parse_status(DocumentStatus, self.status))
        object.__setattr__(self, "size_bytes", int(self.size_bytes))
        if not isinstance(self.file_name, str) or not _FILE_NAME.fullmatch(self.file_name):
            raise InvalidInput("'file_name' must be 1-255 characters, with no control characters or slashes.")
        if self.content_type not in SIGNATURES:
            raise InvalidInput(f"'content_type' must be one of {', '.join(SIGNATURES)}.", {"field": "content_type"})
        if not 1 <= self.size_bytes <= MAX_BYTES:
            raise InvalidInput(f"'size_bytes' must be from 1 to {MAX_BYTES}.", {"field": "size_bytes"})

    @property
    def key(self) -> str:
        """Where its file is stored."""
        return f"loans/{self.loan_id}/{self.document_id}"

    def abandoned(self, cutoff: str) -> bool:
        """Still waiting for its upload, and created at or before `cutoff`."""
        return self.status == DocumentStatus.PENDING_UPLOAD and self.created_at <= cutoff


def declared(loan_id: str, document_id: str, body: Mapping[str, object], now: str) -> Document:
    """The document a request declares."""
    name, kind, size = body.get("file_name"), body.get("content_type"), body.get("size_bytes")
    if not isinstance(name, str) or not isinstance(kind, str) or not isinstance(size, int) or isinstance(size, bool):
        raise InvalidInput("'file_name', 'content_type' and 'size_bytes' are required.")
    return Document(loan_id, document_id, name, kind, size, now)


def attach(
    loan: Loan, documents: list[Document], user_id: str, document: Document, now: str, cutoff: str
) -> list[Document]:
    """The abandoned documents that make room for `document` on the borrower's loan: the loan
    must not be final, and have room once those are gone."""
    if loan.borrower_id != user_id:
        raise AccessDenied("Only the loan's borrower may do this.")
    LOANS.next(loan.status, LoanEvent.ATTACH)
    loan.refuse_if_expired(now)
    abandoned = [d for d in documents if d.abandoned(cutoff)]
    if len(documents) - len(abandoned) >= MAX_DOCUMENTS:
        raise DocumentLimitReached()
    return abandoned


def sniff(head: bytes) -> str | None:
    """The content type a file's first bytes say it is, if one of those allowed."""
    return next((kind for kind, signature in SIGNATURES.items() if head.startswith(signature)), None)


def check_stored(document: Document, size_bytes: int, content_type: str | None) -> None:
    """The stored file has the declared size and content type."""
    if size_bytes != document.size_bytes:
        raise DocumentMismatch("size_bytes", document.size_bytes, size_bytes)
    if content_type != document.content_type:
        raise DocumentMismatch("content_type", document.content_type, content_type)


def completed(document: Document, head: bytes, version_id: str | None, now: str) -> Document:
    """The document available, if its file's first bytes are of its type."""
    found = sniff(head)
    if found != document.content_type:
        raise DocumentMismatch("content", document.content_type, found or "unknown")
    status = DOCUMENTS.next(document.status, DocumentEvent.COMPLETE)
    return replace(document, status=status, uploaded_at=now, version_id=version_id)
