"""Test data for the load scenarios: accounts, loan requests and ACH details, all made
through the API by the run itself. No Locust imports here, so the benchmark can share it."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import ROUND_UP, Decimal

from loadtests.invariants import money

PASSWORD = "load-test-password-1"
ACH = {
    "bank_name": "First Example Bank",
    "account_type": "checking",
    "routing_number": "011000015",  # a valid ABA checksum
    "account_number": "000123456789",
}
MAX_LENDERS_PER_LOAN = 40  # the contract's maxItems
CENT = Decimal("0.01")
# Given on most loans (EQUAL_INSTALMENTS is also the default when left out).
REPAYMENT_TYPES = ["EQUAL_INSTALMENTS", "SINGLE_PAYMENT", "SINGLE_PAYMENT"]


def lender_email(run_id: str, index: int) -> str:
    """The pool is deterministic per run id, so several Locust processes given the same
    `--run-id` agree on it."""
    return f"lender-{run_id}-{index:04d}@loadtest.example.com"


def borrower_email(run_id: str, index: int, salt: str) -> str:
    return f"borrower-{run_id}-{index:04d}-{salt}@loadtest.example.com"


def cents(value: Decimal) -> float:
    """A JSON number with at most two decimals (repr of n/100 is exact to the cent)."""
    return float(value.quantize(CENT))


def loan_request(
    pool: list[str], lenders_per_loan: int, oversubscription: float, rng: random.Random | None = None
) -> tuple[dict, Decimal]:
    """A loan inviting a random subset of the lender pool whose contributions add up to
    about `oversubscription` × the amount (never less than the amount): more lenders than
    the loan needs, so acceptances race and some end partially filled or refused."""
    rng = rng or random.Random()
    amount = Decimal(rng.randrange(50_000, 500_000)) / 100  # 500.00 .. 4999.99
    k = min(len(pool), lenders_per_loan, MAX_LENDERS_PER_LOAN)
    k = rng.randint(max(1, k // 2), k)
    emails = rng.sample(pool, k)
    base = amount * Decimal(str(oversubscription)) / k
    contributions = [max(CENT, (base * Decimal(str(rng.uniform(0.5, 1.5)))).quantize(CENT)) for _ in emails]
    shortfall = amount - sum(contributions)
    if shortfall > 0:
        contributions[0] = (contributions[0] + shortfall).quantize(CENT, ROUND_UP)
    body = {
        "amount": cents(amount),
        "interest_rate": cents(Decimal(rng.randrange(100, 1500)) / 100),
        "term": f"{rng.choice([3, 6, 12, 24, 36])} months",
        **({"repayment_type": rng.choice(REPAYMENT_TYPES)} if rng.random() < 0.6 else {}),
        "purpose": "Load test",
        "description": "Created by the load test run.",
        "lenders": [
            {"email": email, "contribution_amount": cents(c)} for email, c in zip(emails, contributions, strict=True)
        ],
    }
    return body, amount


def short_deadline(window_seconds: float, rng: random.Random | None = None) -> str:
    """A funding deadline a few seconds past the shortest the API accepts, so the loan expires
    during the run unless it is funded (or cancelled) first."""
    rng = rng or random.Random()
    moment = datetime.now(UTC) + timedelta(seconds=window_seconds + rng.uniform(2, 6))
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def more_lenders(
    pool: list[str], invited: set[str], offers: list[Decimal], rng: random.Random | None = None
) -> list[dict]:
    """A pool lender the loan has not invited for each of `offers` (as many as there are):
    what a borrower does to replace lenders who declined."""
    rng = rng or random.Random()
    candidates = [email for email in pool if email not in invited]
    chosen = rng.sample(candidates, min(len(candidates), len(offers)))
    return [{"email": email, "contribution_amount": cents(offer)} for email, offer in zip(chosen, offers, strict=False)]


# kind -> weight among a borrower's repayments
KINDS = {"instalment": 4, "odd": 3, "whole": 3, "concurrent": 2, "over": 1}


def next_unpaid(schedule: dict) -> Decimal:
    """What the oldest instalment not yet paid in full still asks (0 when all are paid)."""
    for row in schedule["instalments"]:
        unpaid = money(row["amount"]) - money(row["paid"])
        if unpaid > 0:
            return unpaid
    return Decimal(0)


def odd_amount(outstanding: Decimal, rng: random.Random) -> Decimal:
    """An amount of odd cents up to half of what is outstanding (at least a cent)."""
    top = max(1, int(outstanding / CENT) // 2)
    return Decimal(rng.randrange(1, top + 1) | 1 if top > 1 else 1) * CENT


def repayment_amounts(kind: str, schedule: dict, rng: random.Random | None = None) -> list[Decimal]:
    """The amounts a borrower sends for one `kind` of repayment (several at once for
    "concurrent": either all within the outstanding, or a race in which one completes the loan
    and the others are refused); none when nothing is outstanding."""
    rng = rng or random.Random()
    outstanding = money(schedule["totals"]["outstanding"])
    if outstanding <= 0:
        return []
    if kind == "instalment":
        return [min(next_unpaid(schedule) or outstanding, outstanding)]
    if kind == "odd":
        return [odd_amount(outstanding, rng)]
    if kind == "whole":
        return [outstanding]
    if kind == "over":
        return [outstanding + Decimal(rng.randrange(1, 10_000)) * CENT]
    if kind == "concurrent":
        if rng.random() < 0.5:
            return [odd_amount(outstanding / 2, rng) for _ in range(rng.randint(2, 3))]  # they all fit
        return [outstanding, odd_amount(outstanding, rng), *([next_unpaid(schedule)] if rng.random() < 0.5 else [])]
    raise ValueError(f"no such kind of repayment: {kind}")
