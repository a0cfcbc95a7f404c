"""The contract run's verdict, from Schemathesis' reports under `results/contract/`.

CI reads a run's last line as a test runner's closing line, and Schemathesis' own
(`=== 3 warnings in 44s ===`) reads as one that ran no test. So the run ends with
`contract: N passed, M failed`: N generated cases whose checks passed, M that failed or errored,
from the JSON report's totals, with the JUnit report's failing operations as a floor for M
(the JUnit report has one test case per operation, not per generated case, so it gives the
counts alone only when there is no JSON report). Warnings fail the run too: each means an
operation's logic was left unreached. `reach_lines` shows, per operation and phase, how many
responses were 2xx (counted by the hooks) and which operations got none where they must.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field

PHASES = ("examples", "coverage", "fuzzing", "stateful")


@dataclass
class Verdict:
    passed: int
    failed: int
    failing_operations: list[str] = field(default_factory=list)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    unchecked: int = 0

    @property
    def closing_line(self) -> str:
        return f"contract: {self.passed} passed, {self.failed} failed"


def junit_outcomes(junit_xml: str) -> tuple[list[str], list[str]]:
    """(passing, failing) test case names of a JUnit report; an error counts as a failure."""
    root = ElementTree.fromstring(junit_xml)
    passing, failing = [], []
    for case in root.iter("testcase"):
        broken = case.find("failure") is not None or case.find("error") is not None
        (failing if broken else passing).append(case.get("name", "?"))
    return passing, failing


def verdict(
    junit_xml: str, summary: dict | None = None, allowed_warnings: dict[str, set[str]] | None = None
) -> Verdict:
    """The counts for the closing line; `summary` is Schemathesis' JSON report, if written.
    `allowed_warnings` (kind -> operations) are left out, for what a run cannot reach."""
    passing, failing = junit_outcomes(junit_xml)
    if summary is None:
        return Verdict(len(passing), len(failing), failing)
    cases = summary["test_cases"]
    failed = max(cases["with_failures"] + cases["errored"], len(failing))
    allowed = allowed_warnings or {}
    warnings = {
        kind: sorted(set(labels) - allowed.get(kind, set())) for kind, labels in (summary.get("warnings") or {}).items()
    }
    # Cases no check ran on (Schemathesis' "skipped") passed nothing.
    passed = max(cases["generated"] - failed - cases.get("without_checks", 0), 0)
    return Verdict(
        passed,
        failed,
        failing,
        {kind: labels for kind, labels in warnings.items() if labels},
        cases.get("without_checks", 0),
    )


def link_targets(spec: dict) -> set[str]:
    """The operations (as `METHOD /path`) some response link of the spec leads to."""
    labels = {
        op["operationId"]: f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }
    return {
        labels[link["operationId"]]
        for item in spec["paths"].values()
        for op in item.values()
        if isinstance(op, dict)
        for response in op.get("responses", {}).values()
        for link in response.get("links", {}).values()
        if link.get("operationId") in labels
    }


def reach_lines(
    reach: dict, operations: list[str], unreachable: set[str] = frozenset(), linked: set[str] | None = None
) -> tuple[list[str], list[str]]:
    """A table of 2xx/all responses per operation and phase, and what got no 2xx where it
    must: every operation in the fuzzing phase, and the stateful phase on at least one
    operation a link of the spec leads to (`linked`, by default all), which shows its
    sequences followed links to success. Which operations a sequence visits is chance (an
    operation it starts with gets generated ids), so no single one is required there.
    `unreachable` operations are exempt (and marked so)."""
    width = max(len(label) for label in operations)
    lines = [f"{'2xx / responses':<{width}}  " + "  ".join(f"{phase:>14}" for phase in PHASES)]
    missing = []
    for label in operations:
        cells = []
        for phase in PHASES:
            counts = reach.get(label, {}).get(phase, {})
            total = sum(value for key, value in counts.items() if key.endswith("xx"))
            ok = counts.get("2xx", 0)
            cells.append(f"{ok:>6} / {total:<5}" if total else f"{'-':^14}")
            if phase == "fuzzing" and not ok and label not in unreachable:
                missing.append(f"{label} ({phase})")
        note = "  (not reachable here)" if label in unreachable else ""
        lines.append(f"{label:<{width}}  " + "  ".join(cells) + note)
    followed = [label for label in operations if linked is None or label in linked]
    if not any(reach.get(label, {}).get("stateful", {}).get("2xx") for label in followed):
        missing.append("any operation a link leads to (stateful)")
    filled = [
        f"{label} "
        + ", ".join(
            f"{phase} {reach[label][phase]['fixtures']}"
            for phase in PHASES
            if reach[label].get(phase, {}).get("fixtures")
        )
        for label in operations
        if any(counts.get("fixtures") for counts in reach.get(label, {}).values())
    ]
    if filled:
        lines.append("Positive cases the hooks gave real data: " + "; ".join(filled) + ".")
    return lines, missing
