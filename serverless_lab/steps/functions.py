"""The `functions` step: one Lambda function per file in handlers/, with a least-privilege role.

- Role `sl-<student>-lambda`: only Lambda may assume it (trust policy), and one customer-managed policy
  grants exactly what the handlers need: five item actions on the one table, and writing their own logs
  (the per-function log-group ARNs the Lambda console writes into a new role, not AWSLambdaBasicExecutionRole's
  "*"; a log-group wildcard like `sl-ada-*` would also match student `ada-2`'s functions).
- Each `handlers/<name>.py` (not starting with "_") becomes function `sl-<student>-<name>`, handler
  `<name>.handler`, zipped deterministically (packaging.py), so the code is uploaded again when, and only
  when, the zip's CodeSha256 differs from the one Lambda reports.
- Log groups `/aws/lambda/<function>` are created by the step with a 7-day retention (Lambda would create
  them on the first invocation, without retention), so destroy can remove them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from ..errors import MissingHandlersError, StepError
from .arns import partition
from .base import STUDENT_TAG, Call, Check, Plan, Report, Step, is_error
from .lambda_policies import (
    LAMBDA_TRUST_POLICY,
    lambda_policy,
    least_privilege_problems,
    log_group_name,
    missing_table_actions,
    normalize_policy,
)
from .packaging import build_zip, code_sha256
from .table import TableStep

RUNTIME = "python3.12"
MEMORY_MB = 256
TIMEOUT_SECONDS = 10
LOG_RETENTION_DAYS = 7
# A new IAM role takes about 10 s to reach Lambda everywhere; until then create_function fails with
# InvalidParameterValueException "The role defined for the function cannot be assumed by Lambda."
# (https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-deployment.html). moto never raises it,
# so offline the retry in execute() never waits.
ROLE_PROPAGATION_SECONDS = 60
ROLE_RETRY_DELAY_SECONDS = 2


def missing_step_error(step: Step, name: str, what: str, fix: str = "") -> StepError:
    """The error of an apply whose earlier step is not deployed, naming the fix."""
    fix = fix or f"run lab.require({step.name!r}), which applies the earlier steps first"
    return StepError(
        f"The {step.name} step needs {what} from the {name} step, which is not deployed for student "
        f"{step.names.student!r}. Fix: {fix}.",
        status=409,
    )


def ignore_missing(operation: Any, **params: Any) -> None:
    """Calls a delete operation; something already gone is what destroy wants."""
    try:
        operation(**params)
    except ClientError as error:
        if not is_error(error, "ResourceNotFoundException", "NoSuchEntity", "NotFoundException"):
            raise


class FunctionsStep(Step):
    name = "functions"
    title = "Lambda functions"
    requires = ("table",)

    # --- names ------------------------------------------------------------------------------------
    @property
    def role_name(self) -> str:
        return self.names("lambda")

    @property
    def policy_name(self) -> str:
        return self.names("lambda-policy")

    @property
    def arn_prefix(self) -> str:
        return f"arn:{partition(self.names.region)}"

    @property
    def policy_arn(self) -> str:
        return f"{self.arn_prefix}:iam::{self.names.account_id}:policy/{self.policy_name}"

    def function_name(self, handler: str) -> str:
        return self.names(handler)

    @staticmethod
    def log_group(function_name: str) -> str:
        return log_group_name(function_name)

    def handler_files(self) -> dict[str, Path]:
        """{name: file} of handlers/*.py; files starting with "_" are helpers, not functions."""
        folder = self.context.handlers_dir
        fix = "Fix: create it with one <name>.py per function, each defining handler(event, context)."
        if not folder.is_dir():
            raise MissingHandlersError(f"No handlers folder at {folder}. {fix}")
        files = {p.stem: p for p in sorted(folder.glob("*.py")) if not p.name.startswith("_")}
        if not files:
            raise MissingHandlersError(f"The handlers folder {folder} holds no handler (*.py) file. {fix}")
        return files

    # --- desired state ----------------------------------------------------------------------------
    def policy_document(self, table_arn: str, handlers: list[str]) -> dict[str, Any]:
        names = [self.function_name(h) for h in handlers]
        return lambda_policy(self.names.region, self.names.account_id, table_arn, names)

    def function_settings(self, handler: str, role_arn: str, table_name: str) -> dict[str, Any]:
        """What update_function_configuration sets (and create_function too)."""
        return {
            "Role": role_arn,
            "Runtime": RUNTIME,
            "Handler": f"{handler}.handler",
            "MemorySize": MEMORY_MB,
            "Timeout": TIMEOUT_SECONDS,
            "Environment": {"Variables": {"TABLE_NAME": table_name, "ALLOWED_ORIGIN": "*"}},
        }

    @staticmethod
    def settings_differ(deployed: dict[str, Any], wanted: dict[str, Any]) -> bool:
        for key, value in wanted.items():
            current = deployed.get(key)
            if key == "Environment":
                current = {"Variables": (current or {}).get("Variables", {})}
            if current != value:
                return True
        return False

    # --- reading the backend ----------------------------------------------------------------------
    def table(self) -> dict[str, Any]:
        """The table step's table_name and table_arn, as the backend holds them now ({} when absent)."""
        return TableStep(self.context).outputs()

    def get_role(self) -> dict[str, Any] | None:
        try:
            return self.client("iam").get_role(RoleName=self.role_name)["Role"]
        except ClientError as error:
            if is_error(error, "NoSuchEntity"):
                return None
            raise

    def get_policy_document(self) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """(the policy, its versions) or None; the default version's document is in the policy."""
        iam = self.client("iam")
        try:
            policy = iam.get_policy(PolicyArn=self.policy_arn)["Policy"]
        except ClientError as error:
            if is_error(error, "NoSuchEntity"):
                return None
            raise
        version = iam.get_policy_version(PolicyArn=self.policy_arn, VersionId=policy["DefaultVersionId"])
        policy["Document"] = version["PolicyVersion"]["Document"]
        versions = iam.list_policy_versions(PolicyArn=self.policy_arn)["Versions"]
        return policy, versions

    def attached_policies(self) -> list[str]:
        try:
            pages = (
                self.client("iam")
                .get_paginator("list_attached_role_policies")
                .paginate(RoleName=self.role_name)
            )
            return [p["PolicyArn"] for page in pages for p in page["AttachedPolicies"]]
        except ClientError as error:
            if is_error(error, "NoSuchEntity"):
                return []
            raise

    def get_function(self, function_name: str) -> dict[str, Any] | None:
        """get_function's answer (Configuration, Tags) or None."""
        try:
            return self.client("lambda").get_function(FunctionName=function_name)
        except ClientError as error:
            if is_error(error, "ResourceNotFoundException"):
                return None
            raise

    def owned_functions(self) -> dict[str, dict[str, Any]]:
        """{handler name: get_function answer} of the deployed functions tagged with this student."""
        prefix = self.names.prefix + "-"
        found = {}
        for page in self.client("lambda").get_paginator("list_functions").paginate():
            for function in page["Functions"]:
                name = function["FunctionName"]
                if not name.startswith(prefix):
                    continue
                # "sl-ada-" also prefixes student "ada-2"'s functions; the tag tells them apart.
                answer = self.get_function(name)
                if answer and answer.get("Tags", {}).get(STUDENT_TAG) == self.names.student:
                    found[name[len(prefix) :]] = answer
        return found

    def get_log_group(self, name: str) -> dict[str, Any] | None:
        pages = self.client("logs").get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name)
        return next((g for page in pages for g in page["logGroups"] if g["logGroupName"] == name), None)

    # --- plan -------------------------------------------------------------------------------------
    def plan(self) -> Plan:
        plan = Plan(self.name)
        handlers = self.handler_files()
        # Read from the backend, not from recorded outputs. Without the table (a plan shown before
        # lab.require), placeholders; apply() refuses to run then.
        table = self.table() or {"table_name": "<table_name>", "table_arn": "<table_arn>"}
        self.plan_role(plan, self.policy_document(table["table_arn"], list(handlers)))
        role = self.get_role()
        role_arn = (
            role["Arn"] if role else f"{self.arn_prefix}:iam::{self.names.account_id}:role/{self.role_name}"
        )
        for handler, path in handlers.items():
            self.plan_log_group(plan, self.function_name(handler))
            self.plan_function(
                plan, handler, path, self.function_settings(handler, role_arn, table["table_name"])
            )
        return plan

    def plan_role(self, plan: Plan, document: dict[str, Any]) -> None:
        role = self.get_role()
        trust = json.dumps(LAMBDA_TRUST_POLICY)
        if role is None:
            tags = [{"Key": STUDENT_TAG, "Value": self.names.student}]
            plan.append(
                Call(
                    "iam",
                    "create_role",
                    {
                        "RoleName": self.role_name,
                        "AssumeRolePolicyDocument": trust,
                        "Description": "Lambda functions of serverless-lab",
                        "Tags": tags,
                    },
                    why="only Lambda may assume it",
                )
            )
        elif normalize_policy(role["AssumeRolePolicyDocument"]) != normalize_policy(LAMBDA_TRUST_POLICY):
            plan.append(
                Call(
                    "iam",
                    "update_assume_role_policy",
                    {"RoleName": self.role_name, "PolicyDocument": trust},
                    why="restore the Lambda trust policy",
                )
            )
        found = self.get_policy_document()
        text = json.dumps(document)
        if found is None:
            tags = [{"Key": STUDENT_TAG, "Value": self.names.student}]
            plan.append(
                Call(
                    "iam",
                    "create_policy",
                    {
                        "PolicyName": self.policy_name,
                        "PolicyDocument": text,
                        "Description": "the items table and the functions' own logs",
                        "Tags": tags,
                    },
                    why="least privilege: one table, own log groups",
                )
            )
        elif normalize_policy(found[0]["Document"]) != normalize_policy(document):
            versions = found[1]
            if len(versions) >= 5:  # IAM keeps at most five versions of a managed policy
                oldest = min(
                    (v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"]
                )
                plan.append(
                    Call(
                        "iam",
                        "delete_policy_version",
                        {"PolicyArn": self.policy_arn, "VersionId": oldest["VersionId"]},
                        why="IAM keeps five versions at most",
                    )
                )
            plan.append(
                Call(
                    "iam",
                    "create_policy_version",
                    {"PolicyArn": self.policy_arn, "PolicyDocument": text, "SetAsDefault": True},
                    why="the table or the handlers changed",
                )
            )
        if role is None or self.policy_arn not in self.attached_policies():
            plan.append(
                Call("iam", "attach_role_policy", {"RoleName": self.role_name, "PolicyArn": self.policy_arn})
            )

    def plan_log_group(self, plan: Plan, function_name: str) -> None:
        name = self.log_group(function_name)
        group = self.get_log_group(name)
        if group is None:
            plan.append(
                Call(
                    "logs",
                    "create_log_group",
                    {"logGroupName": name, "tags": {STUDENT_TAG: self.names.student}},
                )
            )
        if group is None or group.get("retentionInDays") != LOG_RETENTION_DAYS:
            plan.append(
                Call(
                    "logs",
                    "put_retention_policy",
                    {"logGroupName": name, "retentionInDays": LOG_RETENTION_DAYS},
                    why="keep a week of logs",
                )
            )

    def plan_function(self, plan: Plan, handler: str, path: Path, settings: dict[str, Any]) -> None:
        function_name = self.function_name(handler)
        package = build_zip(path)
        deployed = self.get_function(function_name)
        if deployed is None:
            plan.append(
                Call(
                    "lambda",
                    "create_function",
                    {
                        "FunctionName": function_name,
                        **settings,
                        "Code": {"ZipFile": package},
                        "Tags": {STUDENT_TAG: self.names.student},
                    },
                    why=f"{path.name} -> {function_name}",
                )
            )
            plan.append(
                Call(
                    "lambda",
                    "wait:function_active_v2",
                    {"FunctionName": function_name},
                    why="until State is Active",
                )
            )
            return
        config = deployed["Configuration"]
        if deployed.get("Tags", {}).get(STUDENT_TAG) != self.names.student:
            # Made by hand under the student's name (05-functions): adopted, so outputs and destroy find it.
            plan.append(
                Call(
                    "lambda",
                    "tag_resource",
                    {"Resource": config["FunctionArn"], "Tags": {STUDENT_TAG: self.names.student}},
                    why="whose function this is",
                )
            )
        if config.get("State") == "Pending":
            plan.append(Call("lambda", "wait:function_active_v2", {"FunctionName": function_name}))
        elif config.get("LastUpdateStatus") == "InProgress":
            plan.append(Call("lambda", "wait:function_updated_v2", {"FunctionName": function_name}))
        reconfigure = self.settings_differ(config, settings)
        if reconfigure:
            plan.append(
                Call(
                    "lambda",
                    "update_function_configuration",
                    {"FunctionName": function_name, **settings},
                    why="runtime, handler, memory, timeout, role or environment changed",
                )
            )
        if config.get("CodeSha256") != code_sha256(package):
            if reconfigure:  # Lambda refuses a second update while the first is InProgress
                plan.append(Call("lambda", "wait:function_updated_v2", {"FunctionName": function_name}))
            plan.append(
                Call(
                    "lambda",
                    "update_function_code",
                    {"FunctionName": function_name, "ZipFile": package},
                    why=f"{path.name} changed",
                )
            )

    def apply(self) -> dict[str, Any]:
        if not self.table():
            raise missing_step_error(self, "table", "the DynamoDB table")
        return super().apply()

    def execute(self, call: Call) -> Any:
        """As Step.execute; create_function is retried while a new role has not reached Lambda yet."""
        deadline = time.monotonic() + ROLE_PROPAGATION_SECONDS
        while True:
            try:
                return super().execute(call)
            except ClientError as error:
                role_not_ready = is_error(
                    error, "InvalidParameterValueException"
                ) and "cannot be assumed" in str(error)
                if call.operation != "create_function" or not role_not_ready or time.monotonic() > deadline:
                    raise
                time.sleep(ROLE_RETRY_DELAY_SECONDS)

    # --- outputs ----------------------------------------------------------------------------------
    def outputs(self) -> dict[str, Any]:
        role = self.get_role()
        functions = self.owned_functions()
        if role is None and not functions:
            return {}
        policy = self.get_policy_document()
        return {
            "role_arn": role["Arn"] if role else "",
            "policy_arn": self.policy_arn if policy else "",
            "functions": {
                handler: {
                    "function_name": answer["Configuration"]["FunctionName"],
                    "arn": answer["Configuration"]["FunctionArn"],
                    "code_sha256": answer["Configuration"]["CodeSha256"],
                }
                for handler, answer in sorted(functions.items())
            },
        }

    # --- verify -----------------------------------------------------------------------------------
    def verify(self) -> Report:
        report = Report(self.name)
        role = self.get_role()
        report.append(Check(f"role {self.role_name} exists", role is not None))
        if role is None:
            return report
        trusted = normalize_policy(role["AssumeRolePolicyDocument"]) == normalize_policy(LAMBDA_TRUST_POLICY)
        report.append(
            Check(
                "only Lambda may assume the role (trust policy)",
                trusted,
                json.dumps(role["AssumeRolePolicyDocument"]),
            )
        )
        attached = self.attached_policies()
        report.append(
            Check(
                f"the role has exactly one policy, {self.policy_name}",
                attached == [self.policy_arn],
                ", ".join(attached) or "none attached",
            )
        )
        table = self.table()
        found = self.get_policy_document()
        report.append(
            self.check_least_privilege(found[0]["Document"] if found else None, table.get("table_arn"))
        )
        try:
            handlers = self.handler_files()
        except MissingHandlersError as error:
            report.append(Check("handlers/ holds the functions' code", False, error.message))
            return report
        for handler, path in handlers.items():
            report.extend(self.verify_function(handler, path, role["Arn"], table.get("table_name", "")))
        return report

    def check_least_privilege(self, document: Any, table_arn: str | None) -> Check:
        description = "the policy grants the five item actions on the table and writing logs, nothing else"
        if document is None:
            return Check(
                description,
                False,
                f"no policy {self.policy_name}: lab.apply('functions') creates and attaches it",
            )
        problems = least_privilege_problems(document, table_arn)
        missing = missing_table_actions(document, table_arn)
        if missing:
            problems.append(
                f"it does not allow {', '.join(missing)} on the table, which the items handler calls "
                "(its calls would be refused with AccessDeniedException): lab.apply('functions') adds them"
            )
        return Check(description, not problems, "; ".join(problems))

    def verify_function(self, handler: str, path: Path, role_arn: str, table_name: str) -> list[Check]:
        function_name = self.function_name(handler)
        answer = self.get_function(function_name)
        if answer is None:
            return [
                Check(
                    f"function {function_name} exists",
                    False,
                    f"missing: lab.apply('functions') creates it from handlers/{path.name}",
                )
            ]
        config = answer["Configuration"]
        wanted = self.function_settings(handler, role_arn, table_name)
        group = self.get_log_group(self.log_group(function_name))
        differences = [
            f"{key} {config.get(key)!r}, not {value!r}"
            for key, value in wanted.items()
            if key != "Environment" and config.get(key) != value
        ]
        if self.settings_differ(config, {"Environment": wanted["Environment"]}):
            differences.append(f"Environment {config.get('Environment', {}).get('Variables', {})}")
        if group is None:
            retention = "no log group: lab.apply('functions') creates it"
        else:
            kept = group.get("retentionInDays")
            retention = f"keeps {kept} days" if kept else "no retention: CloudWatch keeps the logs forever"
        return [
            Check(f"{function_name} is Active", config.get("State") == "Active", str(config.get("State"))),
            Check(
                f"{function_name} runs {RUNTIME} {handler}.handler with {MEMORY_MB} MB, {TIMEOUT_SECONDS} s, "
                "TABLE_NAME set",
                not self.settings_differ(config, wanted),
                "; ".join(differences),
            ),
            Check(
                f"{function_name} code is current ({path.name})",
                config.get("CodeSha256") == code_sha256(build_zip(path)),
                f"its CodeSha256 is not the one of the lab's deterministic zip of {path.name} (a zip made "
                "with the files' times hashes differently): lab.apply('functions') uploads that one",
            ),
            Check(
                f"log group {self.log_group(function_name)} keeps {LOG_RETENTION_DAYS} days",
                bool(group) and group.get("retentionInDays") == LOG_RETENTION_DAYS,
                retention,
            ),
        ]

    # --- destroy ----------------------------------------------------------------------------------
    def destroy(self) -> None:
        """Deletes the functions, their log groups, the policy (all versions) and the role; idempotent."""
        lambda_client, logs, iam = self.client("lambda"), self.client("logs"), self.client("iam")
        names = {self.function_name(h) for h in self.owned_functions()}
        if self.context.handlers_dir.is_dir():
            names |= {self.function_name(p.stem) for p in self.context.handlers_dir.glob("*.py")}
        for name in sorted(names):
            answer = self.get_function(name)
            if answer and answer.get("Tags", {}).get(STUDENT_TAG) == self.names.student:
                ignore_missing(lambda_client.delete_function, FunctionName=name)
        groups = {self.log_group(name) for name in names}
        pages = logs.get_paginator("describe_log_groups").paginate(
            logGroupNamePrefix=self.log_group(self.names.prefix + "-")
        )
        for group in (g["logGroupName"] for page in pages for g in page["logGroups"]):
            if (
                logs.list_tags_log_group(logGroupName=group).get("tags", {}).get(STUDENT_TAG)
                == self.names.student
            ):
                groups.add(group)
        for group in sorted(groups):
            ignore_missing(logs.delete_log_group, logGroupName=group)
        for arn in self.attached_policies():
            ignore_missing(iam.detach_role_policy, RoleName=self.role_name, PolicyArn=arn)
        found = self.get_policy_document()
        if found is not None:
            for version in found[1]:
                if not version["IsDefaultVersion"]:
                    ignore_missing(
                        iam.delete_policy_version, PolicyArn=self.policy_arn, VersionId=version["VersionId"]
                    )
            ignore_missing(iam.delete_policy, PolicyArn=self.policy_arn)
        if self.get_role() is not None:
            for policy_name in iam.list_role_policies(RoleName=self.role_name)["PolicyNames"]:
                ignore_missing(iam.delete_role_policy, RoleName=self.role_name, PolicyName=policy_name)
            ignore_missing(iam.delete_role, RoleName=self.role_name)
