"""The ``ripple`` command.

ripple dev [--port 8000]                 the whole local stack (what ``make run`` calls)
ripple token --tenant T --sub ID --role admin|employee
ripple reconcile                         balances vs ledger on the running local stack
ripple settle --tenant T --period P      period-end settlement on the running local stack
ripple segments [--tenant T]             recompute customer segments and reach now (hourly job)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

__all__ = ["main"]


def _use_running_stack() -> None:
    """Point this process at the stack ``ripple dev`` is running (its state file)."""
    state_file = Path(os.environ.get("RIPPLE_STACK_STATE") or Path.cwd() / ".local" / "stack.json")
    if not state_file.exists():
        sys.exit("no local stack is running here (start it with `make run`)")
    state = json.loads(state_file.read_text())
    from infra.stack import local_env

    os.environ.update(local_env(state["moto"], state["stack"]))


def _settle(tenant: str, period: str) -> int:
    """Settle one period of one tenant on the running stack; print the summary JSON."""
    from ripple.domain.errors import RippleError
    from ripple.domain.settlement import parse_settlement_period
    from ripple.domain.validation import check_id

    try:
        check_id(tenant, "tenant")
        parse_settlement_period(period)
    except RippleError as err:
        print(f"ripple settle: {err.message}", file=sys.stderr)
        return 2
    _use_running_stack()
    from ripple import bootstrap
    from ripple.service.settlement import settle

    try:
        summary = settle(bootstrap.services(), tenant, period)
    except RippleError as err:
        print(f"ripple settle: {err.message}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ripple", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="run the local stack")
    dev.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    dev.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", "0")))
    dev.add_argument("--no-seed", action="store_true", help="do not create the demo tenant")
    dev.add_argument("--poll-interval", type=float, default=0.1)

    tok = sub.add_parser("token", help="print a bearer token for the local stack")
    tok.add_argument("--tenant", required=True)
    tok.add_argument("--sub", required=True)
    tok.add_argument("--role", required=True, choices=["admin", "employee"])
    tok.add_argument("--ttl", type=int, default=12 * 3600, help="seconds")

    sub.add_parser("reconcile", help="recompute balances from the ledger and report drift")

    settle = sub.add_parser("settle", help="period-end settlement")
    settle.add_argument("--period", required=True, help="YYYY-MM-DD | YYYY-Www | YYYY-MM")
    settle.add_argument("--tenant", required=True)

    segments = sub.add_parser("segments", help="recompute customer segments and reach now")
    segments.add_argument("--tenant", action="append", help="repeatable; default every tenant")

    args = parser.parse_args(argv)
    if args.command == "dev":
        from infra.stack import run_dev

        run_dev(args.port, seed=not args.no_seed, moto_port=args.moto_port, poll_interval=args.poll_interval)
    elif args.command == "token":
        from ripple.adapters.auth import issue_token
        from ripple.config import load_config

        print(
            issue_token(
                load_config().jwt_secret, tenant=args.tenant, sub=args.sub, role=args.role, ttl_seconds=args.ttl
            )
        )
    elif args.command == "reconcile":
        _use_running_stack()
        from ripple import bootstrap
        from ripple.service.reconcile import reconcile_all

        report = reconcile_all(bootstrap.services())
        print(json.dumps(report, indent=2))
        sys.exit(0 if report["ok"] else 1)
    elif args.command == "settle":
        sys.exit(_settle(args.tenant, args.period))
    elif args.command == "segments":
        _use_running_stack()
        from ripple import bootstrap
        from ripple.service.analytics import refresh_segments

        print(json.dumps(refresh_segments(bootstrap.services(), args.tenant), indent=2))


if __name__ == "__main__":
    main()
