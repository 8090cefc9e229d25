"""Who the student is: the hub's user made a valid name by one stated rule, else $SERVERLESS_LAB_STUDENT."""

from __future__ import annotations

import hashlib

import pytest

from serverless_lab.classroom.identity import check_unique, current_student, student_for_hub_user
from serverless_lab.errors import InvalidStudentError
from serverless_lab.lab import STUDENT_PATTERN


@pytest.mark.parametrize("name", ["ada", "team-7", "a", "x" * 20, "linus-t"])
def test_a_hub_user_that_is_already_a_valid_name_keeps_it(name: str) -> None:
    assert student_for_hub_user(name) == name


@pytest.mark.parametrize(
    ("hub_user", "base"),
    [
        ("grace.hopper", "grace-hopper"),
        ("Grace.Hopper@navy.mil", "grace-hopper"),  # cut to 12 characters
        ("Zoë", "zoe"),  # accents dropped
        ("7up", "u-7up"),  # a name starts with a letter
        ("ada-", "ada"),  # never ends with a hyphen
        ("a--b", "a-b"),  # '--' marks a changed name, so an unchanged one cannot hold it
        ("日本", "u"),  # nothing ASCII is left
        ("x" * 25, "x" * 12),
    ],
)
def test_any_other_hub_user_is_made_valid_and_marked_with_a_hash_of_the_hub_name(
    hub_user: str, base: str
) -> None:
    name = student_for_hub_user(hub_user)
    assert name == f"{base}--{hashlib.sha256(hub_user.encode()).hexdigest()[:6]}"
    assert STUDENT_PATTERN.fullmatch(name)


def test_hub_users_that_normalise_alike_still_get_different_names() -> None:
    users = ["Grace.Hopper", "grace.hopper", "grace-hopper", "grace_hopper", "GRACE HOPPER", "grace-hopper-"]
    names = check_unique(users)
    assert len(set(names.values())) == len(users)
    assert names["grace-hopper"] == "grace-hopper"  # valid as it is


def test_an_unchanged_name_never_equals_a_changed_one() -> None:
    # A valid name holding '--' is changed too, so the one output that looks like `<base>--<hash>` is a
    # changed name: someone who signs up as the changed name of another user gets a name of their own.
    other = student_for_hub_user("Ada")
    assert "--" in other and student_for_hub_user(other) != other


def test_check_unique_refuses_a_collision() -> None:
    # Two hub users whose names agree in their first 12 characters and in 24 bits of their hashes (found by
    # trying Student.0, Student.1, ... until two met: it takes about 156,000 names).
    pair = ["Student.15674", "Student.156764"]
    assert student_for_hub_user(pair[0]) == student_for_hub_user(pair[1]) == "student-1567--804d25"
    with pytest.raises(InvalidStudentError, match=r"'Student\.15674' and 'Student\.156764' would both be"):
        check_unique(pair)


def test_on_a_hub_the_hub_user_names_the_student_and_the_variable_is_ignored() -> None:
    environ = {"JUPYTERHUB_USER": "Grace.Hopper", "SERVERLESS_LAB_STUDENT": "ada"}
    assert current_student("student", environ) == student_for_hub_user("Grace.Hopper")


def test_off_a_hub_the_variable_names_the_student_or_the_default() -> None:
    assert current_student("student", {"SERVERLESS_LAB_STUDENT": "ada"}) == "ada"
    assert current_student("student", {}) == "student"
    with pytest.raises(InvalidStudentError, match="Invalid student name 'Ada'"):
        current_student("student", {"SERVERLESS_LAB_STUDENT": "Ada"})  # a typo is an error, not a new student


def test_an_empty_hub_user_is_refused() -> None:
    with pytest.raises(InvalidStudentError):
        student_for_hub_user(" ")
