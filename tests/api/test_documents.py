"""Loan documents through HTTP against moto's S3: the borrower declares a file, uploads it
with the returned pre-signed POST, completes it; the invited lenders list and download it.

moto does not enforce a pre-signed POST's policy (its key, content type and size range are
only decoded and checked here), so the check on completion is what keeps a wrong file out:
the refusals below upload exactly what the policy forbids, and each must end with nothing
left in the bucket.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import httpx
import pytest

from conftest import assert_error, current_services, soon, write_count
from documents_support import JPEG, PDF, PNG, attached, declare, documents, stored_versions, upload


@pytest.fixture
def loan(register):
    borrower, lender = register("borrower"), register("lender")
    created = borrower.create_loan([(lender.email, 1000)])
    return borrower, lender, created["loan_id"]


def test_upload_complete_list_download_delete(loan):
    borrower, lender, loan_id = loan
    response = declare(borrower, loan_id, PDF, name="payslip october.pdf")
    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == {"document_id", "status", "upload"} and created["status"] == "PENDING_UPLOAD"
    # Until completed, only the borrower sees it, without a link.
    assert [(d["status"], d["download_url"]) for d in documents(borrower, loan_id)] == [("PENDING_UPLOAD", None)]
    assert documents(lender, loan_id) == []

    assert upload(created, PDF).status_code == 204
    document_id = created["document_id"]
    response = borrower.post(f"/loans/{loan_id}/documents/{document_id}/complete")
    assert response.status_code == 200, response.text
    completed = response.json()
    assert completed["status"] == "AVAILABLE" and completed["uploaded_at"]
    assert (completed["file_name"], completed["content_type"], completed["size_bytes"]) == (
        "payslip october.pdf",
        "application/pdf",
        len(PDF),
    )

    for reader in (borrower, lender):
        [item] = documents(reader, loan_id)
        assert {k: v for k, v in item.items() if k != "download_url"} == {
            k: v for k, v in completed.items() if k != "download_url"
        }
        download = httpx.get(item["download_url"])
        assert download.status_code == 200 and download.content == PDF
        assert download.headers["content-type"] == "application/pdf"
        assert download.headers["content-disposition"] == "attachment; filename*=UTF-8''payslip%20october.pdf"

    response = borrower.client.delete(f"/loans/{loan_id}/documents/{document_id}", headers=borrower.headers)
    assert response.status_code == 204, response.text
    assert documents(borrower, loan_id) == [] and stored_versions(loan_id, document_id) == []
    response = borrower.client.delete(f"/loans/{loan_id}/documents/{document_id}", headers=borrower.headers)
    assert_error(response, 404, "DOCUMENT_NOT_FOUND")


def test_the_upload_policy_fixes_key_type_and_size(loan):
    """Decoded, since moto does not enforce it: S3 refuses any other key, type or size."""
    borrower, _, loan_id = loan
    created = declare(borrower, loan_id, PNG, "image/png").json()
    form = created["upload"]
    fields = form["fields"]
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    key = f"loans/{loan_id}/{created['document_id']}"
    assert fields["key"] == key and {"key": key} in conditions
    assert fields["Content-Type"] == "image/png" and {"Content-Type": "image/png"} in conditions
    assert ["content-length-range", len(PNG), len(PNG)] in conditions
    assert {"tagging": fields["tagging"]} in conditions and "<Value>pending</Value>" in fields["tagging"]
    assert {"bucket": current_services().files.bucket} in conditions
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert 590 <= (expires - datetime.now(UTC)).total_seconds() <= 600
    assert form["expires_at"] == expires.isoformat(timespec="microseconds").replace("+00:00", "Z")
    # The local client gets moto's endpoint, path-style.
    assert form["url"] == f"{current_services().files.client.meta.endpoint_url}/{current_services().files.bucket}"


@pytest.mark.parametrize(
    ("declared", "declared_type", "sent", "fields", "field"),
    [
        (PDF + b"padding", "application/pdf", PDF, {}, "size_bytes"),
        (PDF, "application/pdf", PDF, {"Content-Type": "image/png"}, "content_type"),
        (PNG, "application/pdf", PNG, {}, "content"),
        (JPEG, "image/png", JPEG, {}, "content"),
        (b"<html><script>", "image/jpeg", b"<html><script>", {}, "content"),
    ],
    ids=["wrong size", "wrong type", "png declared as pdf", "jpeg declared as png", "html declared as jpeg"],
)
def test_a_file_that_is_not_the_one_declared_is_deleted(loan, declared, declared_type, sent, fields, field):
    borrower, _, loan_id = loan
    created = declare(borrower, loan_id, declared, declared_type).json()
    document_id = created["document_id"]
    assert upload(created, sent, **fields).status_code == 204  # moto takes what S3 would refuse
    assert stored_versions(loan_id, document_id)

    response = borrower.post(f"/loans/{loan_id}/documents/{document_id}/complete")
    body = assert_error(response, 400, "DOCUMENT_MISMATCH")
    assert body["details"]["field"] == field and body["details"]["declared"] != body["details"]["found"]
    assert stored_versions(loan_id, document_id) == []
    assert documents(borrower, loan_id) == []
    assert_error(borrower.post(f"/loans/{loan_id}/documents/{document_id}/complete"), 404, "DOCUMENT_NOT_FOUND")


def test_completing_before_uploading_changes_nothing(loan, store):
    borrower, _, loan_id = loan
    document_id = declare(borrower, loan_id).json()["document_id"]
    before = write_count(store)
    assert_error(borrower.post(f"/loans/{loan_id}/documents/{document_id}/complete"), 409, "DOCUMENT_NOT_UPLOADED")
    assert write_count(store) == before
    assert [d["status"] for d in documents(borrower, loan_id)] == ["PENDING_UPLOAD"]


def test_only_the_borrower_declares_completes_and_deletes(loan, register, store):
    borrower, lender, loan_id = loan
    stranger = register("stranger")
    other_loan = stranger.create_loan([(lender.email, 1000)])["loan_id"]
    created = declare(borrower, loan_id).json()
    document_id = created["document_id"]
    assert upload(created, PDF).status_code == 204
    before = write_count(store)

    assert_error(declare(lender, loan_id), 403, "ACCESS_DENIED")
    assert_error(declare(stranger, loan_id), 403, "ACCESS_DENIED")
    for caller in (lender, stranger):
        assert_error(caller.post(f"/loans/{loan_id}/documents/{document_id}/complete"), 403, "ACCESS_DENIED")
        response = caller.client.delete(f"/loans/{loan_id}/documents/{document_id}", headers=caller.headers)
        assert_error(response, 403, "ACCESS_DENIED")
    # Someone else's document under the caller's own loan does not exist there.
    assert_error(stranger.post(f"/loans/{other_loan}/documents/{document_id}/complete"), 404, "DOCUMENT_NOT_FOUND")
    assert_error(stranger.get(f"/loans/{loan_id}/documents"), 403, "ACCESS_DENIED")
    assert_error(stranger.get("/loans/3f1c9a9e-5b1e-4c8e-9a57-0d6f2b1e7c11/documents"), 404, "LOAN_NOT_FOUND")

    assert write_count(store) == before
    assert len(stored_versions(loan_id, document_id)) == 1  # the borrower's upload, untouched
    assert [d["status"] for d in documents(borrower, loan_id)] == ["PENDING_UPLOAD"]


def test_downloads_serve_the_checked_version(loan):
    """The form stays valid for its 10 minutes: a second upload through it is a new version,
    which no download serves (and the lifecycle rule removes, as it is tagged pending)."""
    borrower, lender, loan_id = loan
    response = declare(borrower, loan_id)
    created = response.json()
    assert upload(created, PDF).status_code == 204
    completed = borrower.post(f"/loans/{loan_id}/documents/{created['document_id']}/complete").json()
    assert upload(created, b"%PDF-" + b"x" * (len(PDF) - 5)).status_code == 204
    [item] = documents(lender, loan_id)
    assert httpx.get(item["download_url"]).content == PDF
    assert borrower.post(f"/loans/{loan_id}/documents/{created['document_id']}/complete").json() | {
        "download_url": None
    } == completed | {"download_url": None}


def test_documents_only_on_a_loan_that_is_not_final(loan, register, later_api):
    borrower, lender, loan_id = loan
    attached(borrower, loan_id, JPEG, "image/jpeg")
    assert borrower.cancel(loan_id).status_code == 200
    body = assert_error(declare(borrower, loan_id), 409, "INVALID_STATE")
    assert body["details"] == {"status": "CANCELLED", "action": "attach"}
    assert len(documents(lender, loan_id)) == 1  # still readable, and deletable
    # Past its funding deadline, unfunded: expired.
    expiring = borrower.create_loan([(lender.email, 1000)], funding_deadline=soon())["loan_id"]
    assert_error(declare(borrower.later(later_api), expiring), 409, "LOAN_EXPIRED")
    # An ACTIVE loan takes documents.
    funded = borrower.create_loan([(lender.email, 1000)])["loan_id"]
    assert lender.accept(funded).json()["loan"]["status"] == "ACTIVE"
    assert declare(borrower, funded).status_code == 201


def test_the_twenty_first_document_is_refused(loan, store):
    borrower, _, loan_id = loan
    for _ in range(20):
        assert declare(borrower, loan_id).status_code == 201
    before = write_count(store)
    body = assert_error(declare(borrower, loan_id), 409, "DOCUMENT_LIMIT_REACHED")
    assert body["details"] == {"limit": 20}
    assert write_count(store) == before
    # Deleting one makes room for one.
    first = documents(borrower, loan_id)[0]["document_id"]
    assert borrower.client.delete(f"/loans/{loan_id}/documents/{first}", headers=borrower.headers).status_code == 204
    assert declare(borrower, loan_id).status_code == 201
    assert_error(declare(borrower, loan_id), 409, "DOCUMENT_LIMIT_REACHED")


def test_uploads_left_unfinished_for_an_hour_stop_counting(loan, later_api):
    """An hour after it was declared, a pending document is abandoned: hidden, and replaced by
    the next one declared (`later_api` is two hours on)."""
    borrower, _, loan_id = loan
    kept = attached(borrower, loan_id)
    for _ in range(19):
        assert declare(borrower, loan_id).status_code == 201
    later = borrower.later(later_api)
    assert [d["document_id"] for d in documents(later, loan_id)] == [kept["document_id"]]
    for _ in range(19):
        assert declare(later, loan_id).status_code == 201
    assert_error(declare(later, loan_id), 409, "DOCUMENT_LIMIT_REACHED")
    assert len(documents(later, loan_id)) == 20


def test_a_wrong_method_names_every_method_of_the_path(api, loan):
    """The documents' collection has two operations; a 405 on it lists both (Connexion's router
    alone names the first route that matched only)."""
    _, _, loan_id = loan
    response = api.request("PATCH", f"/loans/{loan_id}/documents")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET, HEAD, POST"
