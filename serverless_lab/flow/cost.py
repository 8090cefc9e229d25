"""What the measured workload would cost on AWS, per million user sessions, from public list prices.

    workload = measure_workload(result.spans)      # counts per session, from the flow's own spans
    table = cost_table(workload)                   # one row per price line, USD per million sessions

The prices live in data/prices.json, each with the AWS pricing page it comes from and the date it was
recorded; free tiers are left out (the estimate is the marginal cost at scale). What is measured and what is
assumed:

- Lambda: one request per `lambda-handler` row; GB-seconds = Billed Duration (Init included, as Lambda
  bills it since August 2025 for on-demand ZIP functions) x configured memory / 1024.
- API Gateway: one REST API call per `gateway` row; the answers' bytes at the data-transfer-out rate.
- DynamoDB on demand: request units are counted per call. Assumed: items under 1 KB and reads eventually
  consistent (the handlers' default), so a GetItem or a Query reading under 4 KB costs 0.5 read request
  unit and a PutItem/UpdateItem/DeleteItem 1 write request unit ("Read/write request units", DynamoDB
  developer guide). A conditional write that fails still consumes its write unit.
- CloudFront: one request per `edge` row (HTTPS by default), bytes of the answers; S3 GETs on misses.
- Cognito: monthly active users; by default every session is a different user in the month (the worst
  case), `sessions_per_user` spreads sessions over fewer users.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import UsageError

PRICES_FILE = Path(__file__).resolve().parents[2] / "data" / "prices.json"
SESSIONS_PER_ESTIMATE = 1_000_000
GB = 1024**3

READ_OPERATIONS = {"GetItem": 0.5, "Query": 0.5, "Scan": 0.5, "BatchGetItem": 0.5}
WRITE_OPERATIONS = {"PutItem": 1.0, "UpdateItem": 1.0, "DeleteItem": 1.0, "BatchWriteItem": 1.0}


@dataclass(frozen=True)
class Price:
    """One public list price: `usd` for every `per` units."""

    key: str
    service: str
    description: str
    usd: float
    per: float
    unit: str
    source: str
    date: str

    def cost(self, quantity: float) -> float:
        return quantity / self.per * self.usd


@dataclass(frozen=True)
class PriceBook:
    region: str
    as_of: str
    note: str
    prices: dict[str, Price]

    def __getitem__(self, key: str) -> Price:
        return self.prices[key]


def load_prices(path: Path | str = PRICES_FILE) -> PriceBook:
    """The price book in data/prices.json (or another file of the same shape)."""
    document = json.loads(Path(path).read_text())
    prices = {key: Price(key=key, **entry) for key, entry in document["prices"].items()}
    return PriceBook(document["region"], document["as_of"], document.get("note", ""), prices)


@dataclass(frozen=True)
class Workload:
    """What one user session uses, on average over the measured sessions."""

    sessions: int
    lambda_requests: float
    lambda_gb_seconds: float
    api_requests: float
    api_bytes_out: float
    dynamodb_read_units: float
    dynamodb_write_units: float
    edge_requests: float
    edge_bytes_out: float
    origin_requests: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def measure_workload(spans: pd.DataFrame) -> Workload:
    """Per-session usage from a spans frame (see trace.py): counts, billed GB-seconds, request units, bytes."""
    if spans.empty:
        raise UsageError("No spans to measure: run the flow first (flow.run_flow or serverless-lab demo).")
    sessions = int(spans[["run", "session"]].drop_duplicates().shape[0])
    component = spans["component"].astype("string")
    handler = spans[component == "lambda-handler"]
    gb_seconds = (
        handler["billed_ms"].astype("float64").fillna(handler["duration_ms"]) / 1000
        * handler["memory_mb"].astype("float64").fillna(128) / 1024
    )  # fmt: skip
    dynamodb = spans[component == "dynamodb"]
    operations = dynamodb["operation"].astype("string")
    reads = float(operations.map(lambda name: READ_OPERATIONS.get(name, 0.0)).astype("float64").sum())
    writes = float(operations.map(lambda name: WRITE_OPERATIONS.get(name, 0.0)).astype("float64").sum())

    # Which requests went through which front door: the bytes a client received are billed there.
    keys = ["run", "session", "request"]
    doors = spans[component.isin(["edge", "gateway"])][[*keys, "component"]].astype({"component": "string"})
    clients = spans[component == "client"][[*keys, "bytes"]]
    joined = clients.merge(doors.drop_duplicates(keys), on=keys, how="inner")
    bytes_by_door = joined.groupby("component")["bytes"].sum()

    def per_session(value: float) -> float:
        return float(value) / sessions

    return Workload(
        sessions=sessions,
        lambda_requests=per_session(len(handler)),
        lambda_gb_seconds=per_session(gb_seconds.sum()),
        api_requests=per_session((component == "gateway").sum()),
        api_bytes_out=per_session(bytes_by_door.get("gateway", 0)),
        dynamodb_read_units=per_session(reads),
        dynamodb_write_units=per_session(writes),
        edge_requests=per_session((component == "edge").sum()),
        edge_bytes_out=per_session(bytes_by_door.get("edge", 0)),
        origin_requests=per_session((component == "s3-origin").sum()),
    )


def cost_table(
    workload: Workload,
    prices: PriceBook | None = None,
    *,
    sessions: int = SESSIONS_PER_ESTIMATE,
    cognito_plan: str = "essentials",
    architecture: str = "x86",
    https: bool = True,
    sessions_per_user: float = 1.0,
) -> pd.DataFrame:
    """USD for `sessions` user sessions, one row per price line plus a "total" row.

    Columns: service, price (its key in prices.json), item, quantity (for all the sessions), unit, usd_per_unit_block ("$0.20 per
    1,000,000 requests"), usd, share (of the total), source, price_date.
    """
    if cognito_plan not in ("essentials", "lite"):
        raise UsageError(f"Unknown Cognito feature plan {cognito_plan!r}. Fix: use 'essentials' or 'lite'.")
    if architecture not in ("x86", "arm"):
        raise UsageError(f"Unknown Lambda architecture {architecture!r}. Fix: use 'x86' or 'arm'.")
    if sessions_per_user <= 0:
        raise UsageError("sessions_per_user must be positive (sessions one user makes in a month).")
    prices = prices or load_prices()
    lines = [
        ("lambda_requests", workload.lambda_requests * sessions),
        (f"lambda_gb_seconds_{architecture}", workload.lambda_gb_seconds * sessions),
        ("apigateway_rest_requests", workload.api_requests * sessions),
        ("data_transfer_out_gb", workload.api_bytes_out * sessions / GB),
        ("dynamodb_read_request_units", workload.dynamodb_read_units * sessions),
        ("dynamodb_write_request_units", workload.dynamodb_write_units * sessions),
        (f"cloudfront_{'https' if https else 'http'}_requests", workload.edge_requests * sessions),
        ("cloudfront_transfer_out_gb", workload.edge_bytes_out * sessions / GB),
        ("s3_get_requests", workload.origin_requests * sessions),
        (f"cognito_mau_{cognito_plan}", sessions / sessions_per_user),
    ]
    rows = []
    for key, quantity in lines:
        price = prices[key]
        rows.append(
            {
                "service": price.service,
                "price": key,
                "item": price.description,
                "quantity": quantity,
                "unit": price.unit,
                "usd_per_unit_block": f"${price.usd:g} per {_count(price.per)} {price.unit}",
                "usd": price.cost(quantity),
                "source": price.source,
                "price_date": price.date,
            }
        )
    table = pd.DataFrame(rows)
    total = float(table["usd"].sum())
    table["share"] = table["usd"] / total if total else 0.0
    total_row = {"service": "total", "item": f"per {sessions:,} sessions", "usd": total, "share": 1.0}
    table = pd.concat([table, pd.DataFrame([total_row])], ignore_index=True)
    return table[
        [
            "service",
            "price",
            "item",
            "quantity",
            "unit",
            "usd_per_unit_block",
            "usd",
            "share",
            "source",
            "price_date",
        ]
    ]


def _count(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def cost_by_service(table: pd.DataFrame) -> pd.Series:
    """USD per service (the total row left out), largest first: what the cost chart draws."""
    lines = table[table["service"] != "total"]
    return lines.groupby("service")["usd"].sum().sort_values(ascending=False)
