"""Credentials: password hashing (`passwords`) and bearer tokens (`tokens`)."""
