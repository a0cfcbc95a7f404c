"""Teach moto's CloudFormation `AWS::SecretsManager::Secret`, which it does not implement, so
the application stack's secrets exist locally as they would deployed: the secret is created
in moto's Secrets Manager with the value `GenerateSecretString` describes, and `Ref` gives
its ARN. (`AWS::SecretsManager::RotationSchedule` stays unimplemented: moto cannot run a
rotation function; tests run its steps themselves.)

moto finds the resource types it can create among `CloudFormationModel`'s subclasses, so
defining the class is the registration; `register()` only drops moto's cached list of them.
tests/infra/test_moto_internals.py checks that what this relies on is still there.
"""

from __future__ import annotations

import json
from typing import Any

from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel
from moto.secretsmanager.models import secretsmanager_backends


class GeneratedSecret(CloudFormationModel):
    def __init__(self, arn: str) -> None:
        self.arn = arn

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SecretsManager::Secret"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **_: Any
    ) -> GeneratedSecret:
        backend = secretsmanager_backends[account_id][region_name]
        properties = cloudformation_json["Properties"]
        value = properties.get("SecretString")
        if value is None:
            value = _generated(backend, properties.get("GenerateSecretString", {}))
        created = backend.create_secret(
            name=resource_name,
            secret_string=value,
            secret_binary=None,
            description=properties.get("Description"),
            tags=None,
            kms_key_id=properties.get("KmsKeyId"),
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
        return cls(json.loads(created)["ARN"])


def _generated(backend: Any, spec: dict[str, Any]) -> str:
    """What Secrets Manager makes of `GenerateSecretString`: a random string, alone or under
    `GenerateStringKey` in the JSON of `SecretStringTemplate`."""
    answer = backend.get_random_password(
        password_length=int(spec.get("PasswordLength", 32)),
        exclude_characters=spec.get("ExcludeCharacters", ""),
        exclude_numbers=bool(spec.get("ExcludeNumbers")),
        exclude_punctuation=bool(spec.get("ExcludePunctuation")),
        exclude_uppercase=bool(spec.get("ExcludeUppercase")),
        exclude_lowercase=bool(spec.get("ExcludeLowercase")),
        include_space=bool(spec.get("IncludeSpace")),
        require_each_included_type=bool(spec.get("RequireEachIncludedType", True)),
    )
    password = str(json.loads(answer)["RandomPassword"])
    if "SecretStringTemplate" not in spec:
        return password
    return json.dumps({**json.loads(spec["SecretStringTemplate"]), spec["GenerateStringKey"]: password})


def register() -> None:
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
