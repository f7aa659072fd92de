"""The agent's configuration file: a small TOML file read with `tomllib`, written by `aquabill-edge enroll`.

Where it is: `--config PATH`, else the environment variable `AQUABILL_EDGE_CONFIG`, else
`/etc/aquabill-edge/agent.toml`. It holds the device key, so it is written with mode 0600 (and, when
enrolment runs as root and the service user `aquabill-edge` exists, handed to that user).

    [server]
    url = "https://aquabill.example.ru"     # the base URL of the server (enrolment, the WebSocket)
    ws_url = "/edge/ws"                      # a path on `url`, or an absolute ws:// / wss:// URL
    tenant = "demo"
    agent_id = 7
    key = "ek1.demo.7.…"                     # the device key: Authorization: Bearer <key>

    [register]                               # the Shtrih-M fiscal register on a serial port
    port = "/dev/ttyS0"                      # "" = no register
    baudrate = 115200
    admin_password = 30
    operator_password = 1

    [terminal]                               # the POS card terminal (see terminal.py)
    kind = "none"                            # "none" | "tcp" (the JSON-lines protocol of terminal.py)
    host = "127.0.0.1"
    port = 7800
    timeout = 120.0                          # seconds: a cardholder may take a while at the PIN pad

    [agent]
    data_dir = "/var/lib/aquabill-edge"      # the journal lives here (journal.sqlite3)
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEFAULT_PATH = Path("/etc/aquabill-edge/agent.toml")
ENV_VAR = "AQUABILL_EDGE_CONFIG"
SERVICE_USER = "aquabill-edge"


class ConfigError(Exception):
    """The config file is missing or wrong; the message is in Russian, for the person at the console."""


@dataclass(frozen=True)
class ServerConfig:
    url: str = ""
    ws_url: str = "/edge/ws"
    tenant: str = ""
    agent_id: int = 0
    key: str = ""


@dataclass(frozen=True)
class RegisterConfig:
    port: str = "/dev/ttyS0"
    baudrate: int = 115200
    admin_password: int = 30
    operator_password: int = 1


@dataclass(frozen=True)
class TerminalConfig:
    kind: str = "none"
    host: str = "127.0.0.1"
    port: int = 7800
    timeout: float = 120.0


@dataclass(frozen=True)
class AgentSection:
    data_dir: str = "/var/lib/aquabill-edge"


@dataclass(frozen=True)
class AgentConfig:
    server: ServerConfig = field(default_factory=ServerConfig)
    register: RegisterConfig = field(default_factory=RegisterConfig)
    terminal: TerminalConfig = field(default_factory=TerminalConfig)
    agent: AgentSection = field(default_factory=AgentSection)

    @property
    def journal_path(self) -> Path:
        return Path(self.agent.data_dir) / "journal.sqlite3"

    @property
    def websocket_url(self) -> str:
        """The full ws:// or wss:// URL: `ws_url` as given when absolute, else joined to the server URL."""
        ws = self.server.ws_url or "/edge/ws"
        if ws.startswith(("ws://", "wss://")):
            return ws
        base = urlsplit(self.server.url)
        scheme = {"https": "wss", "http": "ws"}.get(base.scheme, base.scheme)
        path = base.path.rstrip("/") + "/" + ws.lstrip("/")
        return urlunsplit((scheme, base.netloc, path, "", ""))

    def with_server(self, **changes) -> AgentConfig:
        return replace(self, server=replace(self.server, **changes))


_SECTIONS = {"server": ServerConfig, "register": RegisterConfig, "terminal": TerminalConfig,
             "agent": AgentSection}


def resolve_path(given: str | os.PathLike | None = None) -> Path:
    """`--config` first, then AQUABILL_EDGE_CONFIG, then the default path."""
    if given:
        return Path(given)
    env = os.environ.get(ENV_VAR, "").strip()
    return Path(env) if env else DEFAULT_PATH


def _coerce(value, default, label: str):
    if isinstance(default, str):
        ok = isinstance(value, str)
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    else:  # int
        ok = isinstance(value, int) and not isinstance(value, bool)
    if not ok:
        raise ConfigError(f"Параметр {label}: ожидается {type(default).__name__}, получено {value!r}")
    return type(default)(value)


def _section(cls, data: dict, name: str):
    if not isinstance(data, dict):
        raise ConfigError(f"Раздел [{name}] конфигурации должен быть таблицей")
    defaults = cls()
    values = {f.name: _coerce(data[f.name], getattr(defaults, f.name), f"{name}.{f.name}")
              for f in fields(cls) if f.name in data}
    return cls(**values)


def parse(text: str) -> AgentConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"Файл конфигурации не разбирается как TOML: {e}") from e
    sections = {name: _section(cls, data.get(name, {}), name) for name, cls in _SECTIONS.items()}
    return AgentConfig(**sections)


def load(path: str | os.PathLike | None = None) -> AgentConfig:
    p = resolve_path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise ConfigError(f"Нет файла конфигурации {p}: выполните «aquabill-edge enroll»") from e
    except OSError as e:
        raise ConfigError(f"Файл конфигурации {p} не читается: {e.strerror or e}") from e
    return parse(text)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def dumps(config: AgentConfig) -> str:
    lines = ["# aquabill-edge: the on-site agent's configuration (written by `aquabill-edge enroll`).", ""]
    for name in _SECTIONS:
        lines.append(f"[{name}]")
        section = getattr(config, name)
        for f in fields(section):
            lines.append(f"{f.name} = {_toml_value(getattr(section, f.name))}")
        lines.append("")
    return "\n".join(lines)


def _service_owner() -> tuple[int, int] | None:
    """(uid, gid) of the service user when we run as root and the user exists, else None."""
    if os.name != "posix" or os.geteuid() != 0:
        return None
    try:
        import pwd

        entry = pwd.getpwnam(SERVICE_USER)
    except (ImportError, KeyError):
        return None
    return entry.pw_uid, entry.pw_gid


def save(config: AgentConfig, path: str | os.PathLike | None = None) -> Path:
    """Write atomically with mode 0600 (the key is inside); create the data dir too."""
    p = resolve_path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    owner = _service_owner()
    tmp = p.with_name(p.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(dumps(config))
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if owner:
        os.chown(tmp, *owner)
    os.replace(tmp, p)
    data_dir = Path(config.agent.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o750)
    if owner:
        os.chown(data_dir, *owner)
    return p
