"""The `aquabill-edge` command: enroll | run | check | simulator (argparse; texts for people in Russian).

    aquabill-edge enroll --server https://… --tenant demo --code ABCDE-FGHJK [--port /dev/ttyS0]
    aquabill-edge run                      # the service (systemd: infra/systemd/aquabill-edge.service)
    aquabill-edge check                    # diagnostics, one line per check, exit code 0/1
    aquabill-edge simulator --dir ./sim    # the register and terminal simulators, for demos

Every command takes `--config PATH` (else AQUABILL_EDGE_CONFIG, else /etc/aquabill-edge/agent.toml).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from aquabill.edge_agent import config as agent_config
from aquabill.edge_agent.config import AgentConfig, ConfigError

log = logging.getLogger("aquabill.edge_agent")


def _setup_logging(verbose: bool = False) -> None:
    # Under systemd journald adds the time itself (JOURNAL_STREAM is set for services attached to it).
    fmt = "%(levelname)s %(name)s: %(message)s"
    if not os.environ.get("JOURNAL_STREAM"):
        fmt = "%(asctime)s " + fmt
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format=fmt, stream=sys.stderr)
    logging.getLogger("websockets").setLevel(logging.WARNING)


def build_register_factory(cfg: AgentConfig):
    if not cfg.register.port:
        return None

    def factory():
        from aquabill.edge_agent.shtrih.driver import ShtrihRegister

        return ShtrihRegister(cfg.register.port, cfg.register.baudrate,
                              admin_password=cfg.register.admin_password,
                              operator_password=cfg.register.operator_password)

    return factory


def build_terminal(cfg: AgentConfig):
    if cfg.terminal.kind == "none":
        return None
    if cfg.terminal.kind == "tcp":
        from aquabill.edge_agent.terminal import TcpTerminal

        return TcpTerminal(cfg.terminal.host, cfg.terminal.port, cfg.terminal.timeout)
    raise ConfigError(f"terminal.kind: неизвестный тип терминала {cfg.terminal.kind!r} (допустимы none, tcp)")


# --- enroll ---


def cmd_enroll(args) -> int:
    from aquabill.edge_agent.enroll import EnrollError, enroll

    try:
        path, cfg = enroll(args.server, args.tenant or "", args.code, config_path=args.config, port=args.port,
                           baudrate=args.baud, data_dir=args.data_dir, name=args.name)
    except (EnrollError, ConfigError, OSError) as e:
        print(f"ОШИБКА: {e}", file=sys.stderr)
        return 1
    print(f"Агент подключён: организация {cfg.server.tenant}, агент № {cfg.server.agent_id}.")
    print(f"Конфигурация записана в {path} (права 0600).")
    print("Запустите службу: systemctl enable --now aquabill-edge; проверка: aquabill-edge check")
    return 0


# --- run ---


def cmd_run(args) -> int:
    _setup_logging(args.verbose)
    try:
        cfg = agent_config.load(args.config)
        if not cfg.server.key or not cfg.server.url and "://" not in cfg.server.ws_url:
            raise ConfigError("В конфигурации нет сервера или ключа устройства: выполните «aquabill-edge enroll»")
        terminal = build_terminal(cfg)
    except ConfigError as e:
        log.error("%s", e)
        return 78
    from aquabill.edge_agent.client import Agent
    from aquabill.edge_agent.executor import Executor
    from aquabill.edge_agent.journal import Journal

    try:
        journal = Journal(cfg.journal_path)
    except (OSError, sqlite3.Error) as e:
        log.error("the journal %s cannot be opened: %s", cfg.journal_path, e)
        return 1
    executor = Executor(journal, build_register_factory(cfg), terminal)
    agent = Agent(cfg.websocket_url, cfg.server.key, journal, executor)

    async def main() -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, agent.stop)
        log.info("aquabill-edge starts: server %s, journal %s, register %s", cfg.websocket_url,
                 cfg.journal_path, cfg.register.port or "none")
        return await agent.run()

    try:
        return asyncio.run(main())
    finally:
        executor.close()
        journal.close()


# --- check ---


def _line(what: str, ok: bool, detail: str = "") -> bool:
    if ok:
        print(f"{what}: OK" + (f" ({detail})" if detail else ""))
    else:
        print(f"{what}: ОШИБКА: {detail}")
    return ok


def _check_port(cfg: AgentConfig) -> bool:
    import serial

    try:
        port = serial.Serial(cfg.register.port, cfg.register.baudrate, timeout=1, exclusive=True)
    except (serial.SerialException, OSError, ValueError) as e:
        text = str(e)
        if "lock" in text.lower() or "busy" in text.lower():
            text = ("порт занят другим процессом (работает служба? остановите её: systemctl stop aquabill-edge) — "
                    + text)
        return _line(f"Порт {cfg.register.port}", False, text)
    port.close()
    return _line(f"Порт {cfg.register.port}", True, f"{cfg.register.baudrate} бод")


def _check_register(cfg: AgentConfig) -> bool:
    from aquabill.edge_agent.shtrih.errors import LinkError, RegisterError

    reg = build_register_factory(cfg)()
    try:
        reg.open()
        try:
            st, fn, info = reg.status(), reg.fn_status(), reg.device_info()
            is_open, shift_number, _ = reg.shift_params()
        finally:
            reg.close()
    except (RegisterError, LinkError, OSError) as e:
        return _line("ККТ", False, getattr(e, "message", None) or str(e))
    shift = f"смена № {shift_number} {'открыта' if is_open else 'закрыта'}"
    return _line("ККТ", True, f"{info.model}, зав. № {info.serial}, ФН {fn.fn_number}, "
                              f"режим {st.mode} «{st.mode_text}», {shift}, последний ФД {fn.last_fd}")


def _check_terminal(cfg: AgentConfig) -> bool:
    from aquabill.edge_agent.terminal import TerminalError

    try:
        terminal = build_terminal(cfg)
    except ConfigError as e:
        return _line("Платёжный терминал", False, str(e))
    if terminal is None:
        print("Платёжный терминал: не настроен")
        return True
    try:
        info = terminal.info()
    except TerminalError as e:
        return _line("Платёжный терминал", False, e.message)
    return _line("Платёжный терминал", True, f"{info.model}, терминал {info.terminal_id}")


async def _probe_server(url: str, key: str) -> tuple[bool, str]:
    """Connect with the key without saying hello; the server refuses a bad key at once (4401 / HTTP 401)."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

    try:
        async with connect(url, additional_headers={"Authorization": f"Bearer {key}"}, open_timeout=10,
                           close_timeout=2) as ws:
            try:
                await asyncio.wait_for(ws.recv(), 2.0)
            except TimeoutError:
                pass
            return True, "ключ принят"
    except ConnectionClosed as e:
        if e.rcvd and e.rcvd.code == 4401:
            return False, f"ключ устройства отозван или неизвестен ({e.rcvd.reason or '4401'}): подключите агент заново"
        return True, "ключ принят"
    except InvalidStatus as e:
        if e.response.status_code in (401, 403):
            return False, "ключ устройства отозван или неизвестен: подключите агент заново"
        return False, f"сервер ответил {e.response.status_code}"
    except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as e:
        return False, f"сервер недоступен: {e}"


def cmd_check(args) -> int:
    path = agent_config.resolve_path(args.config)
    try:
        cfg = agent_config.load(path)
    except ConfigError as e:
        _line(f"Конфигурация {path}", False, str(e))
        return 1
    ok = _line(f"Конфигурация {path}", True, f"организация {cfg.server.tenant}, агент № {cfg.server.agent_id}")
    try:
        from aquabill.edge_agent.journal import Journal

        with Journal(cfg.journal_path) as journal:
            ok &= _line(f"Журнал {cfg.journal_path}", True, f"последняя команда № {journal.cursor()}, "
                        f"не доставлено результатов: {len(journal.undelivered())}")
    except Exception as e:  # noqa: BLE001 — sqlite3 / OS errors, reported as a line
        ok &= _line(f"Журнал {cfg.journal_path}", False, str(e))
    if cfg.register.port:
        if _check_port(cfg):
            ok &= _check_register(cfg)
        else:
            ok = False
    else:
        print("ККТ: не настроена")
    ok &= _check_terminal(cfg)
    if not cfg.server.key:
        ok &= _line("Сервер", False, "нет ключа устройства: выполните «aquabill-edge enroll»")
    else:
        good, detail = asyncio.run(_probe_server(cfg.websocket_url, cfg.server.key))
        ok &= _line(f"Сервер {cfg.websocket_url}", good, detail)
    return 0 if ok else 1


# --- simulator ---


def cmd_simulator(args) -> int:
    from aquabill.edge_agent.terminal import TerminalSimulator

    _setup_logging()
    folder = Path(args.dir).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "ttyFR"
    register = subprocess.Popen([sys.executable, "-m", "aquabill.edge_agent.shtrih.simulator", "--link", str(link),
                                 "--state", str(folder / "register.json"), "--baud", str(args.baud),
                                 "--print-delay", str(args.print_delay)])
    terminal = TerminalSimulator(folder / "terminal.json", "127.0.0.1", args.terminal_port).start()
    host, port = terminal.address
    print(f"Симулятор ККТ: порт {link} ({args.baud} бод), состояние {folder / 'register.json'}")
    print(f"Симулятор терминала: {host}:{port}, состояние {folder / 'terminal.json'}")
    print("В конфигурации агента:")
    print(f'  [register]\n  port = "{link}"\n  baudrate = {args.baud}\n'
          f'  [terminal]\n  kind = "tcp"\n  host = "{host}"\n  port = {port}')
    print("Остановка: Ctrl+C")
    try:
        while register.poll() is None:
            time.sleep(0.5)
        print(f"Симулятор ККТ завершился с кодом {register.returncode}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        terminal.stop()
        if register.poll() is None:
            register.terminate()
            register.wait(10)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="файл конфигурации (по умолчанию AQUABILL_EDGE_CONFIG или "
                                         f"{agent_config.DEFAULT_PATH})")
    parser = argparse.ArgumentParser(prog="aquabill-edge", description="Агент Аквабилла на кассе: ККТ «Штрих-М» "
                                     "и платёжный терминал, связь с сервером.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("enroll", parents=[common], help="подключить агент по коду со страницы администратора")
    p.add_argument("--server", required=True, help="адрес сервера, например https://aquabill.example.ru")
    p.add_argument("--tenant", help="организация (код со страницы администратора)")
    p.add_argument("--code", required=True, help="одноразовый код подключения XXXXX-XXXXX")
    p.add_argument("--port", help="последовательный порт ККТ, например /dev/ttyS0")
    p.add_argument("--baud", type=int, help="скорость порта ККТ (по умолчанию 115200)")
    p.add_argument("--data-dir", help="каталог журнала (по умолчанию /var/lib/aquabill-edge)")
    p.add_argument("--name", help="имя агента (по умолчанию имя компьютера)")
    p.set_defaults(func=cmd_enroll)

    p = sub.add_parser("run", parents=[common], help="работать: связь с сервером, выполнение команд")
    p.add_argument("--verbose", action="store_true", help="подробный журнал")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("check", parents=[common], help="проверить конфигурацию, ККТ, терминал и сервер")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("simulator", parents=[common], help="симуляторы ККТ и терминала для демонстрации")
    p.add_argument("--dir", default="./aquabill-edge-sim", help="каталог состояния симуляторов")
    p.add_argument("--baud", type=int, default=115200)
    p.add_argument("--print-delay", type=float, default=0.2, help="время печати документа, с")
    p.add_argument("--terminal-port", type=int, default=7800)
    p.set_defaults(func=cmd_simulator)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
