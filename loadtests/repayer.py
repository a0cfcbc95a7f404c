"""The borrowers' repayments: once one of their loans is ACTIVE, a borrower reads its schedule
and repays it, in one of these ways (`KINDS`): the unpaid part of the next instalment, an odd
amount, the whole outstanding (which completes the loan), several repayments at once on the
one loan (racing each other, and often the one that completes it), or more than is
outstanding, which the API must refuse (`400 INVALID_AMOUNT`, an expected refusal). Every
repayment goes through the Idempotency-Key retries of `keyed.py`; each answer is checked
(`ledger.check_repayment`), and the loan read again after it."""

from __future__ import annotations

import random
import uuid
from decimal import Decimal

import gevent.pool
from locust import task

from loadtests.api_user import ApiUser
from loadtests.invariants import money
from loadtests.ledger import check_repayment
from loadtests.scenario import KINDS, cents, repayment_amounts
from loadtests.users import RunState, body, unexpected, write_record


class RepayingUser(ApiUser):
    """The repayment part of a borrower (`borrower.BorrowerUser`): `repaying` holds the ids of
    their loans seen ACTIVE and not yet seen COMPLETED."""

    abstract = True
    repaying: set[str]

    def note_status(self, loan_id: str, status: str | None) -> None:
        if status == "ACTIVE":
            self.repaying.add(loan_id)
        elif loan_id in self.repaying and status == "COMPLETED":
            self.repaying.discard(loan_id)
            RunState.outcomes["loans completed"] += 1

    @task(5)
    def repay(self) -> None:
        if not self.repaying:
            return
        loan_id = random.choice(sorted(self.repaying))
        schedule = self.get_json(f"/loans/{loan_id}/schedule", "/loans/[loan_id]/schedule")
        if schedule is None:
            return
        kind = random.choices(list(KINDS), weights=list(KINDS.values()))[0]
        amounts = repayment_amounts(kind, schedule)
        outstanding = money(schedule["totals"]["outstanding"])
        if len(amounts) == 1:
            self.send_repayment(loan_id, amounts[0], outstanding, racing=False)
        elif amounts:
            RunState.outcomes["concurrent repayments"] += len(amounts)
            group = gevent.pool.Group()
            for amount in amounts:
                group.spawn(self.send_repayment, loan_id, amount, outstanding, True)
            group.join(raise_error=True)
        loan = self.get_json(f"/loans/{loan_id}", "/loans/[loan_id]")
        if loan is not None:
            self.note_status(loan_id, loan.get("status"))

    def send_repayment(self, loan_id: str, amount: Decimal, outstanding: Decimal, racing: bool) -> None:
        """One repayment and its verdict: recorded (and sound), or refused as it must be: more
        than `outstanding` (as read before) is INVALID_AMOUNT; with `racing` ones, the one that
        lost may find the outstanding lower (INVALID_AMOUNT) or the loan COMPLETED (INVALID_STATE)."""
        key = str(uuid.uuid4())
        write_record({"loan_id": loan_id, "repay_key": key})  # before it is sent, as a create's
        with self.changing(
            "POST",
            f"/loans/{loan_id}/repayments",
            json={"amount": cents(amount)},
            name="/loans/[loan_id]/repayments",
            loan_id=loan_id,
            key=key,
        ) as response:
            answer = body(response)
            code, details = answer.get("error"), answer.get("details") or {}
            if response.status_code == 201:
                result = "RECORDED"
                broken = check_repayment(loan_id, answer)
                if amount > outstanding:
                    response.failure(f"{amount} recorded with {outstanding} outstanding")
                elif broken or money(answer.get("amount", 0)) != amount:
                    response.failure(f"repayment broken: {broken[0] if broken else answer.get('amount')}"[:300])
            elif response.status_code == 400 and code == "INVALID_AMOUNT" and (racing or amount > outstanding):
                result = code
                if "outstanding" in details and money(details["outstanding"]) < amount:
                    response.success()
                else:
                    response.failure(f"{amount} refused with {details.get('outstanding')} outstanding")
            elif response.status_code == 409 and code == "INVALID_STATE" and racing:
                result = code
                response.success()
            else:
                result = f"HTTP {response.status_code}"
                unexpected(response, f"repaying {amount} of {outstanding}")
        RunState.outcomes[f"repay {result}"] += 1
