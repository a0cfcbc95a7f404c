"""ACH bank details, in the ach-details table, with their numbers sealed by KMS.

Each record gets a fresh 256-bit data key from KMS. The numbers are sealed with it (AES-GCM),
and the data key is stored only in its KMS-encrypted form beside them, so the table holds
nothing readable without `kms:Decrypt` on the key. The KMS encryption context and the AES-GCM
associated data both name the record (user and loan), so a sealed value copied onto another
record will not open.
"""

import json
import os
from typing import Any

import boto3
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..domain.ach import AchDetails
from ..domain.loans import Participant
from .aws import BOTO_CONFIG, Database, Write, store_errors

_NONCE_BYTES = 12


def _context(user_id: str, loan_id: str) -> dict[str, str]:
    return {"record": "ach-details", "user_id": user_id, "loan_id": loan_id}


def _aad(context: dict[str, str]) -> bytes:
    return json.dumps(context, sort_keys=True).encode()


class KmsVault:
    def __init__(self, key_id: str, client: Any = None):
        self.key_id = key_id
        self.client = client or boto3.client("kms", config=BOTO_CONFIG)

    @store_errors
    def seal(self, ach: AchDetails, user_id: str, loan_id: str) -> dict[str, Any]:
        """The item attributes that carry `ach`'s numbers: sealed, and masked for display."""
        context = _context(user_id, loan_id)
        data_key = self.client.generate_data_key(KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=context)
        nonce = os.urandom(_NONCE_BYTES)
        numbers = json.dumps({"routing_number": ach.routing_number, "account_number": ach.account_number})
        sealed = AESGCM(data_key["Plaintext"]).encrypt(nonce, numbers.encode(), _aad(context))
        masked = ach.masked()
        return {
            "routing_number_masked": masked["routing_number_masked"],
            "account_number_masked": masked["account_number_masked"],
            "sealed_numbers": nonce + sealed,
            "sealed_data_key": data_key["CiphertextBlob"],
            "kms_key_arn": data_key["KeyId"],
        }

    @store_errors
    def open(self, item: dict[str, Any]) -> dict[str, str]:
        """The routing and account numbers of a stored ACH record (for the payment run)."""
        context = _context(item["user_id"], item["loan_id"])
        data_key = self.client.decrypt(CiphertextBlob=bytes(item["sealed_data_key"]), EncryptionContext=context)[
            "Plaintext"
        ]
        blob = bytes(item["sealed_numbers"])
        plain = AESGCM(data_key).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], _aad(context))
        return dict(json.loads(plain))


class AchRecordsTable:
    def __init__(self, db: Database, writes: list[Write]):
        self._writes = writes
        self._name = db.names.ach_details

    def add(self, participant: Participant, ach: AchDetails, sealed_numbers: dict[str, Any]) -> None:
        """The lender's bank details for one loan: the numbers only sealed. Once per lender and
        loan: a second acceptance is refused with the whole unit of work."""
        item = {
            "user_id": participant.lender_id,
            "loan_id": participant.loan_id,
            "bank_name": ach.bank_name,
            "account_type": ach.account_type,
            "special_instructions": ach.special_instructions,
            **sealed_numbers,
            "created_at": participant.responded_at,
        }
        self._writes.append(Write.put(self._name, item, "attribute_not_exists(user_id)"))

    def delete(self, participant: Participant) -> None:
        """The bank details of a released acceptance: no longer needed, so not kept."""
        self._writes.append(
            Write.delete(self._name, {"user_id": participant.lender_id, "loan_id": participant.loan_id})
        )
