"""The agent installs alone (aquabill[edge]): importing its CLI pulls in nothing of the server side."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SERVER_SIDE = ("sqlalchemy", "litestar", "asyncpg", "redis", "arq", "httpx", "uvicorn", "aquabill.platform",
               "aquabill.base", "aquabill.tenants", "aquabill.channels", "aquabill.billing_core", "aquabill.cash",
               "aquabill.contact_center", "aquabill.subscribers", "aquabill.notifications", "aquabill.demo",
               "aquabill.devserver", "aquabill.cli")


def _modules_after(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
                         cwd=ROOT, capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def test_importing_the_cli_imports_no_server_module():
    modules = _modules_after("import aquabill.edge_agent.cli")
    leaked = [m for m in modules if any(m == s or m.startswith(s + ".") for s in SERVER_SIDE)]
    assert "aquabill.edge_agent.cli" in modules
    assert leaked == []


def test_the_running_agent_modules_import_no_server_module():
    modules = _modules_after("import aquabill.edge_agent.client, aquabill.edge_agent.executor, "
                             "aquabill.edge_agent.enroll, aquabill.edge_agent.shtrih.driver")
    leaked = [m for m in modules if any(m == s or m.startswith(s + ".") for s in SERVER_SIDE)]
    assert leaked == []
