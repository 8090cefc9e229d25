"""The cost of IAM enforcement per call (issue #17's goal: under 50 us on a warm call, policies cached until
they change), and what it does to a DynamoDB call as a whole, as a ratio to the same call without it.

On the memory backend (moto in this process, its HTTP endpoint on loopback, a boto3 client in this process),
a role session of the functions step's real policy (lambda_policy: five item actions on the table, the
function's log group) makes warm GetItem calls, the handler's GET /items/{id}. Measured:

- the check itself, server side: the CPU time of the server's thread inside moto_iam.check_moto_request
  per call (session lookup,
  action/resource/conditions, the role's live policies, the evaluation), median and p95 over warm calls;
  the same with a role of 10 inline and 5 attached policies (~60 statements), and the first call after a
  put_role_policy (the new document parsed once);
- the lab's admin calls: the time the replaced funnel takes when the caller is not a role session (it must
  stay a pass-through);
- GetItem as the role session against GetItem with the lab's admin keys, in alternating slices: the median
  of the slice pairs' rate ratios (1.0 = enforcement costs nothing visible).

    .venv/bin/python benchmarks/bench_iam.py [--calls 3000] [--seconds 4]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("SERVERLESS_LAB_HOME", tempfile.mkdtemp(prefix="bench-iam-"))
for _name in [n for n in os.environ if n.startswith("AWS_")]:
    del os.environ[_name]

import boto3  # noqa: E402

from serverless_lab.backends import make_backend, moto_iam  # noqa: E402
from serverless_lab.steps.lambda_policies import LAMBDA_TRUST_POLICY, lambda_policy  # noqa: E402

REGION, ACCOUNT = "us-east-1", "123456789012"
TABLE = "bench-items"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}"
GOAL_US = 50.0
ADMIN = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "aws_session_token": "testing"}


class FunnelTimer:
    """Times moto_iam.check_moto_request (the check of a role session's call) and the funnel as a whole."""

    def __init__(self) -> None:
        self.check_us: list[float] = []
        self.funnel_us: list[float] = []
        self._check = moto_iam.check_moto_request

    def install(self) -> None:
        from moto.core import authorization

        check = self._check
        funnel = authorization.ActionAuthenticatorMixin._authenticate_and_authorize_action

        # CPU time of the server's thread: what the check costs, without the time the machine's other
        # processes (a shared 2-core machine) take the CPU in between.
        def timed_check(response: Any, resource: str) -> None:
            started = time.thread_time_ns()
            try:
                check(response, resource)
            finally:
                self.check_us.append((time.thread_time_ns() - started) / 1000)

        def timed_funnel(this: Any, cls: type, resource: str = "*") -> None:
            started = time.thread_time_ns()
            try:
                funnel(this, cls, resource)
            finally:
                self.funnel_us.append((time.thread_time_ns() - started) / 1000)

        moto_iam.check_moto_request = timed_check  # type: ignore[assignment]
        authorization.ActionAuthenticatorMixin._authenticate_and_authorize_action = timed_funnel  # type: ignore[method-assign]

    def take(self) -> tuple[list[float], list[float]]:
        check, funnel = self.check_us, self.funnel_us
        self.check_us, self.funnel_us = [], []
        return check, funnel


def client(endpoint: str, service: str, keys: dict[str, str]) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint, **keys)


def setup(endpoint: str) -> tuple[dict[str, str], dict[str, str]]:
    """The table with one item, the step's role and policy, a bigger role; their sessions' keys."""
    ddb, iam, sts = (client(endpoint, s, ADMIN) for s in ("dynamodb", "iam", "sts"))
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "owner", "KeyType": "HASH"},
            {"AttributeName": "itemId", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "owner", "AttributeType": "S"},
            {"AttributeName": "itemId", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName=TABLE, Item={"owner": {"S": "ada"}, "itemId": {"S": "1"}, "title": {"S": "milk"}})
    trust = json.dumps(LAMBDA_TRUST_POLICY)
    keys = []
    for role, extra in (("bench-lambda", 0), ("bench-big", 10)):
        arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        document = json.dumps(lambda_policy(REGION, ACCOUNT, TABLE_ARN, ["bench-items"]))
        policy_arn = iam.create_policy(PolicyName=f"{role}-policy", PolicyDocument=document)["Policy"]["Arn"]
        iam.attach_role_policy(RoleName=role, PolicyArn=policy_arn)
        for n in range(extra):  # unrelated grants a real role accumulates: other tables, buckets, queues
            statements = [
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject"],
                    "Resource": f"arn:aws:s3:::b{n}/*",
                },
                {
                    "Effect": "Allow",
                    "Action": "dynamodb:Query",
                    "Resource": f"arn:aws:dynamodb:*:*:table/t{n}",
                },
                {"Effect": "Deny", "Action": "sqs:*", "Resource": f"arn:aws:sqs:*:*:q{n}"},
            ]
            iam.put_role_policy(
                RoleName=role,
                PolicyName=f"extra-{n}",
                PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
            )
        for name in ("AWSLambdaBasicExecutionRole", "AWSXRayDaemonWriteAccess")[: 2 if extra else 0]:
            path = "service-role/" if name.startswith("AWSLambda") else ""
            iam.attach_role_policy(RoleName=role, PolicyArn=f"arn:aws:iam::aws:policy/{path}{name}")
        answer = sts.assume_role(RoleArn=arn, RoleSessionName="bench-items")["Credentials"]
        keys.append(
            {
                "aws_access_key_id": answer["AccessKeyId"],
                "aws_secret_access_key": answer["SecretAccessKey"],
                "aws_session_token": answer["SessionToken"],
            }
        )
    return keys[0], keys[1]


def get_item(ddb: Any) -> Callable[[], None]:
    key = {"owner": {"S": "ada"}, "itemId": {"S": "1"}}
    return lambda: ddb.get_item(TableName=TABLE, Key=key)


def measure_check(call: Callable[[], None], timer: FunnelTimer, calls: int) -> list[float]:
    for _ in range(50):  # warm: clients' connections, the session and policy caches
        call()
    timer.take()
    for _ in range(calls):
        call()
    return timer.take()[0]


def paired_ratio(
    subject: Callable[[], None], baseline: Callable[[], None], seconds: float
) -> tuple[float, float, float]:
    """Median (and quartiles) of subject/baseline call rates over alternating 100 ms slices."""
    ratios = []
    deadline = time.perf_counter() + seconds
    first = True
    while time.perf_counter() < deadline:
        rates = {}
        for name, call in (("s", subject), ("b", baseline)) if first else (("b", baseline), ("s", subject)):
            count, started = 0, time.perf_counter()
            while time.perf_counter() - started < 0.1:
                call()
                count += 1
            rates[name] = count / (time.perf_counter() - started)
        ratios.append(rates["s"] / rates["b"])
        first = not first
    quartiles = statistics.quantiles(ratios, n=4)
    return statistics.median(ratios), quartiles[0], quartiles[2]


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"median {statistics.median(ordered):.1f} us, p95 {p95:.1f} us over {len(ordered)} calls"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    backend = make_backend("memory")
    backend.start()
    endpoint = backend.http_endpoint()
    role_keys, big_keys = setup(endpoint)
    timer = FunnelTimer()
    timer.install()
    as_role = get_item(client(endpoint, "dynamodb", role_keys))
    as_big_role = get_item(client(endpoint, "dynamodb", big_keys))
    as_admin = get_item(client(endpoint, "dynamodb", ADMIN))

    check = measure_check(as_role, timer, args.calls)
    big = measure_check(as_big_role, timer, args.calls)
    for _ in range(args.calls):
        as_admin()
    admin_funnel = timer.take()[1]
    iam = client(endpoint, "iam", ADMIN)
    after_change = []
    for n in range(20):  # each change is a new document: parsed once, on the next call
        statement = {"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": f"{TABLE_ARN}-{n}"}
        document = {"Version": "2012-10-17", "Statement": [statement]}
        iam.put_role_policy(
            RoleName="bench-lambda", PolicyName="changing", PolicyDocument=json.dumps(document)
        )
        timer.take()
        as_role()
        after_change.append(timer.take()[0][0])
    iam.delete_role_policy(RoleName="bench-lambda", PolicyName="changing")
    median, low, high = paired_ratio(as_role, as_admin, args.seconds)

    warm = statistics.median(check)
    print("IAM enforcement (moto_iam), DynamoDB GetItem on the memory backend:")
    print(f"  the check per warm call, the functions step's role: {summary(check)}")
    print(f"  the check per warm call, a role with 15 policies:   {summary(big)}")
    print(f"  the first call after put_role_policy:               {summary(after_change)}")
    print(f"  the funnel for the lab's admin keys (pass-through): {summary(admin_funnel)}")
    print(
        f"  GetItem as the role session / with the admin keys: {median:.3f} of the rate "
        f"(quartiles {low:.3f}-{high:.3f}, alternating 100 ms slices)"
    )
    verdict = "met" if warm < GOAL_US else "NOT met"
    print(f"\ngoal of #17: the check under {GOAL_US:.0f} us on a warm call -> {warm:.1f} us ({verdict})")


if __name__ == "__main__":
    main()
