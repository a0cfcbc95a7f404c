"""DynamoDB access: the only package that talks to the table store."""

from .dynamo import Page, Store
from .mailer import SesMailer
from .vault import AchVault

__all__ = ["AchVault", "Page", "SesMailer", "Store"]
