"""The benchmark's baseline (`benchmarks/bench.py`) drives the same use cases as the API, on
the local stack: registering, creating a loan and racing accepts through it still work, and
answer as the API would (a handler-level call broke once the handlers read their request)."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from benchmarks import bench
from service.bootstrap import bootstrap


def test_the_baseline_registers_lends_and_accepts_through_the_use_cases(services) -> None:
    # As the benchmark configures the service: its accounts' domain verified on registration.
    domain = bench.BENCH_ENV["AUTO_VERIFY_EMAIL_DOMAIN"]
    services = bootstrap(replace(services.settings, auto_verify_email_domain=domain), store=services.store)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(bench._APP, "services", services)
        lenders, [loan_id] = bench.direct_setup(4, 1, uuid.uuid4().hex[:8], amount=100, contribution=40)
        outcomes = [bench._direct_accept(services, lender, loan_id)[1] for lender in lenders]

    # 40 + 40, then the last 20 of the third offer, then nothing left.
    assert outcomes == ["ACCEPTED", "ACCEPTED", "ACCEPTED", "LOAN_FULLY_FUNDED"]
    loan = services.loans.get(lenders[0], loan_id).loan
    assert loan.status == "ACTIVE" and loan.total_funded == loan.amount == 100
