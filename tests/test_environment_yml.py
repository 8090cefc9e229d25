"""environment.yml installs the same package and dependencies as pyproject.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_environment_yml_lists_the_same_dependencies_as_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = set(project["dependencies"]) | set(extras["test"]) | set(extras["classroom"])
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    listed = {entry for entry in pip_section if not entry.startswith("-e")}
    assert listed == wanted
    assert "-e ." in pip_section, "environment.yml must install the package itself"
    python = next(d for d in environment["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python.removeprefix("python") == project["requires-python"]


def test_the_installed_moto_is_in_the_declared_range() -> None:
    # CI runs the newest moto the range allows; `make test-moto-lowest` runs the lowest (its floor, read
    # from pyproject.toml by the Makefile). Below 5.2.5 moto cannot deploy the stack (README).
    from importlib.metadata import version

    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (moto,) = [Requirement(d) for d in project["dependencies"] if Requirement(d).name == "moto"]
    assert str(moto.specifier) in ("<6,>=5.2.5", ">=5.2.5,<6")
    assert moto.specifier.contains(version("moto")), version("moto")
    makefile = (ROOT / "Makefile").read_text()
    assert "moto[server]==$(MOTO_LOWEST)" in makefile and '"moto\\[server\\]>=' in makefile
