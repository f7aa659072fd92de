"""The dev server's cash-desk hardware (#15): a Shtrih-M register simulator on a pseudo-terminal, a card
terminal simulator, and the demo cash point's edge agent in its own process — as on a cash desk's computer —
enrolled with a one-time code the first time (as an admin would from /cash/points) and kept in `var/edge`:
`agent.toml` (the key), `data/` (its journal), `register.json` and `terminal.json` (the devices' state),
`agent.log` (its log). Killing the agent's process (its pid is printed) and starting it again with the
printed command is the way to try a crash in the middle of a receipt."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from aquabill.cash import agents
from aquabill.edge_agent import config as agent_config
from aquabill.edge_agent.shtrih.simulator import Simulator
from aquabill.edge_agent.terminal import TerminalSimulator
from aquabill.tenants.context import Tenant, tenant_transaction

POINT_NAME = "Касса № 1"
PRINT_DELAY = 0.3  # s a document takes to print on the simulated register


class DevCashDesk:
    def __init__(self, var_dir: Path, server_url: str) -> None:
        self.folder = (var_dir / "edge").resolve()
        self.server_url = server_url
        self.register: Simulator | None = None
        self.terminal: TerminalSimulator | None = None
        self.proc: subprocess.Popen | None = None
        self.lines: list[str] = []

    @property
    def config_path(self) -> Path:
        return self.folder / "agent.toml"

    async def start(self, core, tenant: Tenant) -> list[str]:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.register = Simulator(self.folder / "register.json", link=self.folder / "ttyFR",
                                  print_delay=PRINT_DELAY).start()
        self.terminal = TerminalSimulator(self.folder / "terminal.json").start()
        agent_id = await self._ensure_enrolled(core, tenant)
        if agent_id is None:
            return [f"  Касса: в демо-организации нет «{POINT_NAME}» — агент не запущен"]
        self.proc = self.start_agent()
        host, port = self.terminal.address
        return [f"  Касса: симулятор ККТ «Штрих-М» на {self.register.link_path}, терминал {host}:{port}; "
                f"агент кассы № {agent_id} (pid {self.proc.pid}, журнал {self.folder / 'agent.log'})",
                f"         перезапуск агента: {sys.executable} -m aquabill.edge_agent.cli run --config "
                f"{self.config_path}"]

    def start_agent(self) -> subprocess.Popen:
        log = open(self.folder / "agent.log", "ab")  # noqa: SIM115 - the child keeps it
        return subprocess.Popen([sys.executable, "-m", "aquabill.edge_agent.cli", "run", "--config",
                                 str(self.config_path)], stdout=log, stderr=log)

    async def _ensure_enrolled(self, core, tenant: Tenant) -> int | None:
        """The point's agent with a key this database accepts: the saved one, else a new enrollment (the
        journal of an earlier key is dropped: its command ids belong to another database)."""
        assert self.register is not None and self.terminal is not None
        saved = None
        with contextlib.suppress(Exception):
            saved = agent_config.load(self.config_path)
        async with tenant_transaction(core.engines, tenant) as conn:
            if saved is not None and saved.server.tenant == tenant.slug:
                found = await agents.authenticate(conn, saved.server.key)
                if found is not None:
                    self._save(saved.server.agent_id, saved.server.key)
                    return saved.server.agent_id
            row = (await conn.execute(text(
                "SELECT a.id FROM edge_agents a JOIN cash_points p ON p.id = a.cash_point_id "
                "WHERE p.name = :n AND a.status <> 'revoked' ORDER BY a.id LIMIT 1"), {"n": POINT_NAME})).first()
            if row is None:
                return None
            if (await agents.get_agent(conn, row.id))["status"] == "active":  # a key we no longer have
                await agents.revoke(conn, row.id, user_id=None)
                point = (await conn.execute(text("SELECT cash_point_id FROM edge_agents WHERE id = :a"),
                                            {"a": row.id})).scalar_one()
                agent_id = (await agents.create_agent(conn, point, "Компьютер кассы № 1", user_id=None))["id"]
            else:
                agent_id = row.id
            code = (await agents.issue_code(conn, agent_id, user_id=None))["code"]
            enrolled = await agents.enroll(conn, code, "dev-cash-desk", "dev", slug=tenant.slug)
        shutil.rmtree(self.folder / "data", ignore_errors=True)
        self._save(enrolled["agent_id"], enrolled["key"])
        return enrolled["agent_id"]

    def _save(self, agent_id: int, key: str) -> None:
        assert self.register is not None and self.terminal is not None
        host, port = self.terminal.address
        config = agent_config.AgentConfig(
            server=agent_config.ServerConfig(url=self.server_url, tenant=self._tenant_slug(key), agent_id=agent_id,
                                             key=key),
            register=agent_config.RegisterConfig(port=self.register.link_path, baudrate=self.register.baud),
            terminal=agent_config.TerminalConfig(kind="tcp", host=host, port=port),
            agent=agent_config.AgentSection(data_dir=str(self.folder / "data")))
        agent_config.save(config, self.config_path)

    @staticmethod
    def _tenant_slug(key: str) -> str:
        parsed = agents.parse_key(key)
        return parsed[0] if parsed else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        for device in (self.terminal, self.register):
            if device is not None:
                with contextlib.suppress(Exception):
                    device.stop()
