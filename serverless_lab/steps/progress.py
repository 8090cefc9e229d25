"""The `progress` step of a class: two DynamoDB tables, in the instructor's namespace, where every exercise
check of every student is recorded (classroom/progress_store.py writes and reads them).

Not one of a student's steps (it is not in ORDER): `serverless-lab class start` applies it, and a check
applies it too when it finds no table yet, so a class on laptops needs no set-up. Plain AWS resources, so
the instructor can also read them with boto3:

    sl-<instructor>-attempts   one item per attempt: `student` (partition key), `attempt_id` (sort key, the
                               time first: a Query lists a student's attempts in order), notebook, exercise,
                               passed, attempt, time, hint_stage
    sl-<instructor>-progress   one item per student and exercise, updated by each attempt (UpdateItem: ADD
                               attempts and passes, first and last time, the hint stages reached): what the
                               instructor's view reads, so one Scan reads one item per exercise a student
                               tried, however many attempts it took (DynamoDB's write-time aggregation)

    boto3.client("dynamodb").query(TableName="sl-instructor-attempts",
        KeyConditionExpression="student = :s", ExpressionAttributeValues={":s": {"S": "ada"}})

On-demand capacity, as the items table: a class that is not working pays nothing.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .base import STUDENT_TAG, Call, Check, Plan, Report, Step, is_error

TABLES = {
    # component: (sort key, why)
    "progress": ("exercise_key", "one item per student and exercise: attempts, passes, first and last time"),
    "attempts": ("attempt_id", "one item per check attempt of every student, keyed by student and time"),
}


def key_schema(sort_key: str) -> list[dict[str, str]]:
    return [{"AttributeName": "student", "KeyType": "HASH"}, {"AttributeName": sort_key, "KeyType": "RANGE"}]


def attributes(sort_key: str) -> list[dict[str, str]]:
    return [
        {"AttributeName": "student", "AttributeType": "S"},
        {"AttributeName": sort_key, "AttributeType": "S"},
    ]


class ProgressStep(Step):
    name = "progress"
    title = "Class progress table"

    @property
    def table_name(self) -> str:
        """The summary table, one item per student and exercise (what the instructor's view reads)."""
        return self.names("progress")

    @property
    def attempts_table(self) -> str:
        """The log, one item per attempt."""
        return self.names("attempts")

    def describe(self, component: str = "progress") -> dict[str, Any] | None:
        try:
            return self.client("dynamodb").describe_table(TableName=self.names(component))["Table"]
        except ClientError as error:
            if is_error(error, "ResourceNotFoundException"):
                return None
            raise

    def plan(self) -> Plan:
        plan = Plan(self.name)
        for component, (sort_key, why) in TABLES.items():
            if self.describe(component) is not None:
                continue
            name = self.names(component)
            plan.append(
                Call(
                    "dynamodb",
                    "create_table",
                    {
                        "TableName": name,
                        "KeySchema": key_schema(sort_key),
                        "AttributeDefinitions": attributes(sort_key),
                        "BillingMode": "PAY_PER_REQUEST",
                        "Tags": [{"Key": STUDENT_TAG, "Value": self.names.student}],
                    },
                    why=why,
                )
            )
            plan.append(Call("dynamodb", "wait:table_exists", {"TableName": name}, why="until ACTIVE"))
        return plan

    def apply(self) -> dict[str, Any]:
        try:
            return super().apply()
        except ClientError as error:
            # Two kernels that record their first result at once both plan the tables; the second
            # create_table is refused with ResourceInUseException, and the table is there all the same.
            if not is_error(error, "ResourceInUseException"):
                raise
            for component in TABLES:
                self.client("dynamodb").get_waiter("table_exists").wait(
                    TableName=self.names(component), WaiterConfig={"Delay": 1, "MaxAttempts": 60}
                )
            return self.apply()

    def outputs(self) -> dict[str, Any]:
        tables = {component: self.describe(component) for component in TABLES}
        if any(table is None for table in tables.values()):
            return {}
        return {
            "table_name": tables["progress"]["TableName"],  # type: ignore[index]
            "attempts_table": tables["attempts"]["TableName"],  # type: ignore[index]
        }

    def verify(self) -> Report:
        report = Report(self.name)
        for component, (sort_key, _why) in TABLES.items():
            table = self.describe(component)
            report.append(Check(f"table {self.names(component)} exists", table is not None))
            if table is not None:
                report.append(
                    Check(
                        f"its key is student (HASH) + {sort_key} (RANGE)",
                        table["KeySchema"] == key_schema(sort_key),
                        str(table["KeySchema"]),
                    )
                )
        return report

    def destroy(self) -> None:
        for component in TABLES:
            try:
                self.client("dynamodb").delete_table(TableName=self.names(component))
            except ClientError as error:
                if not is_error(error, "ResourceNotFoundException"):
                    raise
