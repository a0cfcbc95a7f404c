"""A loan's documents: the borrower declares one and gets a pre-signed upload form, completes
it once uploaded (the stored file is checked against what was declared), lists and deletes
them; the invited lenders list the checked ones, each with a short-lived download link."""

import contextlib
from dataclasses import dataclass
from typing import Any

from ..domain.deadlines import at
from ..domain.documents import (
    ABANDONED_AFTER_SECONDS,
    DOWNLOAD_SECONDS,
    MAX_DOCUMENTS,
    SNIFF_BYTES,
    UPLOAD_SECONDS,
    Document,
    DocumentMismatch,
    DocumentNotFound,
    DocumentNotUploaded,
    attach,
    check_stored,
    completed,
    declared,
)
from ..domain.lifecycle import DocumentStatus
from . import new_id, too_busy
from .files import Files, UploadForm
from .loans import membership, own_loan, visible_loan
from .ports import Clock, LostRace, Storage, UnitOfWork

MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class DocumentView:
    document: Document
    download_url: str | None


class DocumentService:
    def __init__(self, store: Storage, files: Files, clock: Clock):
        self.store = store
        self.files = files
        self.clock = clock

    def create(self, user_id: str, loan_id: str, body: dict[str, Any]) -> tuple[Document, UploadForm]:
        """A PENDING_UPLOAD document on the caller's open loan, and the form that uploads its file.
        The loan's document count commits with it (see `store.documents`); a create that lost
        a race for the last places decides again."""
        for _ in range(MAX_ATTEMPTS):
            uow = self.store.unit_of_work()
            loan = own_loan(membership(uow, user_id, loan_id, verified=True), user_id)
            now = self.clock.timestamp()
            document = declared(loan_id, new_id(), body, now)
            abandoned = attach(loan, uow.documents.of_loan(loan_id), user_id, document, now, self._cutoff())
            uow.documents.add(document, abandoned, MAX_DOCUMENTS, now)
            created = document, self.files.upload_form(document, UPLOAD_SECONDS)
            try:
                uow.commit(created)
                return created
            except LostRace:
                continue
        raise too_busy("loan")

    def complete(self, user_id: str, loan_id: str, document_id: str) -> DocumentView:
        """The document AVAILABLE once its stored file is the one declared; a file that is not
        is deleted with its document (`DOCUMENT_MISMATCH`). Completing again changes nothing."""
        for _ in range(MAX_ATTEMPTS):
            uow = self.store.unit_of_work()
            document = self._own_document(uow, user_id, loan_id, document_id)
            if document.status == DocumentStatus.AVAILABLE:
                return self._view(document)
            stored = self.files.stat(document.key)
            if stored is None:
                raise DocumentNotUploaded()
            try:
                check_stored(document, stored.size_bytes, stored.content_type)
                head = self.files.head(document.key, stored.version_id, SNIFF_BYTES)
                available = completed(document, head, stored.version_id, self.clock.timestamp())
            except DocumentMismatch:
                with contextlib.suppress(LostRace):  # deleted meanwhile: nothing left to remove
                    self._discard(uow, document)
                raise
            self.files.mark_checked(document.key, stored.version_id)
            uow.documents.record_completion(available)
            view = self._view(available)
            try:
                uow.commit(view)
                return view
            except LostRace:
                continue  # completed or deleted meanwhile: read it again
        raise too_busy("document")

    def of_loan(self, user_id: str, loan_id: str) -> list[DocumentView]:
        """The borrower's view: every document but the abandoned; a lender's: the available."""
        uow = self.store.unit_of_work()
        loan = visible_loan(membership(uow, user_id, loan_id), user_id)
        cutoff, borrower = self._cutoff(), loan.borrower_id == user_id
        return [
            self._view(document)
            for document in uow.documents.of_loan(loan_id)
            if not document.abandoned(cutoff) and (borrower or document.status == DocumentStatus.AVAILABLE)
        ]

    def delete(self, user_id: str, loan_id: str, document_id: str) -> None:
        """The file (every version), then the record: a failure in between leaves the record,
        and deleting again finishes the job."""
        for _ in range(MAX_ATTEMPTS):
            uow = self.store.unit_of_work()
            own_loan(membership(uow, user_id, loan_id), user_id)
            document = uow.documents.get(loan_id, document_id)
            if document is None:
                raise DocumentNotFound()
            try:
                self._discard(uow, document)
                return
            except LostRace:
                continue
        raise too_busy("loan")

    def _own_document(self, uow: UnitOfWork, user_id: str, loan_id: str, document_id: str) -> Document:
        own_loan(membership(uow, user_id, loan_id), user_id)
        document = uow.documents.get(loan_id, document_id)
        if document is None or document.abandoned(self._cutoff()):
            raise DocumentNotFound()
        return document

    def _discard(self, uow: UnitOfWork, document: Document) -> None:
        self.files.purge(document.key)
        uow.documents.remove(document)
        uow.commit()

    def _view(self, document: Document) -> DocumentView:
        available = document.status == DocumentStatus.AVAILABLE
        return DocumentView(document, self.files.download_url(document, DOWNLOAD_SECONDS) if available else None)

    def _cutoff(self) -> str:
        """Documents created at or before this, still pending, are abandoned."""
        return at(self.clock.now() - ABANDONED_AFTER_SECONDS)
