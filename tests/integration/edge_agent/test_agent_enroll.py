"""`aquabill-edge enroll` against a local HTTP server speaking the server side of POST /edge/enroll."""

import json
import stat
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from aquabill.edge_agent import cli, config

CODE = "ABCDE-FGHJK"
KEY = "ek1.demo.7.s3cr3t"


class EnrollServer:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "body": body})
                if self.path == "/edge/enroll" and body.get("code", "").replace("-", "").upper() == "ABCDEFGHJK":
                    status, answer = 200, {"agent_id": 7, "tenant": "demo", "key": KEY, "ws_url": "/edge/ws"}
                else:
                    status, answer = 403, {"error": {"code": "forbidden",
                                                     "message": "Код подключения неверен, использован или истёк"}}
                raw = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = EnrollServer()
    yield s
    s.stop()


def test_enrol_writes_the_key_into_a_0600_config(server, tmp_path, capsys):
    path = tmp_path / "agent.toml"
    code = cli.main(["enroll", "--server", server.url, "--tenant", "demo", "--code", CODE.lower(), "--port",
                     "/dev/ttyUSB0", "--data-dir", str(tmp_path / "data"), "--config", str(path), "--name", "kassa-1"])
    assert code == 0
    cfg = config.load(path)
    assert (cfg.server.url, cfg.server.tenant, cfg.server.agent_id, cfg.server.key, cfg.register.port,
            cfg.websocket_url) == (server.url, "demo", 7, KEY, "/dev/ttyUSB0",
                                   server.url.replace("http://", "ws://") + "/edge/ws")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert server.requests == [{"path": "/edge/enroll", "body": {"tenant": "demo", "code": "abcde-fghjk",
                                                                  "name": "kassa-1", "version": "0.1.0"}}]
    assert "агент № 7" in capsys.readouterr().out


def test_a_refused_code_shows_the_servers_message_and_writes_nothing(server, tmp_path, capsys):
    path = tmp_path / "agent.toml"
    code = cli.main(["enroll", "--server", server.url, "--tenant", "demo", "--code", "ZZZZZ-ZZZZZ",
                     "--config", str(path)])
    assert (code, path.exists()) == (1, False)
    assert capsys.readouterr().err.strip() == ("ОШИБКА: Код подключения не принят: Код подключения неверен, "
                                               "использован или истёк")


def test_an_unreachable_server(tmp_path, capsys):
    code = cli.main(["enroll", "--server", "http://127.0.0.1:9", "--tenant", "demo", "--code", CODE,
                     "--config", str(tmp_path / "agent.toml")])
    assert code == 1
    assert capsys.readouterr().err.startswith("ОШИБКА: Сервер http://127.0.0.1:9 недоступен")
