import module_that_is_not_in_the_zip  # noqa: F401


def handler(event, context):
    return "unreachable"
