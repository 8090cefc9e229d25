"""sys.exit() in a handler, and in module code when the event asks for it at init (environment variable)."""

import os
import sys

if os.environ.get("EXIT_AT_INIT"):
    print("init: giving up")
    sys.exit(int(os.environ["EXIT_AT_INIT"]))


def handler(event, context):
    print("before exit")
    sys.exit(event.get("code"))
