"""DynamoDB access: the only package that talks to the table store."""

from .dynamo import Page, Store
from .vault import AchVault

__all__ = ["AchVault", "Page", "Store"]
