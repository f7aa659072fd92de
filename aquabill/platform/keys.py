"""Every Redis key and channel name, in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str = "aquabill"

    @property
    def queue(self) -> str:
        return f"{self.prefix}:arq:queue"

    def events_channel(self, tenant_id: int) -> str:
        return f"{self.prefix}:t{tenant_id}:events"

    def events_seq(self, tenant_id: int) -> str:
        return f"{self.prefix}:t{tenant_id}:seq"

    @property
    def hub_keepalive(self) -> str:
        return f"{self.prefix}:hub:keepalive"

    def import_file(self, tenant_id: int, job_id: str) -> str:
        """A CSV file waiting for its `import.csv` job (expires if the job never runs)."""
        return f"{self.prefix}:t{tenant_id}:import:{job_id}"
