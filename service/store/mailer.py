"""Email through Amazon SES (the v2 API), from the one sender identity the stack allows."""

import logging
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ..domain.messages import Email
from .aws import BOTO_CONFIG

logger = logging.getLogger(__name__)


class SesMailer:
    def __init__(self, sender: str, client: Any = None):
        self.sender = sender
        self.client = client or boto3.client("sesv2", config=BOTO_CONFIG)

    def send(self, email: Email) -> bool:
        """Send one email; False (and an error log line) if SES refused or failed.

        Email is sent after the change it reports has committed, so a failure here must
        not undo or fail that change: the caller can offer to send it again."""
        try:
            self.client.send_email(
                FromEmailAddress=self.sender,
                Destination={"ToAddresses": [email.to]},
                Content={
                    "Simple": {
                        "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                        "Body": {"Text": {"Data": email.text, "Charset": "UTF-8"}},
                    }
                },
            )
        except (ClientError, BotoCoreError) as exc:
            logger.error("email not sent: %s", exc, extra={"subject": email.subject})
            return False
        return True
