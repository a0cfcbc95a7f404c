"""DynamoDB access: the only package that talks to the table store."""

from .dynamo import Page, Store

__all__ = ["Page", "Store"]
