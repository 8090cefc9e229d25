"""`serverless-lab`: the command line over the same library the notebooks use.

    serverless-lab backend start|stop|status [--json]|reset
    serverless-lab plan|apply|verify|destroy [STEP] [--student NAME] [--backend NAME] [--region R]
                   [--profile P] [--yes]   (aws: apply shows the plan and the cost and asks; --yes answers)
    serverless-lab status [--student NAME]
    serverless-lab serve | urls [--json] | invoke FUNCTION [--event JSON]
    serverless-lab demo [--out DIR] [--users N] [--keep-running]
    serverless-lab users confirm USERNAME
    serverless-lab class start|status|stop|serve|progress [NAME] | hub | course export OUT   (classroom/cli.py)

Every error the lab raises on purpose is printed as one line naming the fix, with exit status 2; never a
traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from .errors import LabError


def _lab(args: argparse.Namespace) -> Any:
    from .lab import Lab

    return Lab(
        backend=args.backend,
        student=args.student,
        region=args.region,
        endpoint_url=args.endpoint_url,
        profile=args.profile,
    )


def _port(text: str) -> int:
    """A TCP port for argparse: 0 (any free port) to 65535, else argparse's own usage error."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port: use 0 (any free port) to 65535")
    return int(text)


def cmd_backend(args: argparse.Namespace) -> int:
    from .backends import LocalServer

    server = LocalServer()
    if args.action == "start":
        state = server.ensure_running(args.port)
        print(
            f"moto server running at {state.endpoint} (pid {state.pid}); data plane port {state.dataplane_port}"
        )
    elif args.action == "stop":
        print("stopped" if server.stop() else "no lab moto server was running")
    elif args.action == "reset":
        server.reset()
        print("every service of the local backend is empty again")
    else:
        status = server.status()
        state = server.read_state()
        status["dataplane_port"] = state.dataplane_port if state and status["running"] else None
        if args.json:
            print(json.dumps(status))
        else:
            print(
                f"running at {status['endpoint']}"
                if status["running"]
                else status["problem"] or "not running"
            )
        return 0 if status["running"] or not status["problem"] else 1
    return 0


def cmd_step(args: argparse.Namespace) -> int:
    lab = _lab(args)
    if args.command == "plan":
        for name in [args.step] if args.step else lab.steps:
            print(lab.plan(name))
    elif args.command == "apply":
        from .preview import confirmed

        if not confirmed(lab, args.step, yes=args.yes, require=bool(args.step)):
            return 2
        if args.step:
            lab.require(args.step, confirm=True)
        else:
            lab.apply(confirm=True)
        print(lab.status().to_string())
    elif args.command == "verify":
        report = lab.verify(args.step)
        print(report)
        return 0 if report.passed else 1
    elif args.command == "destroy":
        lab.destroy(args.step)
        print(
            f"destroyed {args.step or 'every step'} of student {lab.student} "
            f"({lab.backend.name} backend, region {lab.region})"
        )
    else:
        print(lab.status().to_string())
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    lab = _lab(args)
    pool = lab.outputs.get("users", {}).get("user_pool_id") or lab.step("users").outputs().get("user_pool_id")
    if not pool:
        print("The users step is not deployed. Fix: serverless-lab apply users", file=sys.stderr)
        return 2
    # Cognito's admin API confirms a sign-up without the emailed code, as an administrator can on AWS.
    lab.backend.client("cognito-idp").admin_confirm_sign_up(UserPoolId=pool, Username=args.username)
    print(f"confirmed {args.username}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="serverless-lab", description="The AWS serverless web app, offline."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def with_lab_options(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--backend",
            default=None,
            help="memory, local (default), class (default in a class), endpoint or aws",
        )
        p.add_argument("--student", default="default", help="the classroom namespace (default: default)")
        p.add_argument(
            "--region",
            default=None,
            help="offline: us-east-1; aws: your configuration's (AWS_REGION, the profile)",
        )
        p.add_argument("--profile", default=None, help="with --backend aws: the profile of ~/.aws/config")
        p.add_argument("--endpoint-url", default=None, help="with --backend endpoint")
        return p

    backend = sub.add_parser("backend", help="start, stop, check or reset the shared local moto server")
    backend.add_argument("action", choices=["start", "stop", "status", "reset"])
    backend.add_argument("--json", action="store_true")
    backend.add_argument("--port", type=_port, default=None)
    backend.set_defaults(func=cmd_backend)

    for name, text in [
        ("plan", "show the boto3 calls a step would make"),
        ("apply", "apply a step (and the steps it needs), or every step"),
        ("verify", "run a step's read-only checks"),
        ("destroy", "tear a step (or everything) down"),
        ("status", "one row per step"),
    ]:
        p = with_lab_options(sub.add_parser(name, help=text))
        if name == "apply":
            p.add_argument(
                "--yes", action="store_true", help="aws: apply without asking (the plan is still shown)"
            )
        if name != "status":
            p.add_argument("step", nargs="?", default=None)
        else:
            p.set_defaults(step=None)
        p.set_defaults(func=cmd_step)

    users = with_lab_options(sub.add_parser("users", help="Cognito helpers for the offline lab"))
    users.add_argument("action", choices=["confirm"])
    users.add_argument("username")
    users.set_defaults(func=cmd_users)

    serve = with_lab_options(sub.add_parser("serve", help="serve the data plane on 127.0.0.1 until Ctrl-C"))
    serve.set_defaults(func=cmd_serve)
    urls = with_lab_options(
        sub.add_parser("urls", help="where the APIs, distributions and Cognito are served")
    )
    urls.add_argument("--json", action="store_true")
    urls.set_defaults(func=cmd_urls)
    invoke = with_lab_options(sub.add_parser("invoke", help="invoke a function on the local Lambda runtime"))
    invoke.add_argument("function", help="items, me, or any function name or ARN")
    invoke.add_argument("--event", default="{}", help="the event, as JSON")
    invoke.set_defaults(func=cmd_invoke)

    demo = with_lab_options(
        sub.add_parser("demo", help="deploy offline, run the user flow, print latencies, write charts")
    )
    demo.add_argument("--out", default="out", help="folder for the charts and the CSV (default: out)")
    demo.add_argument("--users", type=int, default=20, help="simulated users (default: 20)")
    demo.add_argument("--concurrency", type=int, default=4)
    demo.add_argument("--keep-running", action="store_true", help="keep serving the site for a browser")
    demo.add_argument(
        "--yes", action="store_true", help="aws: deploy without asking (the plan is still shown)"
    )
    demo.set_defaults(func=cmd_demo)

    from .classroom.cli import add_commands

    add_commands(sub)  # class, hub, course: the classroom's commands
    return parser


def cmd_serve(args: argparse.Namespace) -> int:
    lab = _lab(args)
    server = lab.serve()
    print(f"serving the data plane at {server.url} (Ctrl-C stops)", flush=True)
    if server.shared_with:
        print(
            f"  (another lab process already serves this backend at {server.shared_with}; config.js points there)"
        )
    for key, value in lab.dataplane().urls().as_dict().items():
        print(f"  {key}: {json.dumps(value)}")
    server.serve_forever()
    return 0


def cmd_urls(args: argparse.Namespace) -> int:
    import urllib.request

    lab = _lab(args)
    urls: dict[str, Any] | None = None
    port = lab.backend.dataplane_port
    if port:
        # A running `serve` knows the ports of the distributions: ask it first.
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_lab/urls", timeout=2) as answer:
                urls = json.loads(answer.read())
        except OSError:
            urls = None
    if urls is None:
        urls = lab.dataplane().urls().as_dict()
    if args.json:
        print(json.dumps(urls))
    else:
        for api in urls["apis"]:
            print(f"API {api['rest_api_id']} ({api['stage']}): {api['url']}")
        for distribution in urls["distributions"]:
            print(f"distribution {distribution['id']}: {distribution['url']}")
        print(f"cognito: {urls['cognito']}")
    return 0


def cmd_invoke(args: argparse.Namespace) -> int:
    lab = _lab(args)
    try:
        event = json.loads(args.event)
    except ValueError as error:
        print(f"serverless-lab: --event is not JSON: {error}", file=sys.stderr)
        return 2
    invocation = lab.invoke(args.function, event)
    for line in invocation.logs:
        print(line, file=sys.stderr)
    print(json.dumps(invocation.payload, indent=2))
    return 1 if invocation.function_error else 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .flow.demo import run_demo

    return run_demo(args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if hasattr(args, "backend") and args.backend is None:
            from .backends import default_backend_name

            args.backend = default_backend_name()  # `class` inside a class, else `local`
        return int(args.func(args) or 0)
    except LabError as error:
        print(f"serverless-lab: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
