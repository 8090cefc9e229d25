"""What IAM checks for one AWS API call: the action, the resource ARN and the service's condition keys.

From the Service Authorization Reference ("Actions, resources, and condition keys for <service>"):

- An API operation is checked as the IAM action of the same name in the service's prefix
  (`dynamodb:PutItem`), except where the reference names another action: S3's HeadObject is
  `s3:GetObject`, ListObjectsV2 `s3:ListBucket`, ListBuckets `s3:ListAllMyBuckets`; Lambda's Invoke is
  `lambda:InvokeFunction`; DynamoDB's TransactWriteItems checks each item's own action (PutItem,
  UpdateItem, DeleteItem, ConditionCheckItem) on its table.
- The resource is the ARN of what the call names: a DynamoDB table (`table/<name>`, a Query or Scan of an
  index `table/<name>/index/<index>`), a log group (`log-group:<name>:*`) or log stream
  (`log-group:<group>:log-stream:<stream>`), a Lambda function (its qualifier appended, so
  `function:name` covers the unqualified function only, as on AWS), a user pool (`userpool/<id>`), an
  S3 bucket or object (moto names those itself). Calls that name nothing are checked against "*"
  (ListFunctions), DynamoDB's against every table of the region (`table/*`, as its refusals of ListTables
  say).
- Condition keys: `dynamodb:LeadingKeys` (the partition key values the call reads or writes),
  `dynamodb:Attributes` (the attribute names of a PutItem, the projected names of a read, the names an
  UpdateItem writes), `dynamodb:Select`, `dynamodb:ReturnValues`; `s3:prefix`, `s3:delimiter`,
  `s3:max-keys` of a listing. The global keys (aws:RequestedRegion, aws:PrincipalArn, ...) are the
  caller's, added by `global_context`.
- Calls IAM does not authorize at all return no checks: sts:GetCallerIdentity ("No permissions are
  required"), and Cognito's token- or client-authorized user pool operations (SignUp, InitiateAuth,
  GetUser with an access token, ...), which "do not use IAM".

Pure: `checks()` takes the call's parameters as a dict (the JSON body, or the values of a REST path and
query; parsed JSON, so objects are dicts) and returns the checks; the moto mend (backends/moto_iam.py)
evaluates them. It runs on every call a role session makes, so it tests `dict` rather than the slower
`Mapping` ABC.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from serverless_lab.dataplane.iam.request import ContextValue

# Operation names (botocore's) whose IAM action has another name; the rest keep their own.
ACTION_NAMES: Mapping[tuple[str, str], str] = {
    ("s3", "HeadObject"): "GetObject",
    ("s3", "HeadBucket"): "ListBucket",
    ("s3", "ListObjects"): "ListBucket",
    ("s3", "ListObjectsV2"): "ListBucket",
    ("s3", "ListBuckets"): "ListAllMyBuckets",
    ("s3", "ListObjectVersions"): "ListBucketVersions",
    ("s3", "ListMultipartUploads"): "ListBucketMultipartUploads",
    ("s3", "ListParts"): "ListMultipartUploadParts",
    ("s3", "CopyObject"): "PutObject",
    ("s3", "DeleteObjects"): "DeleteObject",
    ("s3", "CreateMultipartUpload"): "PutObject",
    ("s3", "UploadPart"): "PutObject",
    ("s3", "UploadPartCopy"): "PutObject",
    ("s3", "CompleteMultipartUpload"): "PutObject",
    ("s3", "GetBucketCors"): "GetBucketCORS",
    ("s3", "PutBucketCors"): "PutBucketCORS",
    ("s3", "DeleteBucketCors"): "PutBucketCORS",
    ("s3", "GetBucketEncryption"): "GetEncryptionConfiguration",
    ("s3", "PutBucketEncryption"): "PutEncryptionConfiguration",
    ("s3", "DeleteBucketEncryption"): "PutEncryptionConfiguration",
    ("s3", "GetBucketLifecycleConfiguration"): "GetLifecycleConfiguration",
    ("s3", "PutBucketLifecycleConfiguration"): "PutLifecycleConfiguration",
    ("s3", "DeleteBucketLifecycle"): "PutLifecycleConfiguration",
    ("s3", "GetBucketNotificationConfiguration"): "GetBucketNotification",
    ("s3", "PutBucketNotificationConfiguration"): "PutBucketNotification",
    ("s3", "GetPublicAccessBlock"): "GetBucketPublicAccessBlock",
    ("s3", "PutPublicAccessBlock"): "PutBucketPublicAccessBlock",
    ("s3", "DeletePublicAccessBlock"): "PutBucketPublicAccessBlock",
    ("s3", "DeleteBucketTagging"): "PutBucketTagging",
    ("s3", "DeleteBucketOwnershipControls"): "PutBucketOwnershipControls",
    ("lambda", "Invoke"): "InvokeFunction",
    ("lambda", "InvokeWithResponseStream"): "InvokeFunction",
}
# Credential scopes whose IAM prefix differs (the signing name is the prefix for the services the lab uses).
PREFIXES: Mapping[str, str] = {"monitoring": "cloudwatch", "email": "ses"}
# Cognito user pool operations authorized by a token or an app client, not by IAM (Cognito developer
# guide, "Understanding API, OIDC, and managed login pages authentication": unauthenticated and
# token-authorized operations).
COGNITO_WITHOUT_IAM = frozenset(
    {
        "SignUp",
        "ConfirmSignUp",
        "ResendConfirmationCode",
        "InitiateAuth",
        "RespondToAuthChallenge",
        "ForgotPassword",
        "ConfirmForgotPassword",
        "GetUser",
        "DeleteUser",
        "UpdateUserAttributes",
        "DeleteUserAttributes",
        "VerifyUserAttribute",
        "GetUserAttributeVerificationCode",
        "ChangePassword",
        "GlobalSignOut",
        "RevokeToken",
        "AssociateSoftwareToken",
        "VerifySoftwareToken",
        "SetUserMFAPreference",
        "SetUserSettings",
        "ConfirmDevice",
        "ForgetDevice",
        "GetDevice",
        "ListDevices",
        "UpdateDeviceStatus",
        "GetUserAuthFactors",
    }
)
_TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}
_TRANSACT_ACTIONS["ConditionCheck"] = "ConditionCheckItem"
_NAME = re.compile(r"#?[A-Za-z_][A-Za-z0-9_]*")
_EXPRESSION_WORDS = frozenset(
    {"set", "remove", "add", "delete", "and", "or", "not", "between", "in", "size", "if_not_exists"}
    | {"list_append", "attribute_exists", "attribute_not_exists", "attribute_type", "begins_with"}
    | {"contains"}
)

PartitionKeyOf = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class Check:
    """One (action, resource) IAM must allow for the call, with the service's condition keys."""

    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)


def iam_action(service: str, operation: str) -> str:
    """The IAM action an operation of a service (its credential scope name) is checked as."""
    prefix = PREFIXES.get(service, service)
    return f"{prefix}:{ACTION_NAMES.get((prefix, operation), operation)}"


def checks(
    service: str,
    operation: str,
    params: Mapping[str, Any],
    *,
    region: str,
    account: str,
    partition: str = "aws",
    resource: str = "*",
    partition_key_of: PartitionKeyOf | None = None,
) -> list[Check]:
    """What IAM must allow for this call; [] when IAM does not authorize the operation.

    `resource` is the ARN the caller worked out (moto does for S3 buckets and objects, IAM roles);
    `partition_key_of(table)` names a table's partition key, for dynamodb:LeadingKeys.
    """
    prefix = PREFIXES.get(service, service)
    if (prefix, operation) == ("sts", "GetCallerIdentity"):
        return []
    if prefix == "cognito-idp" and operation in COGNITO_WITHOUT_IAM:
        return []
    action = iam_action(service, operation)
    base = f"arn:{partition}:{prefix}:{region}:{account}"
    if prefix == "dynamodb":
        return _dynamodb(operation, action, params, base, partition_key_of)
    if prefix == "logs":
        return [Check(action, _log_resource(operation, params, base))]
    if prefix == "lambda":
        return [Check(action, _function_resource(params, base))]
    if prefix == "cognito-idp" and params.get("UserPoolId"):
        return [Check(action, f"{base}:userpool/{params['UserPoolId']}")]
    if prefix == "s3":
        return [Check(action, resource, _s3_context(operation, params))]
    return [Check(action, resource)]


# --- DynamoDB -----------------------------------------------------------------------------------------


def _table_arn(base: str, table: str, index: str | None = None) -> str:
    arn = table if table.startswith("arn:") else f"{base}:table/{table}"
    return f"{arn}/index/{index}" if index else arn


def _dynamodb(
    operation: str,
    action: str,
    params: Mapping[str, Any],
    base: str,
    partition_key_of: PartitionKeyOf | None,
) -> list[Check]:
    def leading(table: str, items: list[Mapping[str, Any]]) -> list[str]:
        key = partition_key_of(table) if partition_key_of else None
        if key is None:
            return []
        return [_scalar(item[key]) for item in items if isinstance(item, dict) and key in item]

    if operation in ("BatchGetItem", "BatchWriteItem"):
        found = []
        for table, requests in (params.get("RequestItems") or {}).items():
            if operation == "BatchGetItem":
                keys = list((requests or {}).get("Keys") or [])
                names = _projected(requests or {})
            else:
                keys = [
                    (r.get("PutRequest") or {}).get("Item") or (r.get("DeleteRequest") or {}).get("Key") or {}
                    for r in requests or []
                ]
                names = sorted({name for item in keys for name in item})
            context: dict[str, ContextValue] = {"dynamodb:LeadingKeys": leading(table, keys)}
            if names:
                context["dynamodb:Attributes"] = names
            found.append(Check(action, _table_arn(base, table), context))
        return found
    if operation in ("TransactGetItems", "TransactWriteItems"):
        found = []
        for entry in params.get("TransactItems") or []:
            for kind, item in (entry or {}).items():
                name = "GetItem" if kind == "Get" else _TRANSACT_ACTIONS.get(kind)
                if name is None or not isinstance(item, dict) or not item.get("TableName"):
                    continue
                table = item["TableName"]
                values = [item.get("Item") or item.get("Key") or {}]
                context = {"dynamodb:LeadingKeys": leading(table, values)}
                found.append(Check(f"dynamodb:{name}", _table_arn(base, table), context))
        return found
    table = params.get("TableName")
    if not isinstance(table, str) or not table:
        # ListTables, DescribeLimits ...: AWS's refusals name every table of the account and region.
        return [Check(action, f"{base}:table/*")]
    resource = _table_arn(base, table, params.get("IndexName"))
    context = _item_context(operation, params, table, partition_key_of)
    return [Check(action, resource, context)]


def _item_context(
    operation: str, params: Mapping[str, Any], table: str, partition_key_of: PartitionKeyOf | None
) -> dict[str, ContextValue]:
    context: dict[str, ContextValue] = {}
    key_name = partition_key_of(table) if partition_key_of else None
    item = params.get("Item") if operation == "PutItem" else params.get("Key")
    if isinstance(item, dict) and key_name and key_name in item:
        context["dynamodb:LeadingKeys"] = [_scalar(item[key_name])]
    elif operation == "Query" and key_name:
        value = _query_partition_value(params, key_name)
        if value is not None:
            context["dynamodb:LeadingKeys"] = [value]
    if operation == "PutItem" and isinstance(item, dict):
        context["dynamodb:Attributes"] = sorted(item)
    elif operation in ("GetItem", "Query", "Scan"):
        names = _projected(params)
        if names:
            context["dynamodb:Attributes"] = names
    elif operation == "UpdateItem":
        names = set(params.get("Key") or {}) | set(params.get("AttributeUpdates") or {})
        names |= _expression_names(params.get("UpdateExpression"), params.get("ExpressionAttributeNames"))
        context["dynamodb:Attributes"] = sorted(names)
    for member, key in (("Select", "dynamodb:Select"), ("ReturnValues", "dynamodb:ReturnValues")):
        if isinstance(params.get(member), str):
            context[key] = params[member]
    return context


def _scalar(value: Any) -> str:
    """A DynamoDB AttributeValue ({"S": "ada"}, {"N": "1"}) as the string IAM compares."""
    if isinstance(value, dict) and len(value) == 1:
        return str(next(iter(value.values())))
    return str(value)


def _query_partition_value(params: Mapping[str, Any], key_name: str) -> str | None:
    """The partition key value of a Query: `#k = :v` (either side) in KeyConditionExpression, or the EQ
    of the legacy KeyConditions."""
    legacy = (params.get("KeyConditions") or {}).get(key_name)
    if isinstance(legacy, Mapping) and legacy.get("AttributeValueList"):
        return _scalar(legacy["AttributeValueList"][0])
    expression = params.get("KeyConditionExpression")
    if not isinstance(expression, str):
        return None
    names = params.get("ExpressionAttributeNames") or {}
    values = params.get("ExpressionAttributeValues") or {}
    for left, right in re.findall(r"([#:]?[\w.]+)\s*=\s*([#:]?[\w.]+)", expression):
        for name, value in ((left, right), (right, left)):
            if names.get(name, name) == key_name and value.startswith(":") and value in values:
                return _scalar(values[value])
    return None


def _projected(params: Mapping[str, Any]) -> list[str]:
    """The attribute names a read returns when it says (AttributesToGet or ProjectionExpression)."""
    if params.get("AttributesToGet"):
        return sorted(params["AttributesToGet"])
    expression = params.get("ProjectionExpression")
    if not isinstance(expression, str):
        return []
    return sorted(_expression_names(expression, params.get("ExpressionAttributeNames")))


def _expression_names(expression: Any, aliases: Any) -> set[str]:
    """The top-level attribute names an expression names, #aliases resolved (functions and keywords left out)."""
    if not isinstance(expression, str):
        return set()
    aliases = aliases if isinstance(aliases, Mapping) else {}
    without_values = re.sub(r":\w+", " ", expression)
    names = set()
    for match in _NAME.finditer(without_values):
        token = match.group(0)
        before = without_values[match.start() - 1] if match.start() else " "
        if before in ".[" or token.lower() in _EXPRESSION_WORDS:
            continue  # a nested path element, or a keyword or function
        names.add(str(aliases.get(token, token)) if token.startswith("#") else token)
    return names


# --- CloudWatch Logs, Lambda, S3 --------------------------------------------------------------------------


def _log_resource(operation: str, params: Mapping[str, Any], base: str) -> str:
    group = params.get("logGroupName") or params.get("logGroupIdentifier")
    if isinstance(group, str) and group.startswith("arn:"):
        group = group.split(":log-group:", 1)[-1].removesuffix(":*")
    stream = params.get("logStreamName")
    if not group:
        # DescribeLogGroups and the other account-wide calls name an empty group, as AWS's refusals show.
        return f"{base}:log-group::log-stream:"
    if stream:
        return f"{base}:log-group:{group}:log-stream:{stream}"
    return f"{base}:log-group:{group}:*"


def _function_resource(params: Mapping[str, Any], base: str) -> str:
    name = params.get("FunctionName")
    if not isinstance(name, str) or not name:
        return "*"
    if name.startswith("arn:"):
        arn = name
    elif ":function:" in name:  # a partial ARN, 123456789012:function:name
        arn = f"{base.rsplit(':', 1)[0]}:{name}"
    else:
        arn = f"{base}:function:{name}"
    qualifier = params.get("Qualifier")
    if qualifier and arn.count(":") == 6:
        arn = f"{arn}:{qualifier}"
    return arn


def _s3_context(operation: str, params: Mapping[str, Any]) -> dict[str, ContextValue]:
    if operation not in ("ListObjects", "ListObjectsV2", "ListObjectVersions"):
        return {}
    context: dict[str, ContextValue] = {}
    for name in ("prefix", "delimiter", "max-keys"):
        if isinstance(params.get(name), str):
            context[f"s3:{name}"] = params[name]
    return context


# --- the caller's global keys --------------------------------------------------------------------------


def global_context(
    *,
    region: str,
    account: str,
    role_arn: str,
    role_id: str,
    session_name: str,
    source_ip: str = "127.0.0.1",
    tags: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> dict[str, ContextValue]:
    """The global condition keys of a request made with a role session ("AWS global condition context
    keys"): aws:PrincipalArn is the role's ARN, aws:userid "<role id>:<session name>"; the lab is reached
    over plain HTTP on loopback, so aws:SecureTransport is false and aws:SourceIp the loopback address."""
    now = now or datetime.now(UTC)
    context: dict[str, ContextValue] = {
        "aws:RequestedRegion": region,
        "aws:PrincipalArn": role_arn,
        "aws:PrincipalAccount": account,
        "aws:PrincipalType": "AssumedRole",
        "aws:userid": f"{role_id}:{session_name}",
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(now.timestamp())),
        "aws:SecureTransport": False,
        "aws:SourceIp": source_ip,
        "aws:ViaAWSService": False,
    }
    for key, value in (tags or {}).items():
        context[f"aws:PrincipalTag/{key}"] = value
    return context
