"""The inbox, and the notifier that fills it from the loans' events.

The notifier runs on the events table's stream (a Lambda function when deployed; the local
stack pumps moto's stream). A stream may deliver a record twice: each notice is put under an
id made from its event, once, and each invitation email is sent after its own once-only marker.
"""

from decimal import Decimal

from ..config import Settings
from ..domain.errors import StoreUnavailable
from ..domain.events import LoanEventRecord
from ..domain.messages import invitation_email
from ..domain.notifications import Notice, invitees, notices
from . import existing
from .ports import LostRace, Mailer, Storage
from .repositories import Page

MAX_ATTEMPTS = 5


class EmailNotSent(RuntimeError):
    """An invitation email failed: the event is to be delivered again (its notices are kept)."""


class NotificationService:
    def __init__(self, store: Storage, mailer: Mailer, settings: Settings):
        self.store = store
        self.mailer = mailer
        self.settings = settings

    def inbox(self, user_id: str, unread: bool, limit: int, cursor: str | None) -> Page:
        """A page of (notice, read) pairs, newest first."""
        uow = self.store.unit_of_work()
        existing(uow.users.get(user_id))
        return uow.notifications.page(user_id, unread, limit, cursor)

    def mark_read(self, user_id: str, notification_ids: list[str]) -> int:
        """Mark the user's unread ones among these read, in one transaction; how many."""
        for _ in range(MAX_ATTEMPTS):
            uow = self.store.unit_of_work()
            existing(uow.users.get(user_id))
            unread = uow.notifications.unread_among(user_id, notification_ids)
            uow.notifications.mark_read(user_id, unread)
            try:
                uow.commit(len(unread))
                return len(unread)
            except LostRace:
                continue  # one was marked read meanwhile: count again
        raise StoreUnavailable("Your notifications are too busy right now; please retry.")

    def handle(self, event: LoanEventRecord) -> int:
        """Notify everyone the event concerns (see `domain.notifications`); how many notices and
        emails were new."""
        uow = self.store.unit_of_work()
        [loan] = uow.loans.get_many({event.loan_id})
        participants = uow.participants.of_loan(event.loan_id)
        new = sum(uow.notifications.add(notice) for notice in notices(event, loan, participants))
        for lender in invitees(event):
            if lender.get("lender_id"):
                continue
            email = invitation_email(
                str(lender["email"]),
                loan.borrower_name,
                Decimal(str(lender["contribution_amount"])),
                self.settings.app_base_url,
            )
            # The marker goes first, so a redelivered event sends no second email; a failed
            # send gives the marker back and fails the event, so its redelivery tries again.
            marker = Notice(
                f"email#{email.to}",
                f"{event.at}#{event.event_id}",
                event.type,
                event.loan_id,
                event.event_id,
                email.subject,
                event.at,
            )
            if not uow.notifications.add(marker):
                continue
            if not self.mailer.send(email):
                uow.notifications.forget(marker)
                raise EmailNotSent(f"invitation email for event {event.event_id} not sent")
            new += 1
        return new
