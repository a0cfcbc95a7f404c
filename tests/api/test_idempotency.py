"""`Idempotency-Key` through HTTP: a retried request takes effect once and gets the first
response again, byte for byte, with `Idempotent-Replayed: true`; a different request with the
key is refused, as is one made while the first still runs; a crash leaves no effect."""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest

from devstack import mailbox

from conftest import ACH, PASSWORD, Account, assert_error, current_services, unique_email, write_count
from documents_support import PDF, declare, documents, upload


@dataclass
class Case:
    """A request to repeat, who sends it, and how many times its effect shows."""

    account: Account | None  # None: sent without a token
    method: str
    path: str
    body: dict | None
    effects: Callable[[], int]


def loan_body(lender_email: str, amount: float = 100) -> dict:
    return {
        "amount": amount,
        "interest_rate": 5,
        "term": "12 months",
        "purpose": "Van",
        "lenders": [{"email": lender_email, "contribution_amount": amount}],
    }


def events_of(borrower: Account, loan_id: str, kind: str) -> int:
    return sum(e["type"] == kind for e in borrower.events(loan_id))


def register_case(register, **_) -> Case:
    email = unique_email("newcomer")
    body = {"name": "Newcomer", "email": email, "password": PASSWORD}
    return Case(None, "POST", "/auth/register", body, lambda: len(mailbox.sent(email)))


def verify_case(register, **_) -> Case:
    user = register("unverified", verified=False)
    token = mailbox.verification_token(user.email)
    return Case(None, "POST", "/auth/verify-email", {"token": token}, lambda: 1)


def resend_case(register, later_api, **_) -> Case:
    user = register("unverified", verified=False).later(later_api)  # its last link is old there
    return Case(user, "POST", "/auth/resend-verification", None, lambda: len(mailbox.sent(user.email)) - 1)


def create_case(register, **_) -> Case:
    borrower = register("borrower")
    body = loan_body(unique_email("lender"))
    return Case(borrower, "POST", "/loans", body, lambda: len(borrower.get("/loans/my-loans").json()["items"]))


def cancel_case(register, **_) -> Case:
    borrower = register("borrower")
    loan_id = borrower.create_loan([(unique_email("lender"), 100)], amount=100)["loan_id"]
    return Case(borrower, "POST", f"/loans/{loan_id}/cancel", {"reason": "No longer needed"},
                lambda: events_of(borrower, loan_id, "LOAN_CANCELLED"))  # fmt: skip


def invite_case(register, **_) -> Case:
    borrower = register("borrower")
    loan_id = borrower.create_loan([(unique_email("lender"), 100)], amount=100)["loan_id"]
    body = {"lenders": [{"email": unique_email("more"), "contribution_amount": 50}]}
    return Case(borrower, "POST", f"/loans/{loan_id}/invitations", body,
                lambda: events_of(borrower, loan_id, "LENDERS_INVITED"))  # fmt: skip


def accept_case(register, **_) -> Case:
    borrower, lender, other = register("borrower"), register("lender"), register("other")
    loan_id = borrower.create_loan([(lender.email, 40), (other.email, 60)], amount=100)["loan_id"]
    return Case(lender, "PUT", f"/lender/accept/{loan_id}", ACH,
                lambda: events_of(borrower, loan_id, "INVITATION_ACCEPTED"))  # fmt: skip


def decline_case(register, **_) -> Case:
    borrower, lender = register("borrower"), register("lender")
    loan_id = borrower.create_loan([(lender.email, 100)], amount=100)["loan_id"]
    return Case(lender, "PUT", f"/lender/decline/{loan_id}", {"reason": "Not now"},
                lambda: events_of(borrower, loan_id, "INVITATION_DECLINED"))  # fmt: skip


def mark_read_case(register, notifier, **_) -> Case:
    borrower, lender = register("borrower"), register("lender")
    borrower.create_loan([(lender.email, 100)], amount=100)
    notifier.pump()
    ids = [item["notification_id"] for item in lender.get("/user/notifications").json()["items"]]
    unread = lambda: len(lender.get("/user/notifications", params={"unread": "true"}).json()["items"])  # noqa: E731
    return Case(lender, "POST", "/user/notifications/read", {"notification_ids": ids}, lambda: len(ids) - unread())


def repay_case(register, **_) -> Case:
    borrower, lender = register("borrower"), register("lender")
    loan_id = borrower.create_loan([(lender.email, 100)], amount=100)["loan_id"]
    assert lender.accept(loan_id).status_code == 200
    return Case(borrower, "POST", f"/loans/{loan_id}/repayments", {"amount": 10},
                lambda: events_of(borrower, loan_id, "REPAYMENT_RECORDED"))  # fmt: skip


def user_item(user_id: str) -> dict:
    store = current_services().store
    return store.db.table(store.db.names.users).get_item(Key={"user_id": user_id}, ConsistentRead=True)["Item"]


def refresh_tokens_of(user_id: str) -> int:
    store = current_services().store
    found = store.db.client.scan(
        TableName=store.db.names.sessions,
        FilterExpression="user_id = :user AND begins_with(record_id, :refresh)",
        ExpressionAttributeValues={":user": user_id, ":refresh": "refresh#"},
        ConsistentRead=True,
    )
    return len(found["Items"])


def refresh_case(register, **_) -> Case:
    user = register("refresher")  # one refresh token from registration, one from verification
    return Case(None, "POST", "/auth/refresh", {"refresh_token": user.refresh_token},
                lambda: refresh_tokens_of(user.user_id) - 2)  # fmt: skip


def logout_case(register, **_) -> Case:
    user = register("leaver")
    return Case(None, "POST", "/auth/logout", {"refresh_token": user.refresh_token},
                lambda: int(user_item(user.user_id)["token_version"]))  # fmt: skip


def forgot_case(register, **_) -> Case:
    user = register("forgetful")
    return Case(None, "POST", "/auth/forgot-password", {"email": user.email},
                lambda: sum("reset-password" in e["text"] for e in mailbox.sent(user.email)))  # fmt: skip


def reset_case(register, **_) -> Case:
    user = register("resetter")
    assert user.client.post("/auth/forgot-password", json={"email": user.email}).status_code == 202
    body = {"token": mailbox.reset_token(user.email), "new_password": "a brand new password"}
    return Case(None, "POST", "/auth/reset-password", body, lambda: int(user_item(user.user_id)["session_version"]))


def change_case(register, **_) -> Case:
    user = register("changer")
    body = {"current_password": PASSWORD, "new_password": "a brand new password"}
    return Case(user, "PUT", "/user/password", body, lambda: int(user_item(user.user_id)["session_version"]))


def profile_case(register, **_) -> Case:
    user = register("renamed")
    renamed = lambda: int(user.get("/user/profile").json()["name"] == "Renamed Lender")  # noqa: E731
    return Case(user, "PATCH", "/user/profile", {"name": "Renamed Lender", "searchable": True}, renamed)


def create_document_case(register, **_) -> Case:
    borrower = register("borrower")
    loan_id = borrower.create_loan([(unique_email("lender"), 100)], amount=100)["loan_id"]
    body = {"file_name": "payslip.pdf", "content_type": "application/pdf", "size_bytes": len(PDF)}
    return Case(borrower, "POST", f"/loans/{loan_id}/documents", body, lambda: len(documents(borrower, loan_id)))


def complete_document_case(register, **_) -> Case:
    borrower = register("borrower")
    loan_id = borrower.create_loan([(unique_email("lender"), 100)], amount=100)["loan_id"]
    created = declare(borrower, loan_id).json()
    assert upload(created, PDF).status_code == 204
    available = lambda: sum(d["status"] == "AVAILABLE" for d in documents(borrower, loan_id))  # noqa: E731
    return Case(borrower, "POST", f"/loans/{loan_id}/documents/{created['document_id']}/complete", None, available)


CASES = {
    "registerUser": register_case,
    "verifyEmail": verify_case,
    "resendVerification": resend_case,
    "createLoan": create_case,
    "cancelLoan": cancel_case,
    "inviteLenders": invite_case,
    "acceptLoan": accept_case,
    "declineLoan": decline_case,
    "markNotificationsRead": mark_read_case,
    "recordRepayment": repay_case,
    "refreshSession": refresh_case,
    "logoutUser": logout_case,
    "forgotPassword": forgot_case,
    "resetPassword": reset_case,
    "changePassword": change_case,
    "updateProfile": profile_case,
    "createDocument": create_document_case,
    "completeDocument": complete_document_case,
}


def send(case: Case, client: httpx.Client, key: str | None, body: dict | None = None) -> httpx.Response:
    headers = dict(case.account.headers) if case.account else {}
    if key is not None:
        headers["Idempotency-Key"] = key
    http = case.account.client if case.account else client
    return http.request(case.method, case.path, headers=headers, json=body if body is not None else case.body)


def test_every_state_changing_operation_takes_a_key(api) -> None:
    """The spec's POST, PUT and PATCH operations, login aside, all declare the key: the cases cover them."""
    from service.http.routing import load_spec

    declared = {
        op["operationId"]
        for item in load_spec()["paths"].values()
        for method, op in item.items()
        if method in ("post", "put", "patch")
        and {"$ref": "#/components/parameters/IdempotencyKey"} in op.get("parameters", [])
    }
    changing = {
        op["operationId"]
        for item in load_spec()["paths"].values()
        for method, op in item.items()
        if method in ("post", "put", "patch")
    }
    assert declared == set(CASES) == changing - {"loginUser"}


@pytest.mark.parametrize("operation", sorted(CASES))
def test_a_retry_replays_the_first_response_and_takes_effect_once(
    operation, api, register, later_api, notifier
) -> None:
    case = CASES[operation](register, later_api=later_api, notifier=notifier)
    key = str(uuid.uuid4())

    first = send(case, api, key)
    again = send(case, api, key)

    assert 200 <= first.status_code < 300, first.text
    assert "idempotent-replayed" not in first.headers
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers.get("location") == first.headers.get("location")
    assert case.effects() == 1


def test_without_a_key_a_retry_is_a_new_request(register) -> None:
    borrower = register("borrower")
    body = loan_body(unique_email("lender"))
    assert borrower.post("/loans", json=body).status_code == 201
    assert borrower.post("/loans", json=body).status_code == 201
    assert len(borrower.get("/loans/my-loans").json()["items"]) == 2


def test_the_same_key_for_a_different_request_is_refused(register, store) -> None:
    borrower = register("borrower")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = loan_body(unique_email("lender"))
    assert borrower.client.post("/loans", json=body, headers={**borrower.headers, **key}).status_code == 201
    writes = write_count(store)
    for changed in (
        {**body, "purpose": "Car"},
        {**body, "amount": 200, "lenders": [{**body["lenders"][0], "contribution_amount": 200}]},
    ):
        response = borrower.client.post("/loans", json=changed, headers={**borrower.headers, **key})
        assert_error(response, 422, "IDEMPOTENCY_KEY_REUSED")
    assert write_count(store) == writes
    assert len(borrower.get("/loans/my-loans").json()["items"]) == 1
    # Numbers that are equal are the same request, however they are written.
    same = borrower.client.post("/loans", json={**body, "amount": 100.00, "interest_rate": 5.0},
                                headers={**borrower.headers, **key})  # fmt: skip
    assert same.status_code == 201 and same.headers["idempotent-replayed"] == "true"


def test_a_key_is_the_callers_own_and_the_operations(register) -> None:
    one, other = register("borrower"), register("borrower")
    key = {"Idempotency-Key": "order-42"}
    body = loan_body(unique_email("lender"))
    first = one.client.post("/loans", json=body, headers={**one.headers, **key})
    theirs = other.client.post("/loans", json=body, headers={**other.headers, **key})
    assert first.status_code == theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers and first.json()["loan_id"] != theirs.json()["loan_id"]
    # Another operation of the same caller with the same key: its own.
    loan_id = first.json()["loan_id"]
    cancelled = one.client.post(f"/loans/{loan_id}/cancel", headers={**one.headers, **key})
    assert cancelled.status_code == 200 and "idempotent-replayed" not in cancelled.headers


def test_ten_concurrent_requests_with_one_key_take_effect_once(base_url, register) -> None:
    borrower, lender, other = register("borrower"), register("lender"), register("other")
    loan_id = borrower.create_loan([(lender.email, 40), (other.email, 60)], amount=100)["loan_id"]
    headers = {**lender.headers, "Idempotency-Key": str(uuid.uuid4())}
    barrier = threading.Barrier(10)

    def accept() -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            client.get("/health")
            barrier.wait()
            return client.put(f"/lender/accept/{loan_id}", headers=headers, json=ACH)

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda _: accept(), range(10)))

    outcomes = Counter(r.status_code if r.status_code == 200 else r.json()["error"] for r in responses)
    assert set(outcomes) <= {200, "IDEMPOTENCY_KEY_IN_USE"} and outcomes[200] >= 1, outcomes
    assert len({r.content for r in responses if r.status_code == 200}) == 1
    for busy in (r for r in responses if r.status_code == 409):
        assert 1 <= int(busy.headers["retry-after"]) <= 60
    loan = borrower.get(f"/loans/{loan_id}").json()
    assert loan["total_funded"] == 40
    assert events_of(borrower, loan_id, "INVITATION_ACCEPTED") == 1


def test_a_refusal_the_service_decided_is_replayed_too(register) -> None:
    borrower, lender, other = register("borrower"), register("lender"), register("other")
    loan_id = borrower.create_loan([(lender.email, 100), (other.email, 100)], amount=100)["loan_id"]
    assert other.accept(loan_id).status_code == 200
    headers = {**lender.headers, "Idempotency-Key": str(uuid.uuid4())}
    first = lender.client.put(f"/lender/accept/{loan_id}", headers=headers, json=ACH)
    again = lender.client.put(f"/lender/accept/{loan_id}", headers=headers, json=ACH)
    assert_error(first, 409, "LOAN_FULLY_FUNDED")
    assert (again.status_code, again.content, again.headers["idempotent-replayed"]) == (409, first.content, "true")


def test_answers_that_depend_on_more_than_the_request_are_not_kept(register, store) -> None:
    """Refused before the use case ran (invalid), or for who the caller is (not verified yet):
    the same key then works for the request once it can succeed."""
    borrower = register("borrower", verified=False)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = loan_body(unique_email("lender"))
    assert_error(borrower.client.post("/loans", json={**body, "amount": -1}, headers={**borrower.headers, **key}),
                 400, "INVALID_INPUT")  # fmt: skip
    assert_error(borrower.client.post("/loans", json=body, headers={**borrower.headers, **key}),
                 403, "EMAIL_NOT_VERIFIED")  # fmt: skip
    verified = borrower.client.post("/auth/verify-email", json={"token": mailbox.verification_token(borrower.email)})
    headers = {"Authorization": f"Bearer {verified.json()['token']}", **key}
    created = borrower.client.post("/loans", json=body, headers=headers)
    assert created.status_code == 201 and "idempotent-replayed" not in created.headers


@pytest.mark.parametrize("key", ["", "x" * 256, " leading", "trailing ", "tab\there", "naïve"])
def test_a_malformed_key_is_refused(register, store, key) -> None:
    borrower = register("borrower")
    writes = write_count(store)
    try:
        response = borrower.client.post(
            "/loans", json=loan_body(unique_email("lender")), headers={**borrower.headers, "Idempotency-Key": key}
        )
    except (UnicodeEncodeError, httpx.LocalProtocolError):
        return  # the client would not even send it
    if key.strip() != key and key.strip() and response.status_code == 201:
        return  # HTTP trims the spaces around a header value: the key is the rest
    assert_error(response, 400, "INVALID_INPUT")
    assert write_count(store) == writes


def test_a_crash_before_the_commit_leaves_no_effect_and_frees_the_key_in_time(
    register, services, later_api, monkeypatch
) -> None:
    borrower = register("borrower")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = loan_body(unique_email("lender"))
    with monkeypatch.context() as crash:
        # The process dies between taking the key and committing: nothing after runs, so
        # the key is not freed either.
        crash.setattr(services.store.idempotency, "release", lambda pending: None)
        crash.setattr(services.loans, "create", lambda user, body: (_ for _ in ()).throw(RuntimeError("crash")))
        assert borrower.client.post("/loans", json=body, headers={**borrower.headers, **key}).status_code == 500
    assert borrower.get("/loans/my-loans").json()["items"] == []

    busy = borrower.client.post("/loans", json=body, headers={**borrower.headers, **key})
    assert_error(busy, 409, "IDEMPOTENCY_KEY_IN_USE")
    assert 1 <= int(busy.headers["retry-after"]) <= 60

    later = borrower.later(later_api)  # past the marker's lock
    retried = later.client.post("/loans", json=body, headers={**later.headers, **key})
    assert retried.status_code == 201, retried.text
    again = later.client.post("/loans", json=body, headers={**later.headers, **key})
    assert again.headers["idempotent-replayed"] == "true" and again.content == retried.content
    assert len(later.get("/loans/my-loans").json()["items"]) == 1


def test_the_key_is_in_the_access_log(register, caplog) -> None:
    borrower = register("borrower")
    with caplog.at_level("INFO", logger="service.access"):
        borrower.client.post(
            "/loans", json=loan_body(unique_email("l")), headers={**borrower.headers, "Idempotency-Key": "log-me-1"}
        )
    [line] = [r for r in caplog.records if r.name == "service.access" and getattr(r, "idempotency_key", None)]
    assert line.idempotency_key == "log-me-1" and line.status == 201


def test_a_kept_response_is_sealed_in_the_table(api, store) -> None:
    """A registration's answer carries its tokens: the record holds them sealed, so a reader
    of the table alone gets no session, while the retry still gets them back."""
    body = {"name": "Sealed", "email": unique_email("sealed"), "password": PASSWORD}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = api.post("/auth/register", json=body, headers=key)
    again = api.post("/auth/register", json=body, headers=key)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    items = store.db.client.scan(TableName=store.db.names.idempotency, ConsistentRead=True)["Items"]
    [record] = [item for item in items if str(item["scope"]).endswith(key["Idempotency-Key"])]
    for secret in (first.json()["token"], first.json()["refresh_token"], body["email"]):
        assert secret not in json.dumps(record, default=str)
