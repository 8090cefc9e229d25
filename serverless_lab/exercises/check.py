"""The checks students run at the end of each notebook: `check.<exercise>(lab, ...)` → ✓ solved or ✗ a hint.

Each check grades what the student made (read from the backend, invoked, or called through the API) and
never raises for an unsolved exercise. Running it again shows the next hint; `hint=3` asks for the answer.

    00-overview      private_bucket_call
    01-static-site   site_has_page
    02-cdn           cdn_max_ttl_lowered
    03-users         user_can_sign_in
    04-table         table_has_index, titles_in_order
    05-functions     function_memory, stats_handler
    06-api           item_created, one_route_broken
    07-end-to-end    slowest_hop
    08-latency       throttled
    09-teardown      nothing_left
    10-instructor    student_reset
"""

from __future__ import annotations

from .data_checks import table_has_index, titles_in_order, user_can_sign_in
from .function_checks import function_memory, item_created, one_route_broken, stats_handler
from .operation_checks import nothing_left, slowest_hop, student_reset, throttled
from .site_checks import cdn_max_ttl_lowered, private_bucket_call, site_has_page

__all__ = [
    "cdn_max_ttl_lowered",
    "function_memory",
    "item_created",
    "nothing_left",
    "one_route_broken",
    "private_bucket_call",
    "site_has_page",
    "slowest_hop",
    "stats_handler",
    "student_reset",
    "table_has_index",
    "throttled",
    "titles_in_order",
    "user_can_sign_in",
]
