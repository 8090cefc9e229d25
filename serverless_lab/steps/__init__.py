"""The control plane: one step per component, in the order AWS requires them.

site (S3) -> cdn (CloudFront needs the bucket) -> users (Cognito) -> table (DynamoDB, sample items owned by
the sample users) -> functions (Lambda; the role's policy names the table) -> api (API Gateway needs the
pool for its authorizer and the functions for its integrations).
"""

from __future__ import annotations

from .api import ApiStep
from .base import Call, Check, Names, Plan, Ref, Report, Step, StepContext
from .cdn import CdnStep
from .functions import FunctionsStep
from .site import SiteStep
from .table import TableStep
from .users import UsersStep

STEPS: dict[str, type[Step]] = {
    step.name: step for step in (SiteStep, CdnStep, UsersStep, TableStep, FunctionsStep, ApiStep)
}
ORDER: tuple[str, ...] = tuple(STEPS)

__all__ = ["ORDER", "STEPS", "Call", "Check", "Names", "Plan", "Ref", "Report", "Step", "StepContext"]
