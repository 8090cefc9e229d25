"""The classroom's commands of `serverless-lab`:

    serverless-lab class start NAME [--home DIR] [--instructor NAME] [--browser loopback|hub] [--port N]
    serverless-lab class status|stop|serve [NAME] [--home DIR] [--json]
    serverless-lab class progress [NAME] [--home DIR]
    serverless-lab hub [--class NAME] [--port 8000] [--users ada,grace,linus] [--instructor NAME]
    serverless-lab course export OUT [--notebooks DIR]

NAME defaults to $SERVERLESS_LAB_CLASS, and --home to $SERVERLESS_LAB_CLASS_HOME or <lab home>/classes/NAME.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from ..backends.classroom import BROWSER_MODES, CLASS_HOME_VARIABLE, CLASS_VARIABLE, ClassSettings
from ..errors import UsageError


def add_commands(sub: Any) -> None:
    """Adds `class`, `hub` and `course` to the CLI's subcommands."""
    klass = sub.add_parser(
        "class", help="a class on one shared backend: start, status, stop, serve, progress"
    )
    klass.add_argument("action", choices=["start", "status", "stop", "serve", "progress"])
    klass.add_argument("name", nargs="?", default=None, help=f"the class (default: ${CLASS_VARIABLE})")
    klass.add_argument("--home", default=None, help=f"its class home (default: ${CLASS_HOME_VARIABLE})")
    klass.add_argument("--instructor", default=None, help="the instructor's namespace (default: instructor)")
    klass.add_argument(
        "--browser", choices=BROWSER_MODES, default=None, help="how browsers reach the data plane"
    )
    klass.add_argument("--port", type=int, default=None, help="the moto server's port (default: a free one)")
    klass.add_argument("--json", action="store_true")
    klass.set_defaults(func=cmd_class)

    hub = sub.add_parser("hub", help="a JupyterHub for a class on 127.0.0.1, for a trial (fixed users)")
    hub.add_argument("--class", dest="class_name", default="trial", help="the class (default: trial)")
    hub.add_argument("--home", default=None, help="its class home")
    hub.add_argument("--port", type=int, default=8000, help="the hub's port on 127.0.0.1 (default: 8000)")
    hub.add_argument("--users", default="ada,grace,linus", help="the trial's students, comma-separated")
    hub.add_argument("--instructor", default="instructor", help="the instructor's hub user (an admin)")
    hub.set_defaults(func=cmd_hub)

    course = sub.add_parser("course", help="the course as an nbgrader course")
    course.add_argument("action", choices=["export"])
    course.add_argument("out", help="the folder of the nbgrader course (created)")
    course.add_argument("--notebooks", default=None, help="the course's notebooks (default: the project's)")
    course.set_defaults(func=cmd_course)


def settings_of(args: argparse.Namespace) -> ClassSettings:
    name = args.name or os.environ.get(CLASS_VARIABLE)
    if not name:
        raise UsageError(
            f"Which class? Fix: name it (`serverless-lab class {args.action} NAME`) or set ${CLASS_VARIABLE}."
        )
    home = args.home or (
        os.environ.get(CLASS_HOME_VARIABLE) if name == os.environ.get(CLASS_VARIABLE) else None
    )
    return ClassSettings.load(name, Path(home) if home else None)


def cmd_class(args: argparse.Namespace) -> int:
    from . import lifecycle

    if args.action == "start":
        if not args.name and not os.environ.get(CLASS_VARIABLE):
            raise UsageError("Name the class to start: `serverless-lab class start NAME`.")
        current = settings_of(args)
        settings = lifecycle.start_class(
            current.name, home=current.home, instructor=args.instructor, browser=args.browser, port=args.port
        )
        status = lifecycle.class_status(settings)
        if args.json:
            print(json.dumps(status))
        else:
            print(f"class {settings.name} running: moto server {status['endpoint']}, data plane port "
                  f"{status['dataplane_port']}; progress in sl-{settings.instructor}-progress")  # fmt: skip
            print("put a kernel, a shell or a hub's spawner in the class with:")
            for key, value in settings.environment().items():
                print(f"  export {key}={value}")
        return 0
    settings = settings_of(args)
    if args.action == "status":
        status = lifecycle.class_status(settings)
        if args.json:
            print(json.dumps(status))
        else:
            print(
                f"class {settings.name}: "
                + (
                    "running at " + str(status["endpoint"])
                    if status["running"]
                    else status["problem"] or "not running"
                )
            )
        return 0 if status["running"] else 1
    if args.action == "stop":
        print("stopped" if lifecycle.stop_class(settings) else f"the class {settings.name} was not running")
        return 0
    if args.action == "serve":
        server = lifecycle.serve_class(settings)
        print(
            f"serving the data plane of the class {settings.name} at {server.url} (Ctrl-C stops)", flush=True
        )
        server.serve_forever()
        return 0
    from ..teaching.class_progress import progress, progress_marks, stuck

    backend = lifecycle.class_backend(settings)
    print(progress_marks(progress(backend)).to_string())
    found = stuck(backend, top=5)
    if not found.empty:
        print("\nstuck longest:\n" + found.to_string())
    return 0


def cmd_hub(args: argparse.Namespace) -> int:
    from . import hub

    users = [user.strip() for user in args.users.split(",") if user.strip()]
    return hub.run_trial_hub(
        args.class_name, home=Path(args.home) if args.home else None, port=args.port, users=users,
        instructor=args.instructor,
    )  # fmt: skip


def cmd_course(args: argparse.Namespace) -> int:
    from .course_export import export_course

    course = export_course(Path(args.out), Path(args.notebooks) if args.notebooks else None)
    print(f"nbgrader course written to {course.root}: {len(course.assignments)} assignment(s), "
          f"{course.points} point(s); next: cd {course.root} && nbgrader generate_assignment --all")  # fmt: skip
    return 0
