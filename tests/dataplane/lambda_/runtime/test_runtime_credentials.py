"""Each execution environment runs as the function's execution role: the keys of a role session (from the
runtime's credentials provider) in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, over the
lab's own; an environment whose keys expire soon takes no new request."""

from __future__ import annotations

import itertools
import time

import pytest

from serverless_lab.dataplane.lambda_.runtime import FunctionSpec, LambdaRuntime
from serverless_lab.dataplane.lambda_.runtime.credentials import EXPIRY_MARGIN_S, RoleCredentials

OFFLINE = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}
ROLE = "arn:aws:iam::123456789012:role/items-role"


class Provider:
    """A credentials provider that hands out numbered sessions, each valid for `lifetime_s`."""

    def __init__(self, lifetime_s: float = 3600.0) -> None:
        self.lifetime_s = lifetime_s
        self.asked: list[tuple[str, str]] = []
        self._numbers = itertools.count(1)

    def __call__(self, spec: FunctionSpec) -> RoleCredentials:
        self.asked.append((spec.role, spec.name))
        number = next(self._numbers)
        return RoleCredentials(
            f"ASIA{number:016d}", f"secret-{number}", f"token-{number}", time.time() + self.lifetime_s
        )


@pytest.mark.parametrize("isolation", ["process", "inprocess"])
def test_the_environment_holds_the_role_session_s_keys(handlers_zip, make_spec, isolation) -> None:
    provider = Provider()
    spec = make_spec("introspect.handler", role=ROLE)
    with LambdaRuntime(
        code_loader=lambda spec: handlers_zip,
        base_environment=OFFLINE,
        credentials=provider,
        isolation=isolation,
    ) as runtime:
        first = runtime.invoke(spec, {}).payload["environ"]
        second = runtime.invoke(spec, {}).payload["environ"]
    assert (first["AWS_ACCESS_KEY_ID"], first["AWS_SECRET_ACCESS_KEY"], first["AWS_SESSION_TOKEN"]) == (
        "ASIA0000000000000001",
        "secret-1",
        "token-1",
    )
    assert second["AWS_ACCESS_KEY_ID"] == "ASIA0000000000000001"  # a warm environment keeps its session
    assert provider.asked == [(ROLE, spec.name)]  # asked once, for the one environment


def test_without_a_provider_the_base_keys_stay(handlers_zip, make_spec) -> None:
    with LambdaRuntime(code_loader=lambda spec: handlers_zip, base_environment=OFFLINE) as runtime:
        environ = runtime.invoke(make_spec("introspect.handler"), {}).payload["environ"]
    assert environ["AWS_ACCESS_KEY_ID"] == "testing"


def test_an_environment_whose_keys_expire_soon_is_replaced(handlers_zip, make_spec) -> None:
    provider = Provider(lifetime_s=EXPIRY_MARGIN_S - 1)  # already within the margin when handed out
    spec = make_spec("introspect.handler", role=ROLE)
    with LambdaRuntime(code_loader=lambda spec: handlers_zip, credentials=provider) as runtime:
        first = runtime.invoke(spec, {})
        second = runtime.invoke(spec, {})
    assert first.cold and second.cold
    assert first.environment_id != second.environment_id
    assert second.payload["environ"]["AWS_ACCESS_KEY_ID"] == "ASIA0000000000000002"


def test_a_new_role_means_new_environments(handlers_zip, make_spec) -> None:
    provider = Provider()
    with LambdaRuntime(code_loader=lambda spec: handlers_zip, credentials=provider) as runtime:
        runtime.invoke(make_spec("introspect.handler", role=ROLE), {})
        changed = runtime.invoke(make_spec("introspect.handler", role=ROLE + "-2"), {})
    assert changed.cold
    assert [role for role, _ in provider.asked] == [ROLE, ROLE + "-2"]
