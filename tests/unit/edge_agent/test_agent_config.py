"""The agent's TOML config: where it is found, what it holds, written 0600, clear Russian errors."""

import stat
from dataclasses import replace

import pytest

from aquabill.edge_agent import config
from aquabill.edge_agent.config import AgentConfig, ConfigError


def test_written_config_reads_back_with_mode_0600(tmp_path):
    cfg = AgentConfig().with_server(url="https://aquabill.example.ru", tenant="demo", agent_id=7,
                                    key='ek1.demo.7.a"b\\c')
    cfg = replace(cfg, agent=config.AgentSection(data_dir=str(tmp_path / "data")))
    path = config.save(cfg, tmp_path / "etc" / "agent.toml")
    assert config.load(path) == cfg
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (tmp_path / "data").is_dir()


def test_the_path_comes_from_the_option_then_the_environment_then_the_default(monkeypatch, tmp_path):
    monkeypatch.delenv(config.ENV_VAR, raising=False)
    assert config.resolve_path(None) == config.DEFAULT_PATH
    monkeypatch.setenv(config.ENV_VAR, str(tmp_path / "env.toml"))
    assert config.resolve_path(None) == tmp_path / "env.toml"
    assert config.resolve_path(tmp_path / "opt.toml") == tmp_path / "opt.toml"


@pytest.mark.parametrize(("server", "ws", "expected"), [
    ("https://aquabill.example.ru", "/edge/ws", "wss://aquabill.example.ru/edge/ws"),
    ("http://127.0.0.1:8000/", "/edge/ws", "ws://127.0.0.1:8000/edge/ws"),
    ("https://example.ru/aquabill", "edge/ws", "wss://example.ru/aquabill/edge/ws"),
    ("https://example.ru", "wss://gw.example.ru/edge/ws", "wss://gw.example.ru/edge/ws"),
])
def test_the_websocket_url(server, ws, expected):
    assert AgentConfig().with_server(url=server, ws_url=ws).websocket_url == expected


def test_a_missing_file_says_to_enrol(tmp_path):
    with pytest.raises(ConfigError) as e:
        config.load(tmp_path / "none.toml")
    assert "aquabill-edge enroll" in str(e.value)


def test_a_wrong_type_names_the_parameter():
    with pytest.raises(ConfigError) as e:
        config.parse('[register]\nbaudrate = "fast"\n')
    assert str(e.value) == "Параметр register.baudrate: ожидается int, получено 'fast'"


def test_partial_file_takes_defaults():
    cfg = config.parse('[server]\nurl = "https://x.ru"\nkey = "k"\n[terminal]\ntimeout = 30\n')
    assert (cfg.register.port, cfg.register.baudrate, cfg.terminal.timeout, cfg.journal_path.name) == (
        "/dev/ttyS0", 115200, 30.0, "journal.sqlite3")
