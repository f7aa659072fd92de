"""Enrolment: trade the one-time code from the admin page for a device key, and write the config.

`POST {server}/edge/enroll` with `{"tenant", "code", "name" (host name), "version"}` →
200 `{"agent_id", "tenant", "key", "ws_url"}`; a used/expired/unknown code → 403
`{"error": {"code": "forbidden", "message": "…"}}`. The key lands in the config file (mode 0600).
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

from aquabill.edge_agent import config as agent_config
from aquabill.edge_agent.client import VERSION
from aquabill.edge_agent.config import AgentConfig, ConfigError


class EnrollError(Exception):
    """Enrolment failed; the message is Russian, for the person at the console."""


def _server_message(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
        if isinstance(data.get("detail"), str):
            return data["detail"]
    return None


def request_key(server: str, tenant: str, code: str, *, name: str | None = None, timeout: float = 30.0) -> dict:
    url = server.rstrip("/") + "/edge/enroll"
    body = json.dumps({"tenant": tenant, "code": code.strip(), "name": name or socket.gethostname(),
                       "version": VERSION}).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 — the admin's URL
            raw = response.read()
    except urllib.error.HTTPError as e:
        message = _server_message(e.read()) or e.reason
        if e.code == 403:
            raise EnrollError(f"Код подключения не принят: {message}") from e
        raise EnrollError(f"Сервер ответил {e.code}: {message}") from e
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise EnrollError(f"Сервер {server} недоступен: {reason}") from e
    try:
        data = json.loads(raw)
        answer = {"agent_id": int(data["agent_id"]), "tenant": str(data["tenant"]), "key": str(data["key"]),
                  "ws_url": str(data.get("ws_url") or "/edge/ws")}
    except (ValueError, KeyError, TypeError) as e:
        raise EnrollError("Сервер прислал непонятный ответ на подключение") from e
    if not answer["key"]:
        raise EnrollError("Сервер не выдал ключ устройства")
    return answer


def enroll(server: str, tenant: str, code: str, *, config_path: str | Path | None = None,
           port: str | None = None, baudrate: int | None = None, data_dir: str | None = None,
           name: str | None = None) -> tuple[Path, AgentConfig]:
    """Enrol and write the config (keeping the other sections of an existing one). Returns (path, config)."""
    if not server.startswith(("http://", "https://")):
        raise EnrollError("Адрес сервера должен начинаться с https:// (или http:// для проверки)")
    if not tenant:
        raise EnrollError("Укажите организацию: --tenant")
    try:
        current = agent_config.load(config_path)
    except ConfigError:
        current = AgentConfig()
    answer = request_key(server, tenant, code, name=name)
    cfg = current.with_server(url=server.rstrip("/"), ws_url=answer["ws_url"], tenant=answer["tenant"],
                              agent_id=answer["agent_id"], key=answer["key"])
    if port is not None or baudrate is not None:
        cfg = replace(cfg, register=replace(cfg.register, **{k: v for k, v in
                                                             (("port", port), ("baudrate", baudrate))
                                                             if v is not None}))
    if data_dir is not None:
        cfg = replace(cfg, agent=replace(cfg.agent, data_dir=data_dir))
    path = agent_config.save(cfg, config_path)
    return path, cfg
