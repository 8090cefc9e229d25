"""Who the student is: the hub's user on a JupyterHub, else $SERVERLESS_LAB_STUDENT.

Every resource a student makes starts with `sl-<student>-`, so the student's name must be a valid prefix
(lab.STUDENT_PATTERN: 1 to 20 of a-z, 0-9 and '-', starting with a letter, not ending with '-'), and two
people must never get one name. On a hub the name comes from the hub's login ($JUPYTERHUB_USER, which the
hub sets in every single-user server and so in every kernel), turned into a valid name by one rule:

1. A hub user name that is already a valid student name and holds no '--' is the student's name as it is:
   `ada` is `ada`, `team-7` is `team-7`.
2. Any other name is made valid, then marked with where it came from: accents dropped (NFKD, ASCII only),
   lowercased, every run of other characters replaced by one '-', hyphens trimmed, a leading 'u' when it
   does not start with a letter, cut to 12 characters; then '--' and the first 6 hex digits of the
   SHA-256 of the hub name: `Grace.Hopper@navy.mil` is `grace-hopper--<6 hex>`.

A name from rule 1 never holds '--' and one from rule 2 always does, so they never meet; two names from
rule 2 are the same only when 24 bits of their hashes are (about 1 in 16.7 million for a pair), and
`check_unique` refuses a user list where that happens (the hub's configuration runs it). Two kernels of one
hub user get one name, so they share one namespace.

Off a hub, $SERVERLESS_LAB_STUDENT names the student, validated as it is (a typo is an error, not a new
student). On a hub that variable is ignored: the name comes from the login, not from what a kernel sets.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping

from ..errors import InvalidStudentError
from ..lab import STUDENT_PATTERN, validate_student

HUB_USER_VARIABLE = "JUPYTERHUB_USER"
STUDENT_VARIABLE = "SERVERLESS_LAB_STUDENT"
MAX_BASE = 12
HASH_DIGITS = 6
_OTHER = re.compile(r"[^a-z0-9]+")


def student_for_hub_user(hub_user: str) -> str:
    """The student name of a hub user name, by the rule in this module's docstring."""
    if not isinstance(hub_user, str) or not hub_user.strip():
        raise InvalidStudentError(f"A hub user name is a non-empty string, not {hub_user!r}.")
    if STUDENT_PATTERN.fullmatch(hub_user) and "--" not in hub_user:
        return hub_user
    ascii_name = unicodedata.normalize("NFKD", hub_user).encode("ascii", "ignore").decode("ascii")
    base = _OTHER.sub("-", ascii_name.lower()).strip("-")
    if not base[:1].isalpha():
        base = ("u-" + base) if base else "u"
    base = base[:MAX_BASE].rstrip("-")
    digest = hashlib.sha256(hub_user.encode("utf-8")).hexdigest()[:HASH_DIGITS]
    return validate_student(f"{base}--{digest}")


def check_unique(hub_users: Iterable[str]) -> dict[str, str]:
    """{hub user: student name} for a hub's users; InvalidStudentError if two would share a name."""
    names: dict[str, str] = {}
    owners: dict[str, str] = {}
    for hub_user in hub_users:
        name = student_for_hub_user(hub_user)
        other = owners.setdefault(name, hub_user)
        if other != hub_user:
            raise InvalidStudentError(
                f"The hub users {other!r} and {hub_user!r} would both be the student {name!r}. Fix: rename one "
                "of them on the hub."
            )
        names[hub_user] = name
    return names


def current_student(default: str, environ: Mapping[str, str] | None = None) -> str:
    """The student of this kernel: from $JUPYTERHUB_USER on a hub, else $SERVERLESS_LAB_STUDENT, else default."""
    environ = os.environ if environ is None else environ
    hub_user = environ.get(HUB_USER_VARIABLE)
    if hub_user:
        return student_for_hub_user(hub_user)
    return validate_student(environ.get(STUDENT_VARIABLE) or default)
