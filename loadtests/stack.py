"""The local stack, fit for load: ONE moto server process (`python -m devstack serve-aws`,
which deploys the tables from infra/database.yaml) shared by several API worker processes
(`uvicorn service.http.app:create_app --factory --workers N`) and by the background workers
(`python -m devstack workers`: the notifier on the events' stream and the expiry job, what
Lambda runs beside the API when deployed), all with the same settings.

Why one moto process: moto keeps its data in process memory, so every API worker must talk
to the same server; its per-request lock emulates DynamoDB's per-request atomicity, which is
what makes races between worker processes meaningful.

Why two API workers on this machine (`nproc` = 2): the API is CPU-bound Python (Connexion,
validation, JWT, boto3 serialisation), so one worker per core is the most that can run at
once; but the moto process and the load generator need those same two cores, so a third
worker only adds context switches and memory. One worker would never race another process,
so two is also the least that exercises cross-process contention. `WORKERS=` changes it.

The shortest funding window is lowered (`MIN_FUNDING_WINDOW_SECONDS`, 5 s instead of an
hour), so that a run can give loans deadlines that pass while it runs.

Every process is started in its own session and stopped (SIGTERM, then SIGKILL of its
process group) by `stop()`, also when start-up fails half-way.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WORKERS = 2
LOAD_BCRYPT_ROUNDS = 4
LOAD_MIN_FUNDING_WINDOW = 5  # seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class StackError(RuntimeError):
    """The local stack did not come up."""


class LocalStack:
    """moto + the API behind uvicorn with `workers` processes, on 127.0.0.1.

    `bcrypt_rounds` is 4 for load (registration and login stay cheap); the benchmark passes
    other values where it measures bcrypt itself. `background_workers`: also run the notifier
    and the expiry job (the benchmark, which measures the API alone, does not). Logs go to
    `log_dir` (aws.log, api.log, workers.log).
    """

    def __init__(
        self,
        workers: int = DEFAULT_WORKERS,
        bcrypt_rounds: int = LOAD_BCRYPT_ROUNDS,
        log_dir: Path | None = None,
        port: int = 0,
        log_level: str = "INFO",
        extra_env: dict[str, str] | None = None,
        min_funding_window: int = LOAD_MIN_FUNDING_WINDOW,
        background_workers: bool = True,
    ) -> None:
        self.workers = workers  # 0: only moto, for callers that run the service in-process
        self.bcrypt_rounds = bcrypt_rounds
        self.min_funding_window = min_funding_window
        self.background_workers = background_workers and workers > 0
        self.log_dir = Path(log_dir) if log_dir else Path(tempfile.mkdtemp(prefix="stack-"))
        self.port = port
        self.log_level = log_level
        self.url = ""
        self.aws_endpoint = ""
        self.env: dict[str, str] = {}
        self.extra_env = extra_env or {}
        self._procs: list[subprocess.Popen] = []
        self._background: subprocess.Popen | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self, timeout: float = 90) -> LocalStack:
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, timeout: float) -> None:
        from devstack.api import SERVER_LIMITS_CLI, local_environment  # imports uvicorn; only needed here

        self.log_dir.mkdir(parents=True, exist_ok=True)
        aws_log = self.log_dir / "aws.log"
        aws = self._spawn([sys.executable, "-m", "devstack", "serve-aws", "--port", "0"], aws_log)
        match = _wait_for(aws, aws_log, re.compile(r"Local AWS listening on (\S+)"), timeout)
        self.aws_endpoint = match.group(1)

        self.env = {
            **local_environment(self.aws_endpoint),
            "BCRYPT_ROUNDS": str(self.bcrypt_rounds),
            "VALIDATE_RESPONSES": "false",  # as deployed: responses are not re-validated
            "LOG_LEVEL": self.log_level,
            "MIN_FUNDING_WINDOW_SECONDS": str(self.min_funding_window),
            **self.extra_env,
        }
        if not self.workers:
            return
        port = self.port or free_port()
        api_log = self.log_dir / "api.log"
        api = self._spawn(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "service.http.app:create_app",
                "--factory",
                "--workers",
                str(self.workers),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--lifespan",
                "off",
                "--no-access-log",
                "--log-level",
                "warning",
                "--timeout-graceful-shutdown",
                "5",
                *SERVER_LIMITS_CLI,
            ],
            api_log,
            {**os.environ, **self.env},
        )
        self.url = f"http://127.0.0.1:{port}"
        _wait_healthy(self.url, api, api_log, timeout)
        # Each worker builds Connexion's middleware stack on its first request: pay for
        # that now, on every worker (connections are spread over them by the kernel).
        for _ in range(8 * self.workers):
            _get(self.url + "/health", timeout=10)
        if self.background_workers:
            workers_log = self.log_dir / "workers.log"
            self._background = self._spawn(self._workers_command(), workers_log, {**os.environ, **self.env})
            _wait_for(self._background, workers_log, re.compile(r"Local workers running"), timeout)

    def _workers_command(self, *options: str) -> list[str]:
        return [sys.executable, "-m", "devstack", "workers", "--aws", self.aws_endpoint, *options]

    def expire_now(self, timeout: float = 120) -> datetime:
        """Stop the background workers, then run the expiry job alone until nothing is due:
        every loan whose deadline had passed at the returned moment is written EXPIRED (unless
        it was funded or cancelled first). For a check after the run, which then knows."""
        if self._background is not None:
            self._procs.remove(self._background)
            _terminate(self._background)
            self._background = None
        ran_at = datetime.now(UTC)
        with open(self.log_dir / "workers.log", "ab") as log:
            done = subprocess.run(
                self._workers_command("--expire-once"),
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
            )
        if done.returncode != 0:
            raise StackError(f"the expiry job exited with {done.returncode}:\n{_tail(self.log_dir / 'workers.log')}")
        return ran_at

    def pids(self) -> dict[str, list[int]]:
        """{"aws": [moto's pid], "api": [the uvicorn worker pids], "workers": [the background
        workers' pid]}, for CPU accounting."""
        import psutil

        found: dict[str, list[int]] = {"aws": [], "api": [], "workers": []}
        for proc in self._procs:
            if proc.args[2] == "devstack":
                found["aws" if proc.args[3] == "serve-aws" else "workers"].append(proc.pid)
            else:
                found["api"] += [
                    child.pid
                    for child in psutil.Process(proc.pid).children()
                    if "resource_tracker" not in " ".join(child.cmdline())
                ]
        return found

    def _spawn(self, argv: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self._procs.append(proc)
        return proc

    def stop(self) -> None:
        """The background workers and the API first (they talk to moto), then moto. Idempotent."""
        while self._procs:
            proc = self._procs.pop()
            _terminate(proc)

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _terminate(proc: subprocess.Popen, grace: float = 15) -> None:
    """SIGTERM to the process, then SIGKILL to its whole process group (its own session:
    uvicorn's workers included) if anything is left."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _wait_for(proc: subprocess.Popen, log: Path, pattern: re.Pattern, timeout: float) -> re.Match:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = pattern.search(log.read_text(errors="replace")) if log.exists() else None
        if match:
            return match
        if proc.poll() is not None:
            raise StackError(f"{proc.args[2:4]} exited with {proc.returncode}:\n{_tail(log)}")
        time.sleep(0.1)
    raise StackError(f"{proc.args[2:4]} did not start within {timeout} s:\n{_tail(log)}")


def _get(url: str, timeout: float) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except OSError:
        return 0


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _get(url + "/health", timeout=5) == 200:
            return
        if proc.poll() is not None:
            raise StackError(f"the API exited with {proc.returncode}:\n{_tail(log)}")
        time.sleep(0.2)
    raise StackError(f"the API was not healthy within {timeout} s:\n{_tail(log)}")
