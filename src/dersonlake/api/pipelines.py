"""The project's pipelines (``infra/terraform/pipelines/<name>/states.json``) registered at start.

The files are Terraform templates; Terraform fills their placeholders with ``templatefile``. The
server fills the same placeholders with local values (the defaults Terraform's variables have:
function ``DMS-intake``, topic ``derson-lake-errors``) so ``list-state-machines`` shows derson-Main
at once and the seed's ``aws stepfunctions start-execution`` works without a create step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dersonlake.errors import BadInput
from dersonlake.states import Engine, StatesApiError, load_definition

_PLACEHOLDER = re.compile(r"(\$?)\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
ROLE_ARN = "arn:aws:iam::{account}:role/{prefix}derson-lake-states"
# The Lambda the pipelines call (``${intake_function_arn}``): the seed's DMS-intake, this package's code.
INTAKE_HANDLER = "dersonlake.intake.lambda_function:lambda_handler"
# The Lambda of DMS-Handler's Iceberg step (``${iceberg_function_arn}``): DMS-iceberg, this package's
# code too. Locally the engine has applied every commit already, so it finds nothing new, but it runs.
ICEBERG_HANDLER = "dersonlake.iceberg_step.lambda_function:lambda_handler"


@dataclass(frozen=True)
class PipelineValues:
    """What Terraform would pass to each pipeline's ``templatefile``."""

    region: str = "us-east-1"
    account_id: str = "000000000000"
    state_machine_prefix: str = ""
    lambda_function_name: str = "DMS-intake"
    iceberg_function_name: str = "DMS-iceberg"
    error_topic_name: str = "derson-lake-errors"

    def placeholders(self) -> dict[str, str]:
        return {
            "region": self.region,
            "account_id": self.account_id,
            "state_machine_prefix": self.state_machine_prefix,
            "intake_function_arn": (
                f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.lambda_function_name}"
            ),
            "iceberg_function_arn": (
                f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.iceberg_function_name}"
            ),
            "error_topic_arn": f"arn:aws:sns:{self.region}:{self.account_id}:{self.error_topic_name}",
        }


def render(text: str, values: dict[str, str], file: str) -> str:
    """``${name}`` → value, ``$${`` → a literal ``${``, as ``templatefile`` does; unknown names are errors."""

    def sub(m: re.Match[str]) -> str:
        if m.group(1):
            return "${" + m.group(2) + "}"
        name = m.group(2)
        if name not in values:
            raise BadInput("unknown placeholder in a pipeline", file=file, value=name, allowed=sorted(values))
        return values[name]

    return _PLACEHOLDER.sub(sub, text)


def find_pipelines(root: Path) -> list[Path]:
    """``<root>/<name>/states.json`` files, sorted by name."""
    return sorted(p for p in root.glob("*/states.json") if p.is_file())


def register_pipelines(engine: Engine, root: Path, values: PipelineValues) -> list[str]:
    """Create (or update to the current file) one state machine per pipeline; returns their ARNs.

    The functions they call (``values.lambda_function_name``, DMS-intake, and
    ``values.iceberg_function_name``, DMS-iceberg) are served by ``INTAKE_HANDLER`` and
    ``ICEBERG_HANDLER``, so the pipelines run as installed; a ``--lambda`` mapping registered after
    this call replaces it. Every file is rendered and validated before any is registered, so a
    broken file leaves the store as it was and the error names the file.
    """
    rendered: list[tuple[str, str]] = []
    for path in find_pipelines(root):
        text = render(path.read_text(), values.placeholders(), str(path))
        load_definition(text, file=str(path))
        rendered.append((values.state_machine_prefix + path.parent.name, text))
    engine.register_lambda(values.lambda_function_name, INTAKE_HANDLER)
    engine.register_lambda(values.iceberg_function_name, ICEBERG_HANDLER)
    role = ROLE_ARN.format(account=values.account_id, prefix=values.state_machine_prefix)
    arns = []
    for name, text in rendered:
        arn = engine.state_machine_arn(name)
        try:
            current = engine.describe_state_machine(arn)["definition"]
        except StatesApiError:
            engine.create_state_machine(name, text, role_arn=role)
        else:
            if current != text:
                engine.update_state_machine(arn, text, role_arn=role)
        arns.append(arn)
    return arns
