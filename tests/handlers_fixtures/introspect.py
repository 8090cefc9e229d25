import os
import sys


def handler(event, context):
    remaining = context.get_remaining_time_in_millis()
    return {
        "environ": dict(os.environ),
        "cwd": os.getcwd(),
        "sys_path_0": sys.path[0],
        "context": {
            "aws_request_id": context.aws_request_id,
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining": remaining,
            "identity_id": context.identity.cognito_identity_id,
            "client_custom": context.client_context.custom if context.client_context else None,
        },
        "repo_handlers_importable": _can_import("handlers"),
        "lab_importable": _can_import("serverless_lab"),
    }


def _can_import(name):
    try:
        __import__(name)
    except ImportError:
        return False
    return True
