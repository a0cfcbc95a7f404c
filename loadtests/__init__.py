"""Load testing: Locust scenarios (`locustfile.py`), the local multi-worker stack they run
against (`stack.py`), the funding-invariant checker (`invariants.py`, `check.py`) and the
`make load` driver (`python -m loadtests`)."""
