"""Loan documents through HTTP: declaring one, uploading its file with the returned pre-signed
form (as a browser or `curl -F` would), and reading the bucket behind it."""

from __future__ import annotations

import httpx

from conftest import Account, current_services

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(17)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(20)


def declare(borrower: Account, loan_id: str, content: bytes = PDF, content_type: str = "application/pdf",
            name: str = "payslip.pdf", size: int | None = None) -> httpx.Response:  # fmt: skip
    body = {"file_name": name, "content_type": content_type, "size_bytes": len(content) if size is None else size}
    return borrower.post(f"/loans/{loan_id}/documents", json=body)


def upload(created: dict, content: bytes, **fields: str) -> httpx.Response:
    """POST the file to the form's URL with its fields (some replaced, to break its policy)."""
    form = created["upload"]
    return httpx.post(form["url"], data={**form["fields"], **fields}, files={"file": ("upload", content)})


def attached(borrower: Account, loan_id: str, content: bytes = PDF, content_type: str = "application/pdf") -> dict:
    """A document declared, uploaded and completed: as the complete call answered it."""
    response = declare(borrower, loan_id, content, content_type)
    assert response.status_code == 201, response.text
    created = response.json()
    assert upload(created, content).status_code in (200, 201, 204)
    response = borrower.post(f"/loans/{loan_id}/documents/{created['document_id']}/complete")
    assert response.status_code == 200, response.text
    return response.json()


def stored_versions(loan_id: str, document_id: str) -> list[dict]:
    """Every version and delete marker the bucket holds for the document's key."""
    files = current_services().files
    key = f"loans/{loan_id}/{document_id}"
    listing = files.client.list_object_versions(Bucket=files.bucket, Prefix=key)
    return [v for v in listing.get("Versions", []) + listing.get("DeleteMarkers", []) if v["Key"] == key]


def documents(account: Account, loan_id: str) -> list[dict]:
    response = account.get(f"/loans/{loan_id}/documents")
    assert response.status_code == 200, response.text
    return response.json()["items"]
