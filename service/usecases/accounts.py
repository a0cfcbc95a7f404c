"""Registering, logging in, the caller's profile, and the invitations waiting for an email."""

from dataclasses import replace

from ..config import Settings
from ..domain.errors import InvalidCredentials, InvalidEmail
from ..domain.invitations import Invitation
from ..domain.messages import verification_email
from ..domain.secret_tokens import SecretToken
from ..domain.users import User, check_password, clean_name, normalize_email, trim
from ..domain.verification import TOKEN_TTL_SECONDS
from . import count_attempt, existing, new_id
from .ports import Clock, LostRace, Mailer, Passwords, Storage, UnitOfWork
from .sessions import Session, SessionService


class AccountService:
    def __init__(
        self,
        store: Storage,
        passwords: Passwords,
        sessions: SessionService,
        mailer: Mailer,
        clock: Clock,
        settings: Settings,
    ):
        self.store = store
        self.passwords = passwords
        self.sessions = sessions
        self.mailer = mailer
        self.clock = clock
        self.settings = settings

    def register(self, name: object, email: object, password: object) -> Session:
        """A new account, with a session; unverified (and sent a verification email) unless its
        domain is verified on registration, in which case waiting invitations attach at once."""
        now = self.clock.now()
        address = normalize_email(email)
        verified = self.settings.verified_on_registration(address)
        user = User(
            user_id=new_id(),
            email=address,
            name=clean_name(name),
            created_at=self.clock.timestamp(),
            email_verified=verified,
        )
        verification = None if verified else SecretToken.issue(now, TOKEN_TTL_SECONDS)
        uow = self.store.unit_of_work()
        uow.users.add(user, self.passwords.hash(check_password(password)), verification)
        if verification is None:
            return self.commit_verified(uow, user)
        session = self.sessions.start(uow, user)
        uow.commit(session)
        self.mailer.send(verification_email(user.email, user.name, self.settings.app_base_url, verification.token))
        return session

    def commit_verified(self, uow: UnitOfWork, user: User) -> Session:
        """Commit what makes `user` verified, answering with their session as it will be once
        the invitations waiting for their email are theirs; then make them theirs (each in a
        transaction of its own, after the one that answers)."""
        waiting = uow.invitations.pending_for(user.email)
        session = self.sessions.start(uow, replace(user, is_lender=user.is_lender or bool(waiting)))
        uow.commit(session)
        self.activate_invitations(user, waiting)
        return session

    def login(self, email: object, password: str) -> Session:
        """Every attempt is counted before the password is checked (see `domain.throttling`)."""
        throttle, now = self.settings.login_throttle, self.clock.now()
        try:
            address = normalize_email(email)
        except InvalidEmail:
            address = trim(email, "email").lower()  # answered exactly like an unknown address
        uow = self.store.unit_of_work()
        attempt = count_attempt(uow.logins, throttle, address, now)
        # A blank address (`"\n"`) is nobody's; DynamoDB refuses an empty key to look it up.
        user, password_hash = (uow.users.find_login(address) if address else None) or (None, None)
        checked = self.passwords.check(password, password_hash)  # as long for an unknown user
        if user is None or not checked:
            if throttle.locks_after(attempt):
                uow.logins.lock_login(address, throttle.lock_until(now), throttle.forget_after(now))
            raise InvalidCredentials("Email or password is incorrect.")
        uow.logins.release_login_attempt(address)
        session = self.sessions.start(uow, self.activate_invitations(user) if user.email_verified else user)
        uow.commit(session)
        return session

    def profile(self, user_id: str) -> User:
        return existing(self.store.unit_of_work().users.get(user_id))

    def activate_invitations(self, user: User, waiting: list[Invitation] | None = None) -> User:
        """Invitations sent to the user's email before they had a verified account (`waiting`,
        if read already) become theirs, each in its own transaction. Only for verified users:
        the caller checks."""
        uow = self.store.unit_of_work()
        activated = False
        for invitation in uow.invitations.pending_for(user.email) if waiting is None else waiting:
            uow.invitations.activate(invitation, user.user_id, self.clock.timestamp())
            uow.participants.take_over_placeholder(invitation.participant_for(user.user_id))
            uow.users.make_lender(user.user_id)
            try:
                uow.commit()
                activated = True
            except LostRace:
                continue  # a concurrent login activated it first
        return replace(user, is_lender=True) if activated else user
