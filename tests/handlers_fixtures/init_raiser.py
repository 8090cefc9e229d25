"""Module-level code that fails: an init error that is neither an ImportError nor a SyntaxError."""

print("reading the configuration")
raise ValueError("bad config")


def handler(event, context):
    return "never"
