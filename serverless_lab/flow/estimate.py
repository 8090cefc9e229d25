"""What a month of the stack would cost before it is deployed: the flow's session, counted from the
project's own files, priced with data/prices.json (cost.py).

`apply` on the aws backend shows this beside the plan (preview.py). Nothing is measured yet, so the
workload of one session is derived from what the flow does (flow/user.py) and what the site holds:

- the site: index.html and every same-origin asset it references, one CloudFront request each, at their
  sizes on disk (uncompressed: an upper bound); every request assumed to miss the cache (pages are stored
  no-cache and revalidate), so one S3 GET each;
- the items API: five calls (create, list, get, update, delete), each one Lambda request of an assumed
  100 ms billed at the functions' memory, an assumed 1 KB answer, and DynamoDB request units as the
  handler spends them (PutItem, Query, GetItem: 1 write, 0.5 + 0.5 read; UpdateItem and DeleteItem with a
  read of the item first: 1 read, 2 writes);
- Cognito: one monthly active user per `sessions / sessions_per_user`.

Left out, and said so in the preview: the free tiers, S3 storage (kilobytes here), CloudWatch Logs
ingestion and storage, and data transfer of Cognito's answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .cost import PriceBook, Workload, cost_table, load_prices
from .http_client import page_assets

API_CALLS = 5  # create, list, get, update, delete (flow/user.py)
ASSUMED_BILLED_MS = 100
ASSUMED_API_ANSWER_BYTES = 1024
READ_UNITS_PER_SESSION = 2.0
WRITE_UNITS_PER_SESSION = 3.0
DEFAULT_SESSIONS = 1_000
DEFAULT_SESSIONS_PER_USER = 10.0
# Which step deploys the service each price line bills.
STEP_OF_PRICE = {
    "lambda": "functions",
    "apigateway": "api",
    "data_transfer": "api",
    "dynamodb": "table",
    "cloudfront": "cdn",
    "s3": "site",
    "cognito": "users",
}
NOT_INCLUDED = (
    "free tiers, S3 storage of the site (a few KB), CloudWatch Logs ingestion and storage (7 days kept), "
    "Cognito's data transfer"
)


def step_of_price(key: str) -> str | None:
    """The step whose service a price line of data/prices.json bills ("lambda_requests" -> "functions")."""
    return next((step for prefix, step in STEP_OF_PRICE.items() if key.startswith(prefix)), None)


def session_workload(root: Path, memory_mb: int = 256) -> Workload:
    """One flow session's usage, counted from data/site/ and the flow's five API calls (see above)."""
    site = root / "data" / "site"
    index = site / "index.html"
    files = [index]
    if index.exists():
        base = "https://site.example/"
        for url in page_assets(index.read_text(encoding="utf-8", errors="replace"), base):
            path = site / url[len(base) :].split("?")[0]
            files.append(path)
    edge_bytes = sum(path.stat().st_size for path in files if path.is_file())
    return Workload(
        sessions=1,
        lambda_requests=API_CALLS,
        lambda_gb_seconds=API_CALLS * ASSUMED_BILLED_MS / 1000 * memory_mb / 1024,
        api_requests=API_CALLS,
        api_bytes_out=API_CALLS * ASSUMED_API_ANSWER_BYTES,
        dynamodb_read_units=READ_UNITS_PER_SESSION,
        dynamodb_write_units=WRITE_UNITS_PER_SESSION,
        edge_requests=len(files),
        edge_bytes_out=edge_bytes,
        origin_requests=len(files),
    )


@dataclass(frozen=True)
class MonthlyEstimate:
    """USD for a month of `sessions` flow sessions, one row per price line of the steps named."""

    table: pd.DataFrame
    sessions: int
    sessions_per_user: float
    as_of: str

    @property
    def total_usd(self) -> float:
        return float(self.table["usd"].sum()) if not self.table.empty else 0.0

    def by_service(self) -> pd.Series:
        return self.table.groupby("service")["usd"].sum().sort_values(ascending=False)

    def __str__(self) -> str:
        users = self.sessions / self.sessions_per_user
        lines = [
            f"Estimated monthly cost for {self.sessions:,} user sessions by {users:,.0f} users "
            f"(list prices of {self.as_of}): ${self.total_usd:,.2f}"
        ]
        lines += [f"  {service:<22} ${usd:,.4f}" for service, usd in self.by_service().items()]
        lines.append("  Idle, the stack costs next to nothing: every service here is billed per use.")
        lines.append(f"  Not included: {NOT_INCLUDED}.")
        return "\n".join(lines)


def monthly_estimate(
    root: Path,
    steps: list[str],
    *,
    sessions: int = DEFAULT_SESSIONS,
    sessions_per_user: float = DEFAULT_SESSIONS_PER_USER,
    prices: PriceBook | None = None,
) -> MonthlyEstimate:
    """The estimate for the price lines of `steps` (a step that is not named adds nothing)."""
    prices = prices or load_prices()
    table = cost_table(session_workload(root), prices, sessions=sessions, sessions_per_user=sessions_per_user)
    table = table[table["service"] != "total"]
    wanted = table["price"].map(lambda key: step_of_price(str(key)) in steps)
    rows = table[wanted][["service", "price", "item", "quantity", "unit", "usd"]].reset_index(drop=True)
    return MonthlyEstimate(rows, sessions, sessions_per_user, prices.as_of)
