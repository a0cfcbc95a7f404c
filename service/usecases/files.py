"""What the document use cases need from the file store (S3 in `service.store.files`)."""

from dataclasses import dataclass
from typing import Protocol

from ..domain.documents import Document


@dataclass(frozen=True)
class UploadForm:
    """A pre-signed POST: the URL, the form fields to send with the file, and until when."""

    url: str
    fields: dict[str, str]
    expires_at: str


@dataclass(frozen=True)
class StoredFile:
    size_bytes: int
    content_type: str | None
    version_id: str | None


class Files(Protocol):
    """Where documents' files are stored. Pre-signing makes no call: the upload and the download
    are the client's requests, made with the service's permissions."""

    def upload_form(self, document: Document, seconds: int) -> UploadForm: ...
    def download_url(self, document: Document, seconds: int) -> str: ...
    def stat(self, key: str) -> StoredFile | None:
        """The newest version stored under `key`, if any."""

    def head(self, key: str, version_id: str | None, count: int) -> bytes:
        """The first `count` bytes of that version (one ranged read)."""

    def mark_checked(self, key: str, version_id: str | None) -> None:
        """That version passed its check (storage's expiry of unchecked uploads spares it)."""

    def purge(self, key: str) -> None:
        """Every version stored under `key`, deleted for good."""
