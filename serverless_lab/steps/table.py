"""The `table` step: the DynamoDB table behind the items API, and its sample items.

Key design: the partition key `owner` is the caller's Cognito `sub`, so every query of the API stays in
one user's partition and one user can never reach another's items; the sort key `itemId` starts with the
creation time, so a Query with ScanIndexForward=False lists a user's items newest first. On-demand
capacity (PAY_PER_REQUEST): a classroom pays nothing while idle.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from ..errors import StepError
from .base import Call, Check, Plan, Report, Step, is_error

KEY_SCHEMA = [
    {"AttributeName": "owner", "KeyType": "HASH"},
    {"AttributeName": "itemId", "KeyType": "RANGE"},
]
ATTRIBUTES = [
    {"AttributeName": "owner", "AttributeType": "S"},
    {"AttributeName": "itemId", "AttributeType": "S"},
]


class TableStep(Step):
    name = "table"
    title = "DynamoDB table"
    requires = ("users",)

    @property
    def table_name(self) -> str:
        return self.names("items")

    def describe(self) -> dict[str, Any] | None:
        try:
            return self.client("dynamodb").describe_table(TableName=self.table_name)["Table"]
        except ClientError as error:
            if is_error(error, "ResourceNotFoundException"):
                return None
            raise

    def sample_items(self) -> list[dict[str, Any]]:
        """data/items.json, with each owner username resolved to the sub the users step created."""
        path = self.context.data_dir / "items.json"
        if not path.exists():
            return []
        subs = self.context.outputs.get("users", {}).get("sample_subs", {})
        items = []
        for number, item in enumerate(json.loads(path.read_text()), start=1):
            owner = subs.get(item["owner"])
            if owner is None:
                continue
            # A fixed id keeps the sample idempotent; the zero time prefix sorts it after real items.
            entry = {
                "owner": {"S": owner},
                "itemId": {"S": f"0000000000000-sample-{number:02d}"},
                "title": {"S": item["title"]},
                "done": {"BOOL": bool(item.get("done", False))},
                "createdAt": {"S": "2026-01-01T00:00:00Z"},
                "updatedAt": {"S": "2026-01-01T00:00:00Z"},
                "version": {"N": "1"},
            }
            if item.get("notes"):
                entry["notes"] = {"S": item["notes"]}
            items.append(entry)
        return items

    def plan(self) -> Plan:
        plan = Plan(self.name)
        table = self.describe()
        if table is not None and table["KeySchema"] != KEY_SCHEMA:
            keys = [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]]
            raise StepError(
                f"Table {self.table_name} is keyed by {keys}, not owner (HASH) + itemId (RANGE), and a table's "
                "key cannot change. Fix: delete it (dynamodb.delete_table(TableName=...)), then lab.apply('table')."
            )
        if table is None:
            plan.append(
                Call(
                    "dynamodb",
                    "create_table",
                    {
                        "TableName": self.table_name,
                        "KeySchema": KEY_SCHEMA,
                        "AttributeDefinitions": ATTRIBUTES,
                        "BillingMode": "PAY_PER_REQUEST",
                        "Tags": [{"Key": "serverless-lab:student", "Value": self.names.student}],
                    },
                    why="on-demand table keyed by owner (sub) and itemId",
                )
            )
            plan.append(
                Call("dynamodb", "wait:table_exists", {"TableName": self.table_name}, why="until ACTIVE")
            )
        for item in self.sample_items():
            if table is not None and self._has(item):
                continue
            plan.append(
                Call(
                    "dynamodb",
                    "put_item",
                    {"TableName": self.table_name, "Item": item},
                    why=f"sample item {item['title']['S']!r}",
                )
            )
        return plan

    def _has(self, item: dict[str, Any]) -> bool:
        key = {"owner": item["owner"], "itemId": item["itemId"]}
        found = self.client("dynamodb").get_item(
            TableName=self.table_name, Key=key, ProjectionExpression="itemId"
        )
        return "Item" in found

    def outputs(self) -> dict[str, Any]:
        table = self.describe()
        if table is None:
            return {}
        return {"table_name": table["TableName"], "table_arn": table["TableArn"]}

    def verify(self) -> Report:
        report = Report(self.name)
        table = self.describe()
        report.append(Check(f"table {self.table_name} exists", table is not None))
        if table is None:
            return report
        report.append(
            Check("table is ACTIVE", table.get("TableStatus") == "ACTIVE", str(table.get("TableStatus")))
        )
        report.append(
            Check(
                "key is owner (HASH) + itemId (RANGE)",
                table["KeySchema"] == KEY_SCHEMA,
                f"keyed by {[(k['AttributeName'], k['KeyType']) for k in table['KeySchema']]}: a table's key "
                "cannot change, so delete_table and create it again (or let lab.apply('table') create it)",
            )
        )
        mode = table.get("BillingModeSummary", {}).get("BillingMode")
        report.append(Check("billing is on-demand (PAY_PER_REQUEST)", mode == "PAY_PER_REQUEST", str(mode)))
        if table["KeySchema"] != KEY_SCHEMA:
            return report  # the sample items' keys do not fit this table: DynamoDB would refuse to read them
        samples = self.sample_items()
        present = sum(self._has(item) for item in samples)
        report.append(
            Check(
                f"{len(samples)} sample item(s) present",
                present == len(samples),
                f"{present} found: lab.apply('table') puts the others",
            )
        )
        return report

    def destroy(self) -> None:
        try:
            self.client("dynamodb").delete_table(TableName=self.table_name)
        except ClientError as error:
            if not is_error(error, "ResourceNotFoundException"):
                raise
