"""The load run's sampler of moto's memory: what it writes and how it sums a run up."""

import csv
import os

from loadtests.memory import MIB, MemorySampler, describe


def test_the_sampler_records_the_start_and_the_end_of_a_run(tmp_path):
    out = tmp_path / "moto_memory.csv"
    # An interval longer than the block: only the first sample and the closing one are taken.
    with MemorySampler(os.getpid(), out, interval=60) as sampler:
        pass

    assert len(sampler.samples) == 2
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 and rows[0]["seconds"] == "0.0"
    assert all(float(row["rss_mib"]) > 1 for row in rows)
    assert "2 samples every 60 s in moto_memory.csv" in sampler.summary()


def test_a_process_that_has_ended_is_not_sampled(tmp_path):
    # A pid no process has (pid_max is at most 2**22 on Linux).
    with MemorySampler(2**22 + 1, tmp_path / "moto_memory.csv", interval=60) as sampler:
        pass

    assert sampler.samples == []
    assert sampler.summary() == "moto server memory: not sampled"


def test_the_summary_gives_start_peak_end_and_growth():
    line = describe([100 * MIB, 180 * MIB, 150 * MIB], 5, "moto_memory.csv")

    assert line == (
        "moto server memory: start 100.0 MiB, peak 180.0 MiB, end 150.0 MiB "
        "(+50.0 MiB; 3 samples every 5 s in moto_memory.csv)"
    )
