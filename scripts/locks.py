"""The hashed requirements files that pip installs, exported from uv.lock.

pyproject.toml declares one dependency group per thing that installs packages (the
Lambda layer, the invoice function, the virtualenvs); uv.lock pins all of them, with
the hashes of every wheel for every platform (the layer's arm64 and x86_64 wheels
included). The files below are exports of it, committed: `sam build` and `make install`
run `pip install --require-hashes -r <file>` and need no uv.

    python -m scripts.locks            check: uv.lock matches pyproject.toml, every export matches uv.lock
    python -m scripts.locks --write    re-export the files from uv.lock (`make lock` runs `uv lock` first)

A contract test (tests/contract/test_locks.py) fails when the check does.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# dependency group of pyproject.toml -> the file exported from uv.lock for it
EXPORTS = {
    "layer": "lambda_build/requirements.txt",
    "invoice": "lambda_build/invoice-requirements.txt",
    "dev": "requirements/dev.txt",
    "sam": "requirements/sam.txt",
    "ministack": "requirements/ministack.txt",
    "load": "requirements/load.txt",
    "pip": "requirements/pip.txt",
}
HEADER = (
    "# Generated from uv.lock by `make lock` (dependency group {group!r} of pyproject.toml): do not edit.\n"
    "# Every package pinned with the hashes of all its files: `pip install --require-hashes -r` this file.\n"
)


def _uv(*args: str) -> subprocess.CompletedProcess[str]:
    from uv import find_uv_bin  # the uv pinned in the dev group

    return subprocess.run(  # noqa: S603 - fixed arguments, the project's own uv
        [find_uv_bin(), *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def exported(group: str) -> str:
    """What `uv export` makes of uv.lock for one group (--frozen: from the lock as it is)."""
    result = _uv("export", "--frozen", "--no-emit-project", "--no-header", "--only-group", group)
    if result.returncode != 0:
        raise RuntimeError(f"uv export --only-group {group} failed:\n{result.stderr}")
    return HEADER.format(group=group) + result.stdout


def lock_problem() -> str | None:
    """Why uv.lock does not match pyproject.toml's groups (None when it does)."""
    result = _uv("lock", "--check", "--offline", "--quiet")
    if result.returncode == 0:
        return None
    # Offline, a changed group often reads as "the network was disabled": uv would have to resolve.
    return "does not match pyproject.toml's dependency groups\n" + result.stderr.strip()


def _committed(path: str) -> str:
    return (ROOT / path).read_text() if (ROOT / path).exists() else ""


def stale_exports() -> list[str]:
    return [path for group, path in EXPORTS.items() if _committed(path) != exported(group)]


def main(argv: list[str]) -> int:
    if "--write" in argv:
        for group, path in EXPORTS.items():
            text = exported(group)
            if _committed(path) != text:
                (ROOT / path).write_text(text)
                print(f"wrote {path}")
        return 0
    problems = [f"uv.lock: {p} (run `make lock`)" for p in [lock_problem()] if p]
    problems += [f"{path} differs from uv.lock (run `make lock`)" for path in stale_exports()]
    print("\n".join(problems) or "uv.lock and its exports are up to date")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
