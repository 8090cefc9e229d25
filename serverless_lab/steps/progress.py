"""The `progress` step of a class: the DynamoDB table, in the instructor's namespace, where every exercise
check of every student is recorded (classroom/progress_store.py writes and reads it).

Not one of a student's steps (it is not in ORDER): the instructor's lab applies it when a class starts, and
a check applies it too when it finds no table yet, so a class on laptops needs no set-up. It is a plain AWS
resource, so the instructor can also read it with boto3:

    boto3.client("dynamodb").query(TableName="sl-instructor-progress",
        KeyConditionExpression="student = :s", ExpressionAttributeValues={":s": {"S": "ada"}})

One item per attempt: `student` (partition key) and `attempt_id` (sort key: the time first, so a Query lists
a student's attempts in order), with notebook, exercise, passed, attempt, time and hint_stage. On-demand
capacity, as the items table: a class that is not working pays nothing.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .base import STUDENT_TAG, Call, Check, Plan, Report, Step, is_error

KEY_SCHEMA = [
    {"AttributeName": "student", "KeyType": "HASH"},
    {"AttributeName": "attempt_id", "KeyType": "RANGE"},
]
ATTRIBUTES = [
    {"AttributeName": "student", "AttributeType": "S"},
    {"AttributeName": "attempt_id", "AttributeType": "S"},
]
COMPONENT = "progress"


class ProgressStep(Step):
    name = "progress"
    title = "Class progress table"

    @property
    def table_name(self) -> str:
        return self.names(COMPONENT)

    def describe(self) -> dict[str, Any] | None:
        try:
            return self.client("dynamodb").describe_table(TableName=self.table_name)["Table"]
        except ClientError as error:
            if is_error(error, "ResourceNotFoundException"):
                return None
            raise

    def plan(self) -> Plan:
        plan = Plan(self.name)
        if self.describe() is not None:
            return plan
        plan.append(
            Call(
                "dynamodb",
                "create_table",
                {
                    "TableName": self.table_name,
                    "KeySchema": KEY_SCHEMA,
                    "AttributeDefinitions": ATTRIBUTES,
                    "BillingMode": "PAY_PER_REQUEST",
                    "Tags": [{"Key": STUDENT_TAG, "Value": self.names.student}],
                },
                why="one item per check attempt of every student, keyed by student and time",
            )
        )
        plan.append(Call("dynamodb", "wait:table_exists", {"TableName": self.table_name}, why="until ACTIVE"))
        return plan

    def apply(self) -> dict[str, Any]:
        try:
            return super().apply()
        except ClientError as error:
            # Two kernels that record their first result at once both plan the table; the second
            # create_table is refused with ResourceInUseException, and the table is there all the same.
            if not is_error(error, "ResourceInUseException"):
                raise
            self.client("dynamodb").get_waiter("table_exists").wait(
                TableName=self.table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
            )
            return self.outputs()

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
            Check(
                "key is student (HASH) + attempt_id (RANGE)",
                table["KeySchema"] == KEY_SCHEMA,
                str(table["KeySchema"]),
            )
        )
        return report

    def destroy(self) -> None:
        try:
            self.client("dynamodb").delete_table(TableName=self.table_name)
        except ClientError as error:
            if not is_error(error, "ResourceNotFoundException"):
                raise
