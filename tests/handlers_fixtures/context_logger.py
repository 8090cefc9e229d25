"""context.log and repr(context), as awslambdaric gives them."""


def handler(event, context):
    context.log("first\nsecond")
    print("after")
    return {"repr": repr(context)}
