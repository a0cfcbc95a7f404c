"""ACH bank details: validated on the way in, only ever shown masked."""

from dataclasses import dataclass
from typing import Any

from stdnum.exceptions import ValidationError as NumberError
from stdnum.us import rtn

from .errors import InvalidInput
from .users import clean_name, trim

ACCOUNT_TYPES = ("checking", "savings")
MAX_BANK_NAME_LENGTH = 100
MAX_INSTRUCTIONS_LENGTH = 500


def mask(number: str) -> str:
    """The last four digits at most, and never more than half the number."""
    shown = min(4, len(number) // 2)
    return "*" * (len(number) - shown) + number[len(number) - shown :]


@dataclass(frozen=True)
class AchDetails:
    bank_name: str
    account_type: str
    routing_number: str
    account_number: str
    special_instructions: str = ""

    def __post_init__(self) -> None:
        """The numbers are checked digit by digit whatever the caller validated: the routing
        number's ABA checksum, an account number of 4 to 17 ASCII digits."""
        for field in ("routing_number", "account_number"):
            if not isinstance(getattr(self, field), str):
                raise InvalidInput(f"'{field}' must be a string of digits.", {"field": field})
        routing, account = self.routing_number, self.account_number
        try:
            if not (routing.isascii() and routing.isdigit()):
                raise NumberError()
            rtn.validate(routing)
        except NumberError:
            raise InvalidInput(
                "'routing_number' is not a valid ABA routing number.", {"field": "routing_number"}
            ) from None
        if not (account.isascii() and account.isdigit() and 4 <= len(account) <= 17):
            raise InvalidInput("'account_number' must be 4 to 17 digits.", {"field": "account_number"})
        if self.account_type not in ACCOUNT_TYPES:
            raise InvalidInput("'account_type' must be checking or savings.", {"field": "account_type"})
        if clean_name(self.bank_name, "bank_name", MAX_BANK_NAME_LENGTH) != self.bank_name:
            raise InvalidInput("'bank_name' must not start or end with white space.", {"field": "bank_name"})
        trim(self.special_instructions, "special_instructions", MAX_INSTRUCTIONS_LENGTH)

    def __repr__(self) -> str:
        # Keeps the numbers out of tracebacks and logs that print the object.
        return (
            f"AchDetails(bank_name={self.bank_name!r}, account_type={self.account_type!r}, "
            f"routing_number={mask(self.routing_number)!r}, "
            f"account_number={mask(self.account_number)!r})"
        )

    @classmethod
    def from_request(cls, body: dict[str, Any]) -> "AchDetails":
        return cls(
            bank_name=clean_name(body.get("bank_name"), "bank_name", MAX_BANK_NAME_LENGTH),
            account_type=body.get("account_type", ""),
            routing_number=body.get("routing_number", ""),
            account_number=body.get("account_number", ""),
            special_instructions=trim(
                body.get("special_instructions", ""), "special_instructions", MAX_INSTRUCTIONS_LENGTH
            ),
        )

    def masked(self) -> dict[str, Any]:
        return {
            "bank_name": self.bank_name,
            "account_type": self.account_type,
            "routing_number_masked": mask(self.routing_number),
            "account_number_masked": mask(self.account_number),
        }
