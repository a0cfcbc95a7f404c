"""ACH bank details: validated on the way in, only ever shown masked."""

from dataclasses import dataclass

from stdnum.exceptions import ValidationError as NumberError
from stdnum.us import rtn

from .errors import InvalidInput
from .users import clean_name, trim

ACCOUNT_TYPES = ("checking", "savings")


def mask(number: str) -> str:
    """The last four digits at most, and never more than half the number."""
    shown = min(4, len(number) // 2)
    return "*" * (len(number) - shown) + number[len(number) - shown:]


@dataclass(frozen=True)
class AchDetails:
    bank_name: str
    account_type: str
    routing_number: str
    account_number: str
    special_instructions: str = ""

    def __repr__(self) -> str:
        # Keeps the numbers out of tracebacks and logs that print the object.
        return (
            f"AchDetails(bank_name={self.bank_name!r}, account_type={self.account_type!r}, "
            f"routing_number={mask(self.routing_number)!r}, "
            f"account_number={mask(self.account_number)!r})"
        )

    @classmethod
    def from_request(cls, body: dict) -> "AchDetails":
        try:
            routing = rtn.validate(body["routing_number"])
        except NumberError:
            raise InvalidInput(
                "'routing_number' is not a valid ABA routing number.", {"field": "routing_number"}
            ) from None
        account = body["account_number"]
        if not (account.isascii() and account.isdigit() and 4 <= len(account) <= 17):
            raise InvalidInput("'account_number' must be 4 to 17 digits.", {"field": "account_number"})
        if body["account_type"] not in ACCOUNT_TYPES:
            raise InvalidInput("'account_type' must be checking or savings.", {"field": "account_type"})
        bank_name = clean_name(body["bank_name"], "bank_name")
        return cls(
            bank_name=bank_name,
            account_type=body["account_type"],
            routing_number=routing,
            account_number=account,
            special_instructions=trim(body.get("special_instructions", "")),
        )

    def masked(self) -> dict:
        return {
            "bank_name": self.bank_name,
            "account_type": self.account_type,
            "routing_number_masked": mask(self.routing_number),
            "account_number_masked": mask(self.account_number),
        }
