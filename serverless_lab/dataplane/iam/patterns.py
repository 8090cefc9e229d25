"""IAM's wildcards in policy Action and Resource values, as the policy reference defines them.

`*` matches any run of characters (slashes included), `?` any one character, nothing else is special
(fnmatch would also read [...] as a character class). "The prefix and the action name are case
insensitive" (Action element); resources are matched as written.
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=1024)
def _pattern(text: str, ignore_case: bool) -> re.Pattern[str]:
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(re.escape(text).replace(r"\*", ".*").replace(r"\?", "."), flags)


def action_matches(patterns: tuple[str, ...], action: str) -> bool:
    """Whether any Action pattern covers `action` (case-insensitively)."""
    return any(_pattern(pattern, True).fullmatch(action) for pattern in patterns)


def resource_matches(patterns: tuple[str, ...], resource: str) -> bool:
    """Whether any Resource pattern covers `resource` (case-sensitively)."""
    return any(_pattern(pattern, False).fullmatch(resource) for pattern in patterns)


def pattern_matches(pattern: str, text: str, *, ignore_case: bool) -> bool:
    """Whether one pattern with IAM's wildcards covers `text` (StringLike, ArnLike, a Principal's "*")."""
    return _pattern(pattern, ignore_case).fullmatch(text) is not None
