"""The local moto server's memory through a load run: its resident set size sampled at a fixed
interval on a thread of its own, written to `moto_memory.csv` and summed up in one line.

moto keeps every table in its process's memory, so that process's growth is the local stack's
leak detector: a run whose data grows by kilobytes must not grow moto by gigabytes
(`devstack/moto_patches.py` stops moto keeping every copy it ever made).
"""

from __future__ import annotations

import csv
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

MIB = 1024 * 1024


@dataclass
class MemorySampler:
    pid: int
    out: Path
    interval: float = 5.0
    samples: list[tuple[float, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="moto-memory", daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)
        self._sample()  # the end of the run, whatever the interval left
        with self.out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["seconds", "rss_mib"])
            start = self.samples[0][0] if self.samples else 0.0
            writer.writerows([f"{at - start:.1f}", f"{rss / MIB:.1f}"] for at, rss in self.samples)

    def _run(self) -> None:
        while True:
            self._sample()
            if self._stop.wait(self.interval):
                return

    def _sample(self) -> None:
        import psutil

        try:
            rss = psutil.Process(self.pid).memory_info().rss
        except psutil.Error:  # the process has ended: nothing more to sample
            return
        self.samples.append((time.monotonic(), rss))

    def summary(self) -> str:
        return describe([rss for _, rss in self.samples], self.interval, self.out.name)


def describe(rss: list[int], interval: float, file_name: str) -> str:
    """`moto server memory: start 120.0 MiB, peak 150.2 MiB, end 149.8 MiB (+29.8 MiB; …)`."""
    if not rss:
        return "moto server memory: not sampled"
    start, peak, end = rss[0] / MIB, max(rss) / MIB, rss[-1] / MIB
    return (
        f"moto server memory: start {start:.1f} MiB, peak {peak:.1f} MiB, end {end:.1f} MiB "
        f"({end - start:+.1f} MiB; {len(rss)} samples every {interval:g} s in {file_name})"
    )
