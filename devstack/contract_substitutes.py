"""The real data the contract run's hooks put into part of the positive cases
(`devstack/contract_hooks.py` says which cases), from the fixtures `devstack/contract_setup.py`
made, or made here through the API.

- `loginUser`: a peer's credentials.
- `createLoan`: contributions covering the amount, fresh invitees, and a deadline inside the
  allowed window if it asks for one.
- `cancelLoan`: one of alice's own pending loans (each used once); `inviteLenders`: the same,
  with fresh invitees (39 at most: the loan has one).
- `acceptLoan`, `declineLoan`: a loan the caller is invited to (each used once).
- `getLoanSchedule`, `getRepayments`, `recordRepayment`: one of the caller's funded loans
  (repaying a cent).
- `verifyEmail`: a freshly emailed token (local stack only: there is no mailbox to read on a
  deployed one); `resendVerification`: an account that may ask for a new link (local stack
  only); `resetPassword`: a freshly emailed reset token of an account of its own (local
  stack only).
- `searchLenders`: the start of a searchable lender's name.
- `getMyLoans`, `getPendingInvitations`, `getNotifications`: the first page (no cursor).
- `createDocument`, `listDocuments`: one of the caller's own loans; `completeDocument` (its
  file uploaded), `deleteDocument`: a document of theirs (each used once).
- `refreshSession`: a refresh token of alice's; `logoutUser`: one of an account of its own (a
  logout refuses its user's access tokens, and alice's are every other case's).
- `changePassword` (`as_own_account`): every case of it, in every phase, is sent as an
  account of its own (a wrong current password counts toward its account's login lockout, a
  right one refuses its access tokens: alice's would lock her out or end the run), and the
  positive cases on their turn, in the stateful phase too, get that account's real password.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from devstack.contract_accounts import login, logout, refresh, resend, reset, verify
from devstack.contract_setup import fixtures

_lock = threading.Lock()
_funded_turns = itertools.count()


def _loan_used_once(pool_of: Callable[[dict, Any], list]) -> Callable[[Any], bool]:
    """A substitute that takes the next loan of a pool (`pool_of(fixtures, case)`), each once,
    in place of the generated id."""

    def substitute(case) -> bool:
        if not isinstance(case.path_parameters, dict):
            return False
        with _lock:
            pool = pool_of(fixtures(), case)
            loan_id = pool.pop(0) if pool else None
        if loan_id is None:
            return False
        case.path_parameters["loan_id"] = loan_id
        return True

    return substitute


# A loan the caller is invited to and has not answered.
_invited_loan = _loan_used_once(lambda data, case: data["invited_loans"].get(case.auth_identity or "", []))
# One of alice's own PENDING loans (a cancel ends it).
_pending_loan = _loan_used_once(lambda data, case: data["pending_loans"])


def _funded_loan(case) -> bool:
    """One of the caller's funded loans (in turn), in place of the generated id; a repayment
    of a cent, so that the loans never run out of what they owe."""
    if not isinstance(case.path_parameters, dict):
        return False
    with _lock:
        pool = fixtures()["funded_loans"].get(case.auth_identity or "", [])
        loan_id = pool[next(_funded_turns) % len(pool)] if pool else None
    if loan_id is None:
        return False
    case.path_parameters["loan_id"] = loan_id
    if isinstance(case.body, dict):
        case.body = {**case.body, "amount": 0.01}
    return True


def _own_loan(case) -> bool:
    """One of alice's own loans (taken in turn), to declare documents on or list them."""
    if not isinstance(case.path_parameters, dict):
        return False
    with _lock:
        pool = fixtures()["document_loans"]
        pool.append(pool.pop(0))
        case.path_parameters["loan_id"] = pool[-1]
    return True


def _document(pool_name: str):
    """A document of alice's (each used once): uploaded and waiting to be completed, or declared."""

    def substitute(case) -> bool:
        if not isinstance(case.path_parameters, dict):
            return False
        with _lock:
            pool = fixtures()[pool_name]
            found = pool.pop(0) if pool else None
        if found is None:
            return False
        case.path_parameters["loan_id"], case.path_parameters["document_id"] = found
        return True

    return substitute


def _fresh_invitees(lenders: list, contribution: object = None) -> list[dict]:
    """The generated invitations with fresh emails (never the borrower, never twice) and, if
    given, that contribution each."""
    domain = fixtures()["email_domain"]
    return [
        {
            **lender,
            "email": f"contract-invitee-{uuid.uuid4().hex[:10]}@{domain}",
            **({} if contribution is None else {"contribution_amount": contribution}),
        }
        for lender in lenders
        if isinstance(lender, dict)
    ]


def _covered_loan(case) -> bool:
    """The generated loan request with its lenders' contributions covering its amount and, if
    it asks for a deadline, one a week from now (the rules the schema cannot say: generated
    date-times, and the loans' timestamps Schemathesis reuses from earlier responses, fall
    outside the allowed window), and fresh invitees."""
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("lenders"), list) or not body["lenders"]:
        return False
    amount = body.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, (int, float)):
        return False
    case.body = {**body, "lenders": _fresh_invitees(body["lenders"], amount)}
    if "funding_deadline" in body:
        case.body["funding_deadline"] = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    return bool(case.body["lenders"])


def _invite(case) -> bool:
    """Fresh invitees for one of alice's PENDING loans, which has one lender already: at most
    39 more, within the 40 a loan may have."""
    if not isinstance(case.body, dict) or not isinstance(case.body.get("lenders"), list):
        return False
    lenders = _fresh_invitees(case.body["lenders"][:39])
    if not lenders or not _pending_loan(case):
        return False
    case.body = {**case.body, "lenders": lenders}
    return True


def _accept(case) -> bool:
    return isinstance(case.body, dict) and _invited_loan(case)


def _search(case) -> bool:
    """The start of a searchable lender's name (any case), so a search finds someone."""
    if not isinstance(case.query, dict):
        return False
    case.query["q"] = fixtures()["searchable_name"][:12].upper()
    return True


def _first_page(case) -> bool:
    """The list's first page, as a client asks for it: without a cursor (a made-up one is
    refused, and the other cases still send them)."""
    if not isinstance(case.query, dict):
        return False
    case.query.pop("cursor", None)
    return True


SUBSTITUTES = {
    "createLoan": _covered_loan,
    "cancelLoan": _pending_loan,
    "inviteLenders": _invite,
    "loginUser": login,
    "acceptLoan": _accept,
    "declineLoan": _invited_loan,
    "verifyEmail": verify,
    "resendVerification": resend,
    "getLoanSchedule": _funded_loan,
    "recordRepayment": _funded_loan,
    "getRepayments": _funded_loan,
    "refreshSession": refresh,
    "logoutUser": logout,
    "resetPassword": reset,
    "searchLenders": _search,
    "getMyLoans": _first_page,
    "getPendingInvitations": _first_page,
    "getNotifications": _first_page,
    "createDocument": _own_loan,
    "listDocuments": _own_loan,
    "completeDocument": _document("uploaded_documents"),
    "deleteDocument": _document("declared_documents"),
}
