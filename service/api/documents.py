"""Operations tagged `documents`."""

from typing import Any

from ..bootstrap import Services
from ..domain.documents import Document
from ..http.idempotency import idempotently
from ..usecases.documents import DocumentView
from ..usecases.files import UploadForm
from .views import Reply


def list_documents(services: Services, user: str, loan_id: str) -> Reply:
    return {"items": [_document(view) for view in services.documents.of_loan(user, loan_id)]}, 200


def create_document(services: Services, user: str, loan_id: str, body: dict[str, Any]) -> Reply:
    def render(created: tuple[Document, UploadForm]) -> Reply:
        document, form = created
        upload = {"url": form.url, "fields": form.fields, "expires_at": form.expires_at}
        return {"document_id": document.document_id, "status": document.status, "upload": upload}, 201

    return idempotently(services, lambda: services.documents.create(user, loan_id, body), render, user, body)


def complete_document(services: Services, user: str, loan_id: str, document_id: str) -> Reply:
    def render(view: DocumentView) -> Reply:
        return _document(view), 200

    return idempotently(services, lambda: services.documents.complete(user, loan_id, document_id), render, user)


def delete_document(services: Services, user: str, loan_id: str, document_id: str) -> Reply:
    services.documents.delete(user, loan_id, document_id)
    return None, 204


def _document(view: DocumentView) -> dict[str, Any]:
    document = view.document
    return {
        "document_id": document.document_id,
        "file_name": document.file_name,
        "content_type": document.content_type,
        "size_bytes": document.size_bytes,
        "status": document.status,
        "uploaded_at": document.uploaded_at,
        "download_url": view.download_url,
    }
