"""Local AWS stand-in (moto server + the real database stack) used by `make run`, tests and load tests."""
