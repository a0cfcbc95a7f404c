"""What Lambda runs beside the API, run locally: the notifier on the loan events' stream and
the expiry schedule, over moto.

`StreamPump.pump()` hands every stream record not yet seen to the same function the deployed
notifier runs (`service.lambdas.notifier.notify`), as Lambda's event source mapping would;
tests call it to drain the stream, so nothing waits on a timer. `LocalWorkers` does both jobs
in a background thread for `make run` and the load stack (`python -m devstack workers`).
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

from devstack.aws import client

if TYPE_CHECKING:
    from service.bootstrap import Services


class StreamPump:
    """The event source mapping, locally: each record handed to the notifier in order, a failed
    one delivered again (with what follows it) on the next pump, and after `max_attempts`
    failures set aside in `given_up` (deployed, the failures queue) so the stream moves on."""

    def __init__(self, services: Services, endpoint_url: str, max_attempts: int = 3, table: str | None = None):
        self.services = services
        self.streams = client("dynamodbstreams", endpoint_url)
        name = table or services.settings.tables.events
        table_description = client("dynamodb", endpoint_url).describe_table(TableName=name)["Table"]
        self.stream_arn = table_description["LatestStreamArn"]
        self.max_attempts = max_attempts
        self.given_up: list[dict[str, Any]] = []
        self._attempts: Counter[str] = Counter()
        self._iterators: dict[str, str] = {}
        self._lock = threading.Lock()

    def pump(self) -> int:
        """Deliver every record added since the last pump; how many were handled."""
        delivered = 0
        with self._lock:
            for shard in self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]:
                iterator = (
                    self._iterators.get(shard["ShardId"])
                    or self.streams.get_shard_iterator(
                        StreamArn=self.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
                    )["ShardIterator"]
                )
                while True:
                    page = self.streams.get_records(ShardIterator=iterator)
                    records: list[dict[str, Any]] = page["Records"]
                    if not records:
                        break
                    if not self._deliver(records):
                        break  # delivered again next time, from the same place
                    delivered += len(records)
                    iterator = page["NextShardIterator"]
                self._iterators[shard["ShardId"]] = iterator
        return delivered

    def _deliver(self, records: list[dict[str, Any]]) -> bool:
        """Hand over the page; False if a record failed and is to be tried again."""
        from service.lambdas.notifier import notify

        while records and (failed := notify(self.services, records)):
            sequence = failed[0]["itemIdentifier"]
            self._attempts[sequence] += 1
            if self._attempts[sequence] < self.max_attempts:
                return False
            at = next(i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] == sequence)
            print(f"local workers: gave up on stream record {sequence} after {self.max_attempts} attempts", flush=True)
            self.given_up.append(records[at])
            records = records[at + 1 :]
        return True


class LocalWorkers:
    """The notifier every `interval` seconds, the expiry job every `expiry_interval`."""

    def __init__(self, services: Services, endpoint_url: str, interval: float = 0.5, expiry_interval: float = 5.0):
        self.pump = StreamPump(services, endpoint_url)
        self.services = services
        self.interval, self.expiry_interval = interval, expiry_interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-workers", daemon=True)

    def start(self) -> LocalWorkers:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        since_expiry = self.expiry_interval
        while not self._stop.wait(self.interval):
            try:
                self.pump.pump()
                since_expiry += self.interval
                if since_expiry >= self.expiry_interval:
                    self.services.expiry.expire_due()
                    since_expiry = 0
            except Exception as exc:  # keep serving: the next round tries again
                print(f"local workers: {exc!r}", flush=True)
