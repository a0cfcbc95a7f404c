"""One KMS data key per ACH record, or cached data keys? The evidence behind the vault's choice
(BENCHMARKS.md, "KMS data keys"). Not a test, and not part of `make bench`: it needs the AWS
Encryption SDK, which the project does not depend on; install it somewhere else and point
PYTHONPATH at it:

    pip install --target /some/dir --no-deps aws-encryption-sdk   # attrs, wrapt: dev deps already
    PYTHONPATH=/some/dir python -m benchmarks.kms_data_keys [--records 200]

moto serves KMS from this process; a child process measures only itself (`time.process_time`):
- today's vault: `KmsVault.seal`, a GenerateDataKey per record (encryption context = the
  record) and AES-256-GCM with the record as associated data;
- the Encryption SDK's caching materials manager (bounded age and messages per key), with the
  record in each message's encryption context, and with only a shared context;
- a data key kept by hand: AES-256-GCM alone, the record as associated data;
and, in fresh processes, what importing the SDK adds to a cold start that has boto3 and
cryptography already.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NUMBERS = json.dumps({"routing_number": "011000015", "account_number": "000123456789"}).encode()


def child(records: int) -> None:
    import boto3
    from aws_encryption_sdk import CommitmentPolicy, EncryptionSDKClient, StrictAwsKmsMasterKeyProvider
    from aws_encryption_sdk.caches.local import LocalCryptoMaterialsCache
    from aws_encryption_sdk.identifiers import Algorithm
    from aws_encryption_sdk.materials_managers.caching import CachingCryptoMaterialsManager
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from service.domain.ach import AchDetails
    from service.store.ach import KmsVault
    from service.store.aws import BOTO_CONFIG

    kms = boto3.client("kms", config=BOTO_CONFIG)
    arn = kms.describe_key(KeyId="alias/kms-local-ach")["KeyMetadata"]["Arn"]
    calls = [0]

    def count(**_: object) -> None:
        calls[0] += 1

    provider = StrictAwsKmsMasterKeyProvider(key_ids=[arn])
    provider.add_regional_client(os.environ["AWS_DEFAULT_REGION"])
    for client in (kms, *provider._regional_clients.values()):
        client.meta.events.register("before-call.kms", count)
    sdk = EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
    vault, ach = KmsVault("alias/kms-local-ach", kms), AchDetails("Bank", "checking", "011000015", "000123456789")
    kept = kms.generate_data_key(KeyId=arn, KeySpec="AES_256", EncryptionContext={"record": "ach-details"})

    def context(i: int) -> dict[str, str]:
        return {"record": "ach-details", "user_id": f"user-{i}", "loan_id": f"loan-{i}"}

    def sdk_seal(per_record: bool, suite: object):
        cache = CachingCryptoMaterialsManager(
            master_key_provider=provider,
            cache=LocalCryptoMaterialsCache(100),
            max_age=300.0,
            max_messages_encrypted=1000,
        )
        return lambda i: len(
            sdk.encrypt(
                source=NUMBERS,
                materials_manager=cache,
                algorithm=suite,
                encryption_context=context(i) if per_record else {"record": "ach-details"},
            )[0]
        )

    def kept_key(i: int) -> int:  # each record still stores the (shared) wrapped key beside its numbers
        aad = json.dumps(context(i), sort_keys=True).encode()
        return 12 + len(AESGCM(kept["Plaintext"]).encrypt(os.urandom(12), NUMBERS, aad)) + len(kept["CiphertextBlob"])

    def today(i: int) -> int:
        sealed = vault.seal(ach, f"user-{i}", f"loan-{i}")
        return len(sealed["sealed_numbers"]) + len(sealed["sealed_data_key"])

    committing = Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY
    ways = {
        "today: a data key per record (KmsVault.seal)": today,
        "Encryption SDK, caching CMM, the record in the context": sdk_seal(True, committing),
        "Encryption SDK, caching CMM, a shared context": sdk_seal(False, committing),
        "Encryption SDK, caching CMM, a shared context, ECDSA suite (the SDK's default)": sdk_seal(
            False, Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384
        ),
        "a data key kept by hand (AES-GCM, the record as AAD)": kept_key,
    }
    rows = []
    for label, seal in ways.items():
        seal(-1)  # warm (and, for a cache, its first key)
        before, cpu, size = calls[0], [], 0
        for i in range(records):
            started = time.process_time()
            size = seal(i)
            cpu.append((time.process_time() - started) * 1000)
        rows.append((label, statistics.median(cpu), (calls[0] - before) / records, size))
    print(json.dumps(rows))


def import_cost() -> float:
    """Median ms of `import aws_encryption_sdk` in fresh processes that imported boto3 and AESGCM."""
    code = (
        "import time, boto3\nfrom cryptography.hazmat.primitives.ciphers.aead import AESGCM\n"
        "t = time.perf_counter()\nimport aws_encryption_sdk\nprint((time.perf_counter() - t) * 1000)"
    )
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True) for _ in range(5)]
    return statistics.median(float(run.stdout) for run in runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200, help="records sealed each way (default 200)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.records)
        return 0
    sys.path.insert(0, str(ROOT))
    from devstack.aws import LocalAws, aws_environment, deploy_database_stack

    with LocalAws() as aws:
        deploy_database_stack(aws.endpoint_url, stage="local", project="kms")
        env = {**os.environ, **aws_environment(aws.endpoint_url)}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        command = [sys.executable, "-m", "benchmarks.kms_data_keys", "--child", "--records", str(args.records)]
        out = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    print(f"Sealing one ACH record, medians of {args.records}; load average {os.getloadavg()[0]:.2f}\n")
    print("| way | CPU ms per record | KMS calls per record | stored bytes |\n|---|---|---|---|")
    for label, cpu, calls, size in json.loads(out.strip().splitlines()[-1]):
        print(f"| {label} | {cpu:.3f} | {calls:.3f} | {size} |")
    print(f"\nImporting the Encryption SDK (after boto3 and cryptography): {import_cost():.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
