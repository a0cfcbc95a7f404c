"""The 20-documents limit under concurrent creates: each on its own connection, released
together by a barrier. The loan's document count is moved in the same transaction as each
record, under a condition, so exactly 20 are created however they race."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from documents_support import PDF, documents

CREATES = 26


def test_concurrent_creates_never_pass_the_limit(base_url, register):
    borrower, lender = register("borrower"), register("lender")
    loan_id = borrower.create_loan([(lender.email, 1000)])["loan_id"]
    for _ in range(3):  # a few already there
        assert borrower.post(f"/loans/{loan_id}/documents", json=_body()).status_code == 201
    barrier = threading.Barrier(CREATES)

    def create(_: int) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=60, headers=borrower.headers) as client:
            client.get("/health")  # open the connection before the start line
            barrier.wait()
            return client.post(f"/loans/{loan_id}/documents", json=_body())

    with ThreadPoolExecutor(max_workers=CREATES) as pool:
        responses = list(pool.map(create, range(CREATES)))

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 17, 409: CREATES - 17}, [r.text for r in responses if r.status_code not in (201, 409)]
    assert {r.json()["error"] for r in responses if r.status_code == 409} == {"DOCUMENT_LIMIT_REACHED"}
    assert len(documents(borrower, loan_id)) == 20


def _body() -> dict:
    return {"file_name": "contract.pdf", "content_type": "application/pdf", "size_bytes": len(PDF)}
