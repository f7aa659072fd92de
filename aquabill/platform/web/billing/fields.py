"""What the billing API modules share: permission guards and bounded text types of request bodies."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import Parameter

from aquabill.platform.auth.permissions import requires

REF_VIEW, REF_EDIT = [requires("registry", "view")], [requires("registry", "edit")]
ACC_VIEW, ACC_EDIT = [requires("accounts", "view")], [requires("accounts", "edit")]

Text = Annotated[str, msgspec.Meta(max_length=300)]
Code = Annotated[str, msgspec.Meta(max_length=32)]
Short = Annotated[str, msgspec.Meta(max_length=64)]
# the act that set a tariff, norm or coefficient: the domain refuses over 500 characters (422, field "basis");
# the body's bound only keeps a request small
Basis = Annotated[str, msgspec.Meta(max_length=2000)]
Status = Annotated[str | None, Parameter(max_length=16, description="accepted | flagged | rejected")]
