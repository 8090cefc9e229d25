"""The role sessions of moto's STS and their policies in moto's IAM, as the IAM check (moto_iam.py) reads
them, and the check itself: `authorize(session, ...)` raises Refusal unless the call is allowed.

A session is resolved once per access key (moto scans every session, and the access key's account through
every IAM backend, on each lookup) and stays valid until moto resets the STS backend. Policies are read live
from the role on every call; each document is parsed once, cached by its text, so put_role_policy or a new
default version takes effect on the next call.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from serverless_lab.dataplane.iam import actions
from serverless_lab.dataplane.iam.evaluation import denial_message, evaluate
from serverless_lab.dataplane.iam.policy import Policy
from serverless_lab.dataplane.iam.request import LowerCaseContext, MalformedPolicyError, Principal, Request

from . import moto_managed_policies

INVALID_TOKEN = "The security token included in the request is invalid."
EXPIRED_TOKEN = "The security token included in the request is expired"


class Refusal(Exception):
    """Why a session's call is refused: kind "denied" (AccessDenied), "invalid" or "expired" token."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(eq=False)
class Session:
    """A role session as the check needs it, resolved once per access key: moto's AssumedRole, the backends
    it lives in, the caller's principal. moto finds a session by scanning every session and its account
    through every IAM backend; this is looked up in a dict. It stays valid until moto resets the STS
    backend (which gives it a new session list)."""

    session: Any  # moto's AssumedRole
    sessions: list[Any]  # the STS backend's list it was found in
    sts_backend: Any
    iam_backend: Any
    account: str
    partition: str
    principal: Principal
    role: Any = None
    _expiration: tuple[Any, float] | None = None
    _backends: dict[tuple[str, str], Any] = field(default_factory=dict)
    _static_context: dict[str, Any] = field(default_factory=dict)

    def valid(self) -> bool:
        return self.sts_backend.__dict__.get("assumed_roles") is self.sessions

    def expired(self, now: float) -> bool:
        stamp = self.session.expiration
        if self._expiration is None or self._expiration[0] is not stamp:
            # moto keeps a naive UTC datetime; compared as epoch seconds, without a datetime per call.
            self._expiration = (stamp, stamp.replace(tzinfo=UTC).timestamp())
        return bool(self._expiration[1] <= now)

    def backend(self, service: str, region: str) -> Any:
        """A moto backend of this session's account (DynamoDB's per region, S3's per partition)."""
        key = (service, region)
        found = self._backends.get(key)
        if found is None:
            if service == "dynamodb":
                from moto.dynamodb.models import dynamodb_backends as backends
            else:
                from moto.s3.models import s3_backends as backends
            found = self._backends[key] = backends[self.account][region]
        return found

    def current_role(self) -> Any:
        """The session's role in moto's IAM backend, or None once it was deleted."""
        role = self.role
        if role is not None and self.iam_backend.roles.get(role.id) is role:
            return role
        arn = self.session.role_arn
        self.role = next((r for r in self.iam_backend.roles.values() if r.arn == arn), None)
        self._static_context = {}
        return self.role

    def context(self, region: str, role: Any) -> dict[str, Any]:
        """The global condition keys of a call in `region` now (the time keys change once a second)."""
        now = int(time.time())
        found = self._static_context.get(region)
        if found is None or found[0] != now:
            tags = {tag["Key"]: tag["Value"] for tag in (role.tags or [])} if role is not None else None
            context = actions.global_context(
                region=region,
                account=self.account,
                role_arn=self.session.role_arn,
                role_id=role.id if role is not None else "",
                session_name=self.session.session_name,
                tags=tags,
                now=datetime.fromtimestamp(now, UTC),
            )
            found = self._static_context[region] = (now, LowerCaseContext.of(context))
        return found[1]  # type: ignore[no-any-return]


_SESSIONS: dict[str, Session] = {}


def resolve_session(access_key_id: str, region: str) -> Session | None:
    """The session of a session key (ASIA...), or None when moto's STS issued no such key."""
    found = _SESSIONS.get(access_key_id)
    if found is not None and found.valid():
        return found
    from moto.iam.models import get_account_id_from, iam_backends
    from moto.sts.models import sts_backends
    from moto.utilities.utils import get_partition

    account, partition = get_account_id_from(access_key_id), get_partition(region)
    backend = sts_backends[account][partition]
    sessions = backend.assumed_roles
    session = next((s for s in reversed(sessions) if s.access_key_id == access_key_id), None)
    if session is None:
        return None
    role_name = session.role_arn.rsplit("/", 1)[-1]
    principal = Principal.assumed_role(account, role_name, session.session_name, partition)
    found = Session(
        session, sessions, backend, iam_backends[account][partition], account, partition, principal
    )
    if len(_SESSIONS) > 4096:  # sessions of environments long gone
        _SESSIONS.clear()
    _SESSIONS[access_key_id] = found
    return found


def _default_document(policy: Any) -> str | None:
    for version in policy.versions:
        if version.is_default:
            return version.document  # type: ignore[no-any-return]
    return None


def _parsed(document: Any) -> Policy | None:
    if not document:
        return None
    try:
        return Policy.parse(document if isinstance(document, str) else json.dumps(document))
    except MalformedPolicyError:
        return None  # IAM validated it when it was stored; a document this parser cannot read allows nothing


_IDENTITY: dict[tuple[Any, ...], tuple[Policy, ...]] = {}


def role_policies(session: Session, role: Any) -> tuple[tuple[Policy, ...], Policy | None]:
    """The role's identity policies (inline, then attached at their default versions) and its permissions
    boundary, read live from moto on every call; a document is parsed once (cached by its text)."""
    if role is None:
        return (), None
    documents = (*role.policies.values(), *map(_default_document, role.managed_policies.values()))
    identity = _IDENTITY.get(documents)
    if identity is None:
        if len(_IDENTITY) > 1024:
            _IDENTITY.clear()
        identity = _IDENTITY[documents] = tuple(p for p in map(_parsed, documents) if p is not None)
    boundary = None
    if role.permissions_boundary_arn:
        backend = session.iam_backend
        found = backend.managed_policies.get(role.permissions_boundary_arn) or (
            moto_managed_policies.ensure_loaded(backend, role.permissions_boundary_arn)
        )
        # A boundary that names no policy allows nothing, as an empty boundary would.
        boundary = (_parsed(_default_document(found)) if found is not None else None) or Policy(())
    return identity, boundary


def authorize(
    session: Session | None,
    *,
    token: str | None,
    service: str,
    region: str,
    operation: str,
    params: dict[str, Any],
    resource: str = "*",
    resource_policy: Any = None,
) -> None:
    """Raises Refusal unless the session may make this call (None: a key STS never issued)."""
    if session is None or token != session.session.session_token:
        raise Refusal("invalid", INVALID_TOKEN)
    if session.expired(time.time()):
        raise Refusal("expired", EXPIRED_TOKEN)
    partition_key_of = None
    if service == "dynamodb":
        tables = session.backend("dynamodb", region).tables

        def partition_key_of(table: str) -> str | None:
            found = tables.get(table.rsplit("/", 1)[-1])
            return getattr(found, "hash_key_attr", None)

    found = actions.checks(
        service,
        operation,
        params,
        region=region,
        account=session.account,
        partition=session.partition,
        resource=resource,
        partition_key_of=partition_key_of,
    )
    if not found:
        return
    role = session.current_role()
    identity, boundary = role_policies(session, role)
    context = session.context(region, role)
    session_policy = _parsed(session.session.policy)
    resource_document = _parsed(resource_policy)
    for check in found:
        merged = LowerCaseContext(context)
        for key, value in check.context.items():
            merged[key.lower()] = value
        request = Request(check.action, check.resource, session.principal, merged)
        decision = evaluate(
            request, identity=identity, resource=resource_document, boundary=boundary, session=session_policy
        )
        if not decision.allowed:
            raise Refusal("denied", denial_message(session.session.arn, request, decision))
