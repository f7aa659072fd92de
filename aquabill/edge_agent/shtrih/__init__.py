"""Shtrih-M fiscal register: serial protocol (frames, link), driver and a simulator on a pseudo-terminal.

Public names for the rest of the edge agent. The simulator is imported from its own module
(`from aquabill.edge_agent.shtrih.simulator import Simulator, bare_command_rate`) so that
`python -m aquabill.edge_agent.shtrih.simulator` runs without a double import.
"""

from aquabill.edge_agent.shtrih.driver import (
    DeviceInfo,
    FiscalDoc,
    FnStatus,
    FoundDocument,
    Item,
    ReceiptDone,
    ReceiptSpec,
    RegisterStatus,
    ShtrihRegister,
)
from aquabill.edge_agent.shtrih.errors import (
    DocumentNotFoundError,
    LinkError,
    PaperOutError,
    ProtocolError,
    ReceiptOpenError,
    RegisterError,
    ShiftClosedError,
    ShiftExpiredError,
    ShiftOpenError,
)

__all__ = [
    "DeviceInfo",
    "DocumentNotFoundError",
    "FiscalDoc",
    "FnStatus",
    "FoundDocument",
    "Item",
    "LinkError",
    "PaperOutError",
    "ProtocolError",
    "ReceiptDone",
    "ReceiptOpenError",
    "ReceiptSpec",
    "RegisterError",
    "RegisterStatus",
    "ShiftClosedError",
    "ShiftExpiredError",
    "ShiftOpenError",
    "ShtrihRegister",
]
