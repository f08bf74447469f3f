"""template.yaml as the plain CloudFormation that `sam deploy` hands to CloudFormation.

The SAM translator (aws-sam-translator, the library SAM CLI and the CloudFormation
transform use) expands every AWS::Serverless::* resource into what is really deployed:
each function's IAM role with its inline policies (policy templates expanded) and the
managed policies SAM attaches for event sources, event source mappings, API stages.

aws-sam-translator pins pydantic~=2.13 while the functions pin pydantic 2.14, so it
cannot live in .venv: when it is not importable here, this module runs itself with the
SAM CLI's interpreter (.venv-sam, or SAM_PYTHON) and reads the translation as JSON.
This module imports only the standard library at the top for that reason.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


def translate(template_path: Path) -> dict[str, Any]:
    """Translate with aws-sam-translator in this interpreter."""
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    class NoManagedPolicyNames:
        """The translator asks IAM for managed-policy names only when a function lists
        one by name; this template names none, so no AWS call is ever made."""

        def load(self) -> dict[str, str]:
            return {}

    document = yaml_parse(template_path.read_text())
    # `sam build`/`sam package` turn local code paths into S3 locations before the
    # transform runs; the translator accepts nothing else.
    for name, resource in document["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://artifacts/{name}.zip"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            resource["Properties"]["ContentUri"] = f"s3://artifacts/{name}.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)  # the translator resolves AWS::Partition from it
    return transform(document, {}, NoManagedPolicyNames())


def _sam_python() -> str:
    return os.environ.get("SAM_PYTHON") or str(ROOT / ".venv-sam" / "bin" / "python")


@cache
def cloudformation() -> dict[str, Any]:
    """The translated template.yaml (cached for the session)."""
    return translated(ROOT / "template.yaml")


def translated(template_path: Path) -> dict[str, Any]:
    """Any template translated, here or with the SAM CLI's interpreter."""
    try:
        import samtranslator  # noqa: F401
    except ImportError:
        pass
    else:
        return translate(template_path)
    python = _sam_python()
    if not Path(python).exists():
        raise RuntimeError(f"{python} is missing: `make install` creates .venv-sam with aws-sam-translator")
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [python, __file__, str(template_path)],
        env={**os.environ, "AWS_DEFAULT_REGION": REGION},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"the SAM translator rejected {template_path.name}:\n{result.stderr[-4000:]}")
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def resources(kind: str | None = None) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in cloudformation()["Resources"].items() if kind is None or res["Type"] == kind}


if __name__ == "__main__":
    json.dump(translate(Path(sys.argv[1])), sys.stdout)
