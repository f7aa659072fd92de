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

    def events_replay(self, tenant_id: int) -> str:
        """The tenant's last events (sorted set scored by sequence number) for reconnecting clients."""
        return f"{self.prefix}:t{tenant_id}:replay"

    def presence(self, tenant_id: int) -> str:
        """Hash: user id → JSON {status, login, name, since, seen} of the tenant's staff."""
        return f"{self.prefix}:t{tenant_id}:presence"

    def presence_sockets(self, tenant_id: int) -> str:
        """Hash: user id → number of open console sockets (offline when it drops to zero)."""
        return f"{self.prefix}:t{tenant_id}:presence:sockets"

    @property
    def ami_tenants(self) -> str:
        """Set of tenant ids with an enabled AMI connection (what supervisors look for)."""
        return f"{self.prefix}:ami:tenants"

    def ami_lease(self, tenant_id: int) -> str:
        """Who runs the tenant's AMI connection: a supervisor's token, with an expiry renewed by it."""
        return f"{self.prefix}:t{tenant_id}:ami:lease"

    def ami_state(self, tenant_id: int) -> str:
        """Hash: state, error, since, holder … of the tenant's AMI connection (shown to admins)."""
        return f"{self.prefix}:t{tenant_id}:ami:state"

    def ami_version(self, tenant_id: int) -> str:
        """Counter bumped when the tenant's AMI settings change: the holder reconnects with the new ones."""
        return f"{self.prefix}:t{tenant_id}:ami:version"

    @property
    def hub_keepalive(self) -> str:
        return f"{self.prefix}:hub:keepalive"

    def portal_limit(self, tenant_id: int, action: str, who: str) -> str:
        """Counter of a portal action (registration, reset, code sending) by one address or IP in its window."""
        return f"{self.prefix}:t{tenant_id}:my:limit:{action}:{who}"

    def import_file(self, tenant_id: int, job_id: str) -> str:
        """A CSV file waiting for its `import.csv` job (expires if the job never runs)."""
        return f"{self.prefix}:t{tenant_id}:import:{job_id}"
