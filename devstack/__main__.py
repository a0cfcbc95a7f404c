"""Command line for the local stack.

    python -m devstack run --port 8000        # what `make run` does
    python -m devstack contract [--profile deep] [--url URL]
    python -m devstack serve-aws --port 5005
    python -m devstack workers --aws http://127.0.0.1:5005 [--expire-once]

`run` serves the API with Swagger UI over an in-memory DynamoDB and demo data.
`serve-aws` runs only moto's server in the foreground (so several API worker processes
can share one store), deploys the database stack into it and prints the endpoint and
the table names. Ctrl-C or SIGTERM stops either.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from devstack.aws import LocalAws, aws_environment, deploy_database_stack
from devstack.mailbox import verify_sender


def _serve_aws(args: argparse.Namespace) -> int:
    stop = threading.Event()

    def _request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _request_stop)
    signal.signal(signal.SIGTERM, _request_stop)

    with LocalAws(port=args.port, host=args.host, log_requests=args.log_requests) as aws:
        outputs = deploy_database_stack(aws.endpoint_url, stage=args.stage, project=args.project)
        verify_sender(aws.endpoint_url)
        print(f"Local AWS listening on {aws.endpoint_url}", flush=True)
        for key, value in aws_environment(aws.endpoint_url).items():
            print(f"  {key}={value}")
        print(f"Stack {args.project}-{args.stage}-database tables and bucket:")
        for key, value in sorted(outputs.items()):
            if key.endswith(("TableName", "BucketName")):
                print(f"  {key}: {value}")
        print("Press Ctrl-C to stop.", flush=True)
        stop.wait()
        print("Stopping local AWS.", flush=True)
    return 0


def _workers(args: argparse.Namespace) -> int:
    """The notifier and the expiry job against a running local AWS, with this process's
    settings (the environment the API workers get), until stopped."""
    from devstack.workers import LocalWorkers
    from service.bootstrap import bootstrap
    from service.config import Settings

    services = bootstrap(Settings.from_env(with_secret=False))
    if args.expire_once:
        expired = 0
        while done := services.expiry.expire_due():
            expired += done
        print(f"Expired {expired} loans.", flush=True)
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    workers = LocalWorkers(
        services,
        args.aws,
        interval=args.interval,
        expiry_interval=args.expiry_interval,
    ).start()
    print("Local workers running (notifier, expiry).", flush=True)
    stop.wait()
    workers.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve-aws", help="run moto + the database stack in the foreground")
    serve.add_argument("--port", type=int, default=5005, help="port to listen on (0 = any free port)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--stage", default="local", help="Stage parameter of the stack (default local)")
    serve.add_argument("--project", default="marketplace", help="ProjectName parameter (default marketplace)")
    serve.add_argument("--log-requests", action="store_true", help="print an access-log line per request")
    run = commands.add_parser("run", help="serve the API over the local stack")
    run.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    run.add_argument("--port", type=int, default=8000, help="API port (default 8000)")
    run.add_argument("--aws-port", type=int, default=0, help="local DynamoDB port (0 = any free port)")
    run.add_argument("--no-demo", action="store_true", help="start without demo data")
    contract = commands.add_parser("contract", help="run Schemathesis against the local stack or --url")
    contract.add_argument("--profile", choices=["ci", "deep"], default="ci")
    contract.add_argument("--url", help="a deployed stack's base URL (default: start the local stack)")
    workers = commands.add_parser("workers", help="run the notifier and the expiry job against --aws")
    workers.add_argument("--aws", required=True, help="the local AWS endpoint (from serve-aws)")
    workers.add_argument("--interval", type=float, default=0.5, help="seconds between notifier rounds")
    workers.add_argument("--expiry-interval", type=float, default=5.0, help="seconds between expiry runs")
    workers.add_argument(
        "--expire-once", action="store_true", help="run the expiry job until nothing is due, then exit"
    )
    args = parser.parse_args(argv)
    if args.command == "workers":
        return _workers(args)
    if args.command == "contract":
        from devstack.contract import run_deployed, run_locally

        return run_deployed(args.url, args.profile) if args.url else run_locally(args.profile)
    if args.command == "serve-aws":
        return _serve_aws(args)
    if args.command == "run":
        from devstack.api import run as run_api

        run_api(args.host, args.port, args.aws_port, demo=not args.no_demo)
        return 0
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
