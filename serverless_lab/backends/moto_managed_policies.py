"""AWS managed policies for moto, with their real documents, loaded one at a time when first named.

On AWS every account can attach AWSLambdaBasicExecutionRole, AmazonDynamoDBReadOnlyAccess and the other
AWS managed policies (`arn:aws:iam::aws:policy/<path><name>`). moto ships their documents
(moto/iam/aws_managed_policies.py, 1,595 of them) but makes them exist only with
MOTO_IAM_LOAD_MANAGED_POLICIES, and then builds every one of them for every account's IAM backend (1.6 s
for the first call); without it, attach_role_policy answers NoSuchEntity "does not exist or is not
attachable" for a policy every AWS account has.

Here a policy is made the first time a call names it (attach to a role, user or group, get_policy,
get_policy_version, a permissions boundary, the IAM check of a role session), from moto's own data: the
data is parsed once per process (about 25 ms), and each policy costs one object.
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any

AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy/"
_lock = threading.Lock()


@functools.cache
def _documents() -> dict[str, dict[str, Any]]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return json.loads(aws_managed_policies_data)  # type: ignore[no-any-return]


def ensure_loaded(backend: Any, policy_arn: Any) -> Any:
    """The AWS managed policy `policy_arn` in this IAM backend (made now if needed); None for any other ARN
    or a name AWS has no policy of."""
    if not isinstance(policy_arn, str) or not policy_arn.startswith(AWS_POLICY_PREFIX):
        return None
    found = backend.managed_policies.get(policy_arn)
    if found is not None:
        return found
    name = policy_arn.rsplit("/", 1)[-1]
    data = _documents().get(name)
    if data is None or f"{AWS_POLICY_PREFIX}{data.get('Path', '/')[1:]}{name}" != policy_arn:
        return None  # no such policy, or the right name under another path
    from moto.iam.models import AWSManagedPolicy

    with _lock:
        found = backend.managed_policies.get(policy_arn)
        if found is None:
            found = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
            backend.managed_policies[policy_arn] = found
            backend.aws_managed_policies.append(found)
    return found


def apply() -> None:
    from moto.iam.models import IAMBackend

    if getattr(IAMBackend.attach_role_policy, "_serverless_lab_fix", False):
        return

    def loading(method_name: str) -> None:
        original = getattr(IAMBackend, method_name)

        @functools.wraps(original)
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            for value in (*args, *kwargs.values()):  # the ARN is positional or not, depending on the caller
                ensure_loaded(self, value)
            return original(self, *args, **kwargs)

        method._serverless_lab_fix = True  # type: ignore[attr-defined]
        setattr(IAMBackend, method_name, method)

    for name in (
        "attach_role_policy",
        "attach_user_policy",
        "attach_group_policy",
        "get_policy",
        "get_policy_version",
        "list_policy_versions",
        "put_role_permissions_boundary",
        "create_role",
    ):
        loading(name)
