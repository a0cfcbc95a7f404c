"""Documents' files, in the private S3 bucket (`DOCUMENTS_BUCKET`).

Uploads and downloads go straight between the client and S3 through pre-signed requests, made
here without any call (and so with this function's permissions, checked when they are used).
An upload form requires the tag `status=pending`; the bucket's lifecycle rule deletes pending
objects after a day, so an upload never completed leaves nothing behind. Completing tags the
checked version `status=checked`, and downloads are signed for that version only: a later
upload through the same form (valid for its 10 minutes) is a new, pending version that no
download serves and the lifecycle rule removes.

Endpoints: with `AWS_ENDPOINT_URL` set (the local stack), botocore signs URLs for that
endpoint, path-style, so a local client can reach them; otherwise for the regional S3
endpoint, virtual-hosted (`https://<bucket>.s3.<region>.amazonaws.com/`), which needs no
redirect and answers CORS preflights for the bucket.
"""

import base64
import functools
import json
from datetime import datetime
from typing import Any
from urllib.parse import quote

import boto3
from botocore.config import Config

from ..domain.deadlines import timestamp
from ..domain.documents import Document
from ..usecases.files import StoredFile, UploadForm
from .aws import BOTO_CONFIG, store_errors

S3_CONFIG = BOTO_CONFIG.merge(
    Config(signature_version="s3v4", s3={"addressing_style": "virtual", "us_east_1_regional_endpoint": "regional"})
)
STATUS_TAG = "status"
PENDING, CHECKED = "pending", "checked"
_PENDING_TAGGING = f"<Tagging><TagSet><Tag><Key>{STATUS_TAG}</Key><Value>{PENDING}</Value></Tag></TagSet></Tagging>"


class S3Files:
    def __init__(self, bucket: str, client: Any = None):
        self.bucket = bucket
        if client is not None:
            self.client = client

    @functools.cached_property
    def client(self) -> Any:
        """Made when first used: only the documents function uses it."""
        return boto3.client("s3", config=S3_CONFIG)

    def upload_form(self, document: Document, seconds: int) -> UploadForm:
        """A POST whose policy fixes the key, the content type, the exact size and the tag."""
        fields = {"Content-Type": document.content_type, "tagging": _PENDING_TAGGING}
        conditions: list[Any] = [
            {"Content-Type": document.content_type},
            ["content-length-range", document.size_bytes, document.size_bytes],
            {"tagging": _PENDING_TAGGING},
        ]
        post = self.client.generate_presigned_post(
            self.bucket, document.key, Fields=fields, Conditions=conditions, ExpiresIn=seconds
        )
        policy = json.loads(base64.b64decode(post["fields"]["policy"]))
        expires_at = timestamp(datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00")))
        return UploadForm(post["url"], dict(post["fields"]), expires_at)

    def download_url(self, document: Document, seconds: int) -> str:
        """A GET of the checked version, served as an attachment of its declared type."""
        params = {
            "Bucket": self.bucket,
            "Key": document.key,
            "ResponseContentType": document.content_type,
            "ResponseContentDisposition": f"attachment; filename*=UTF-8''{quote(document.file_name, safe='')}",
        }
        if document.version_id:
            params["VersionId"] = document.version_id
        url: str = self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=seconds)
        return url

    @store_errors
    def stat(self, key: str) -> StoredFile | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return StoredFile(int(head["ContentLength"]), head.get("ContentType"), head.get("VersionId"))

    @store_errors
    def head(self, key: str, version_id: str | None, count: int) -> bytes:
        response = self.client.get_object(Range=f"bytes=0-{count - 1}", **self._version(key, version_id))
        body: bytes = response["Body"].read()
        return body

    @store_errors
    def mark_checked(self, key: str, version_id: str | None) -> None:
        self.client.put_object_tagging(
            Tagging={"TagSet": [{"Key": STATUS_TAG, "Value": CHECKED}]}, **self._version(key, version_id)
        )

    @store_errors
    def purge(self, key: str) -> None:
        pages = self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=key)
        for page in pages:
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
                if entry["Key"] == key:
                    self.client.delete_object(Bucket=self.bucket, Key=key, VersionId=entry["VersionId"])

    def _version(self, key: str, version_id: str | None) -> dict[str, str]:
        return {"Bucket": self.bucket, "Key": key, **({"VersionId": version_id} if version_id else {})}
