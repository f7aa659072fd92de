"""Click-to-call over AMI: a short manager session (login, Originate, logoff) per request, so any process
can originate whichever process holds the tenant's event connection. The session is an `AmiClient`
(panoramisk's Manager) logged in with `Events: off`; the call is accepted once Asterisk answers "Originate
successfully queued" (the OriginateResponse event comes only when the agent answers; the call's progress
reaches us through the supervised event connection)."""

from __future__ import annotations

from dataclasses import dataclass

from aquabill.channels.asterisk.client import AmiAuthError, AmiClient
from aquabill.channels.call_control import CallControlError, OriginateRequest

RING_TIMEOUT_MS = 30000


@dataclass(frozen=True, slots=True)
class AmiSettings:
    host: str
    port: int
    username: str
    secret: str
    technology: str = "PJSIP"  # the agent's phone is <technology>/<extension>
    context: str = "from-internal"  # where the number is dialled

    def __repr__(self) -> str:
        return f"AmiSettings({self.username}@{self.host}:{self.port})"


class AmiCallControl:
    def __init__(self, settings: AmiSettings, *, timeout: float = 10.0) -> None:
        self.settings = settings
        self.timeout = timeout

    def fields(self, request: OriginateRequest) -> dict[str, str]:
        s = self.settings
        return {
            "Channel": f"{s.technology}/{request.extension}",
            "Context": s.context,
            "Exten": request.number,
            "Priority": "1",
            "Timeout": str(RING_TIMEOUT_MS),
            "CallerID": request.caller_id or request.number,
            "ChannelId": request.call_ref,
            "Async": "true",
        }

    async def originate(self, request: OriginateRequest) -> None:
        s = self.settings
        client = AmiClient(s.host, s.port, s.username, s.secret, timeout=self.timeout, events="off")
        try:
            await client.connect()
            reply = await client.send("Originate", **self.fields(request))
        except AmiAuthError as exc:
            raise CallControlError(f"АТС отклонила вход: {exc}") from exc
        except (OSError, TimeoutError, ConnectionError) as exc:
            raise CallControlError(f"АТС недоступна ({s.host}:{s.port}): {exc or type(exc).__name__}") from exc
        finally:
            await client.close(logoff=True)
        if (reply.response or "").lower() != "success":
            raise CallControlError(f"АТС не приняла вызов: {reply.get('Message') or reply.response}")
