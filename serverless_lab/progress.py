"""Progress for the lab's waits: what it waits for, how long AWS typically takes, and the time so far.

tqdm draws it (`tqdm.auto`: a widget in a notebook, a line on a terminal), only once a wait has lasted
`delay_s`, so the instant waits of the offline backends print nothing. The clock shown is the wait's own
(AWS's seconds), also when a stand-in of AWS runs its clock faster.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tqdm.auto import tqdm

DELAY_S = 1.0


@dataclass
class Waiting:
    """One wait being shown: `tick(status)` after every poll."""

    bar: Any
    started: float
    scale: float = 1.0

    def tick(self, status: str = "") -> None:
        # The bar counts AWS's seconds: a stand-in that runs AWS's clock 50 times faster shows the same.
        if status:
            self.bar.set_postfix_str(status, refresh=False)
        # update() draws only once the wait has lasted the bar's delay (refresh() would draw at once).
        self.bar.update(round((time.monotonic() - self.started) / self.scale) - self.bar.n)


@contextmanager
def waiting(
    what: str, typical: str = "", *, scale: float = 1.0, delay_s: float = DELAY_S
) -> Iterator[Waiting]:
    """Shows `what` ("CloudFront distribution E123 deploying") with AWS's `typical` duration while it lasts."""
    description = f"{what} (AWS: typically {typical})" if typical else what
    bar = tqdm(
        total=None,
        desc=description,
        unit="s",
        delay=delay_s * scale,
        leave=True,
        bar_format="{desc}: {n} s {postfix}",
        dynamic_ncols=True,
        mininterval=0,
        miniters=0,
    )
    try:
        yield Waiting(bar, time.monotonic(), scale if scale > 0 else 1.0)
    finally:
        bar.close()


def pause(
    seconds: float, what: str, *, scale: float = 1.0, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Sleeps `seconds` of AWS's clock (`seconds * scale` real ones), showing why when it is long enough."""
    with waiting(what, scale=scale) as shown:
        remaining = seconds * scale
        while remaining > 0:
            step = min(remaining, 1.0 * scale if scale < 1 else 1.0)
            sleep(step)
            remaining -= step
            shown.tick()
