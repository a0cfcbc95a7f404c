"""What moto's CloudFormation leaves out of an S3 bucket, applied from the same template.

moto's ``FakeBucket.create_from_cloudformation_json`` applies a bucket's name, encryption and
tags only, so the documents bucket would come up unversioned, with no lifecycle rules, CORS
rules or public access block, and a local test of them would test nothing. This module wraps
moto's bucket creation to apply those properties too, from the properties moto hands it
(intrinsic functions resolved), in the shapes moto's S3 backend stores from the S3 API; the
S3 API reads them back (tests/infra/test_database_stack.py). Ownership controls and the bucket
key change nothing in moto and are read from the template instead.

moto has no ``AWS::S3::BucketPolicy`` model either (it skips one, warning). The bucket's only
policy refuses requests that are not over TLS, and the local stand-in serves plain HTTP: moto
cannot evaluate the condition and refuses every request. So the model here accepts the policy
without applying it, and the test reads it from the template.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.parsing import get_model_map
from moto.core.common_models import CloudFormationModel
from moto.s3.models import FakeBucket, s3_backends
from moto.utilities.utils import get_partition

STOCK_CREATE_BUCKET = FakeBucket.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def lifecycle_rules(cfn_rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """CloudFormation's LifecycleConfiguration.Rules as PutBucketLifecycleConfiguration's."""
    rules = []
    for rule in cfn_rules:
        tags = rule.get("TagFilters", [])
        if len(tags) > 1:
            raise NotImplementedError("more than one tag filter per rule")
        api: dict[str, Any] = {"ID": rule.get("Id"), "Status": rule["Status"]}
        api["Filter"] = {"Tag": tags[0]} if tags else {"Prefix": rule.get("Prefix", "")}
        if "ExpirationInDays" in rule:
            api["Expiration"] = {"Days": _text(rule["ExpirationInDays"])}
        if "ExpiredObjectDeleteMarker" in rule:
            api["Expiration"] = {"ExpiredObjectDeleteMarker": _text(rule["ExpiredObjectDeleteMarker"])}
        if "NoncurrentVersionExpiration" in rule:
            days = rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
            api["NoncurrentVersionExpiration"] = {"NoncurrentDays": _text(days)}
        if "AbortIncompleteMultipartUpload" in rule:
            days = rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
            api["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": _text(days)}
        rules.append(api)
    return rules


def cors_rules(cfn_rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """CloudFormation's CorsConfiguration.CorsRules as PutBucketCors's."""
    names = {
        "AllowedOrigins": "AllowedOrigin",
        "AllowedMethods": "AllowedMethod",
        "AllowedHeaders": "AllowedHeader",
        "ExposedHeaders": "ExposeHeader",
        "Id": "ID",
    }
    rules = []
    for rule in cfn_rules:
        api = {names[key]: value for key, value in rule.items() if key in names}
        if "MaxAge" in rule:
            api["MaxAgeSeconds"] = _text(rule["MaxAge"])
        rules.append(api)
    return rules


def _create_bucket(cls: type, resource_name: str, cloudformation_json: Any, account_id: str,
                   region_name: str, **kwargs: Any) -> FakeBucket:  # fmt: skip
    bucket: FakeBucket = STOCK_CREATE_BUCKET(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    properties = cloudformation_json.get("Properties", {})
    backend = s3_backends[account_id][get_partition(region_name)]
    if "VersioningConfiguration" in properties:
        backend.put_bucket_versioning(bucket.name, properties["VersioningConfiguration"]["Status"])
    if "PublicAccessBlockConfiguration" in properties:
        block = {key: _text(value) for key, value in properties["PublicAccessBlockConfiguration"].items()}
        backend.put_public_access_block(bucket.name, block)
    if "LifecycleConfiguration" in properties:
        backend.put_bucket_lifecycle(bucket.name, lifecycle_rules(properties["LifecycleConfiguration"]["Rules"]))
    if properties.get("CorsConfiguration"):  # absent, or AWS::NoValue's None
        backend.put_bucket_cors(bucket.name, cors_rules(properties["CorsConfiguration"]["CorsRules"]))
    return bucket


class FakeBucketPolicy(CloudFormationModel):
    """``AWS::S3::BucketPolicy``, accepted and not applied (see above)."""

    def __init__(self, bucket_name: str):
        self.bucket_name = bucket_name

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @property
    def physical_resource_id(self) -> str:
        return self.bucket_name

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> FakeBucketPolicy:
        return cls(cloudformation_json["Properties"]["Bucket"])


def apply() -> None:
    """Install both (idempotent), before a stack is created."""
    FakeBucket.create_from_cloudformation_json = classmethod(_create_bucket)  # type: ignore[method-assign,assignment]
    get_model_map.cache_clear()  # moto's map of models is cached; it now has FakeBucketPolicy
