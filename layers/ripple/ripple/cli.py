"""The ``ripple`` command.

ripple dev [--port 8000] [--fresh]       the whole local stack (what ``make run`` calls); keeps
                                         its state in .local/<port>/ across restarts unless --fresh
ripple token --email E [--password P]    sign in through Cognito, print the ID token
ripple token --tenant T --sub ID --role admin|employee   (local stack: sets a password, signs in)
ripple tenant create --tenant T --admin-email E [--stack NAME]   a new tenant and its first admin
ripple reconcile                         balances vs ledger on the running local stack
ripple settle --tenant T --period P      period-end settlement on the running local stack
ripple segments [--tenant T]             recompute customer segments and reach now (hourly job)
ripple deployed-urls --stack S [--region R]   the URLs of a deployed stack (after `sam deploy`)
"""

from __future__ import annotations

import argparse
import json
import os
import sys

__all__ = ["main"]


def _use_running_stack(port: int | None = None) -> None:
    """Point this process at the stack ``ripple dev`` is running: the one on ``port``, else
    the only one running in this checkout (each stack has its own state file)."""
    from infra.stack import local_env, running_stacks

    stacks = running_stacks()
    if port is not None:
        stacks = [s for s in stacks if s.get("port") == port]
    if not stacks:
        where = f" on port {port}" if port is not None else ""
        sys.exit(f"no local stack is running here{where} (start it with `make run`)")
    if len(stacks) > 1:
        ports = ", ".join(str(s.get("port")) for s in stacks)
        sys.exit(f"several local stacks are running here (ports {ports}): choose one with --port")
    os.environ.update(local_env(stacks[0]["moto"], stacks[0]["stack"], stacks[0].get("pool")))
    os.environ.setdefault("RIPPLE_PUBLIC_BASE_URL", stacks[0]["api"])  # the links e-mails carry


def _use_deployed_stack(stack: str) -> None:
    """Point this process at a deployed stack: its user pool from the stack's outputs, its
    tables by the template's naming (``<stack>-main``, ...), AWS credentials as usual."""
    import secrets

    import boto3

    from infra.template import table_env

    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    }
    os.environ.update(table_env(stack))
    os.environ["RIPPLE_USER_POOL_ID"] = outputs["UserPoolId"]
    os.environ["RIPPLE_USER_POOL_CLIENT_ID"] = outputs["UserPoolClientId"]
    os.environ.setdefault("RIPPLE_ENV", "operator")
    # the operator's use cases never derive visitor ids; load_config wants a value anyway
    os.environ.setdefault("RIPPLE_VISITOR_SECRET", secrets.token_urlsafe(32))


def _target(stack: str | None, port: int | None = None) -> None:
    if stack:
        _use_deployed_stack(stack)
    else:
        _use_running_stack(port)


def _tenant_create(args: argparse.Namespace) -> int:
    from ripple.domain.errors import RippleError
    from ripple.service.identity import create_tenant

    _target(args.stack, args.port)
    from ripple import bootstrap

    try:
        result = create_tenant(
            bootstrap.services(),
            args.tenant,
            admin_email=args.admin_email,
            admin_id=args.admin_id,
            name=args.name or "",
            timezone=args.timezone,
        )
    except RippleError as err:
        print(f"ripple tenant create: {err.message}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2, ensure_ascii=False))
    print(
        f"Cognito has e-mailed {args.admin_email} a temporary password"
        + ("" if args.stack else " (the local stack prints it, and keeps it in its mailbox file)")
        + ": sign in on /console and choose a password.",
        file=sys.stderr,
    )
    return 0


def _token(args: argparse.Namespace) -> int:
    """An ID token from a real Cognito sign-in."""
    import getpass

    from ripple.domain.errors import RippleError
    from ripple.service.identity import sign_in

    _target(args.stack, args.port)
    from ripple import bootstrap

    svc = bootstrap.services()
    try:
        if args.email:
            password = args.password or os.environ.get("RIPPLE_PASSWORD") or getpass.getpass("password: ")
            result = sign_in(svc, {"email": args.email, "password": password})
        else:
            if args.stack or not (args.tenant and args.sub and args.role):
                print("ripple token: --email, or (local stack only) --tenant, --sub and --role", file=sys.stderr)
                return 2
            from infra.cognito import local_sign_in

            result = local_sign_in(svc, args.tenant, args.sub, args.role)
    except RippleError as err:
        print(f"ripple token: {err.message}", file=sys.stderr)
        return 2
    if "id_token" not in result:
        print("ripple token: first sign-in: choose a password on /console or /m first", file=sys.stderr)
        return 2
    print(result["id_token"])
    return 0


def _settle(tenant: str, period: str, port: int | None = None) -> int:
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
    _use_running_stack(port)
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
    dev.add_argument("--fresh", action="store_true", help="start empty: forget the state saved in .local/<port>/")

    tok = sub.add_parser("token", help="sign in through Cognito and print the ID token")
    tok.add_argument("--email")
    tok.add_argument("--password", help="default: $RIPPLE_PASSWORD, else asked for")
    tok.add_argument("--tenant")
    tok.add_argument("--sub", help="employee id (local stack only)")
    tok.add_argument("--role", choices=["admin", "employee"])
    tok.add_argument("--stack", help="a deployed stack's name (default: the running local stack)")

    tenant = sub.add_parser("tenant", help="operator: tenants")
    tenant_sub = tenant.add_subparsers(dest="tenant_command", required=True)
    create = tenant_sub.add_parser("create", help="a new tenant and its first admin")
    create.add_argument("--tenant", required=True)
    create.add_argument("--admin-email", required=True)
    create.add_argument("--admin-id", default="admin")
    create.add_argument("--name")
    create.add_argument("--timezone", default="UTC")
    create.add_argument("--stack", help="a deployed stack's name (default: the running local stack)")

    reconcile = sub.add_parser("reconcile", help="recompute balances from the ledger and report drift")

    settle = sub.add_parser("settle", help="period-end settlement")
    settle.add_argument("--period", required=True, help="YYYY-MM-DD | YYYY-Www | YYYY-MM")
    settle.add_argument("--tenant", required=True)

    segments = sub.add_parser("segments", help="recompute customer segments and reach now")
    segments.add_argument("--tenant", action="append", help="repeatable; default every tenant")

    notify = sub.add_parser("notify", help="expand and send due notifications now (the minute job, at once)")

    for cmd in (reconcile, settle, segments, notify, tok, create):
        cmd.add_argument("--port", type=int, help="the stack on this port (default: the only one running)")

    urls = sub.add_parser("deployed-urls", help="URLs of a deployed stack, from its CloudFormation outputs")
    urls.add_argument("--stack", default="ripple", help="stack name given to sam deploy (default: ripple)")
    urls.add_argument("--region", default=None)

    args = parser.parse_args(argv)
    if args.command == "dev":
        from infra.stack import run_dev

        run_dev(
            args.port,
            seed=not args.no_seed,
            moto_port=args.moto_port,
            poll_interval=args.poll_interval,
            fresh=args.fresh,
        )
    elif args.command == "token":
        sys.exit(_token(args))
    elif args.command == "tenant":
        sys.exit(_tenant_create(args))
    elif args.command == "reconcile":
        _use_running_stack(args.port)
        from ripple import bootstrap
        from ripple.service.reconcile import reconcile_all

        report = reconcile_all(bootstrap.services())
        print(json.dumps(report, indent=2))
        sys.exit(0 if report["ok"] else 1)
    elif args.command == "settle":
        sys.exit(_settle(args.tenant, args.period, args.port))
    elif args.command == "deployed-urls":
        from ripple.adapters.stack import deployed_urls, stack_outputs

        print(json.dumps(deployed_urls(stack_outputs(args.stack, region=args.region)), indent=2))
    elif args.command == "notify":
        _use_running_stack(args.port)
        from ripple import bootstrap
        from ripple.service.notifications import dispatch

        print(json.dumps(dispatch(bootstrap.services()), indent=2))
    elif args.command == "segments":
        _use_running_stack(args.port)
        from ripple import bootstrap
        from ripple.service.analytics import refresh_segments

        print(json.dumps(refresh_segments(bootstrap.services(), args.tenant), indent=2))


if __name__ == "__main__":
    main()
