"""Every installed package is locked, with hashes: uv.lock matches pyproject.toml's
dependency groups, the requirements files pip installs are what uv.lock exports, and
the Lambda layer's wheels for both targets (arm64 and x86_64, python3.13) are among
the hashes, so `sam build` (pip --platform ... --only-binary=:all: --require-hashes)
finds and checks them. `make lock` fixes the first two."""

from __future__ import annotations

import re
import tomllib

import pytest
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import NormalizedName, canonicalize_name, parse_wheel_filename

from scripts import locks
from tests.contract.template import ROOT

LAYER_FILES = ("layer", "invoice")
# lambda_build/Makefile asks pip for manylinux2014 wheels (glibc 2.17), or older ones.
GLIBC_MINORS = range(17, 4, -1)
LEGACY = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}


def _platforms(arch: str) -> list[str]:
    names = [f"manylinux_2_{minor}_{arch}" for minor in GLIBC_MINORS]
    return names + [f"{LEGACY[minor]}_{arch}" for minor in GLIBC_MINORS if minor in LEGACY]


def _target_tags(arch: str, python: tuple[int, int]) -> set[Tag]:
    platforms = _platforms(arch)
    return set(cpython_tags(python, platforms=platforms)) | set(compatible_tags(python, platforms=platforms))


TARGETS = {
    "arm64 python3.13 (AWS)": _target_tags("aarch64", (3, 13)),
    "x86_64 python3.13": _target_tags("x86_64", (3, 13)),
    "x86_64 python3.11 (local deploy)": _target_tags("x86_64", (3, 11)),
}


def _pins(text: str) -> dict[NormalizedName, tuple[str, set[str]]]:
    """name -> (version, hashes) of a hashed requirements file."""
    pins: dict[NormalizedName, tuple[str, set[str]]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        if match := re.match(r"([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;\\]+)", block):
            pins[canonicalize_name(match[1])] = (match[2], set(re.findall(r"--hash=(sha256:[0-9a-f]{64})", block)))
    return pins


def test_uv_lock_matches_the_dependency_groups_of_pyproject() -> None:
    assert locks.lock_problem() is None, "run `make lock`"


def test_the_requirements_files_are_what_uv_lock_exports() -> None:
    assert locks.stale_exports() == [], "run `make lock` (the files are exported from uv.lock)"


@pytest.mark.parametrize("group", sorted(locks.EXPORTS))
def test_every_exported_package_is_pinned_with_hashes(group: str) -> None:
    text = (ROOT / locks.EXPORTS[group]).read_text()
    lines = [line for line in text.splitlines() if line and line[0].isalnum()]
    pins = _pins(text)
    assert lines and len(pins) == len({canonicalize_name(re.split(r"[=\[ ]", line)[0]) for line in lines})
    assert all(hashes for _, hashes in pins.values()), [name for name, (_, h) in pins.items() if not h]


@pytest.mark.parametrize("group", LAYER_FILES)
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_the_layer_has_a_hashed_wheel_for_each_target(group: str, target: str) -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    wheels = {
        (canonicalize_name(package["name"]), package["version"]): package.get("wheels", [])
        for package in lock["package"]
        if "version" in package
    }
    missing = []
    for name, (version, hashes) in _pins((ROOT / locks.EXPORTS[group]).read_text()).items():
        usable = [
            wheel
            for wheel in wheels[(name, version)]
            if wheel["hash"] in hashes and parse_wheel_filename(wheel["url"].rsplit("/", 1)[1])[3] & TARGETS[target]
        ]
        if not usable:
            missing.append(f"{name}=={version}")
    assert missing == [], f"no hashed wheel for {target}: pip --only-binary=:all: would fail"
