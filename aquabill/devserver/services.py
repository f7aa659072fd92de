"""Embedded PostgreSQL and Redis for `aquabill dev` and the test suite.

Started only when no DATABASE_URL / REDIS_URL is given. Data lives under a folder of ours
(./var for development, a temporary folder for tests), servers listen on loopback only.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


class ServiceError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    found = candidates[0] if candidates else shutil.which(name)
    if not found:
        raise ServiceError(
            f"Не найден {name} (сервер PostgreSQL). Установите пакет postgresql "
            "(make делает это сам) или задайте DATABASE_URL."
        )
    return found


def _as_postgres(cmd: list[str]) -> list[str]:
    """Server binaries refuse to run as root: run them as the postgres system user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if res.returncode != 0:
        raise ServiceError(f"{' '.join(cmd)} failed: {res.stdout}\n{res.stderr}")
    return res


@dataclass
class LocalPostgres:
    data_dir: Path
    port: int
    user: str = "aquabill"
    fast_unsafe: bool = False  # fsync off: for throwaway test instances only

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://{self.user}@127.0.0.1:{self.port}/aquabill"

    def admin_url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def _chown(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.data_dir.parent, "postgres")
            for root, _dirs, files in os.walk(self.data_dir):
                shutil.chown(root, "postgres")
                for f in files:
                    shutil.chown(os.path.join(root, f), "postgres")

    def init(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._chown()
        _run(_as_postgres([_pg_bin("initdb"), "-D", str(self.data_dir), "-U", self.user, "-A", "trust",
                           "-E", "UTF8", "--locale", "C.UTF-8"]))

    def start(self) -> None:
        self.init()
        opts = [f"-p {self.port}", "-c listen_addresses=127.0.0.1", f"-k {self.data_dir}",
                "-c max_connections=300", "-c shared_buffers=512MB", "-c max_locks_per_transaction=512"]
        if self.fast_unsafe:
            opts += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        log = self.data_dir.parent / "postgres.log"
        if os.geteuid() == 0 and log.exists():
            shutil.chown(log, "postgres")
        _run(_as_postgres([_pg_bin("pg_ctl"), "-D", str(self.data_dir), "-l", str(log),
                           "-o", " ".join(opts), "-w", "-t", "60", "start"]))
        self._ensure_database("aquabill")

    def _ensure_database(self, name: str) -> None:
        psql = _pg_bin("psql") if glob.glob("/usr/lib/postgresql/*/bin/psql") else (shutil.which("psql") or "psql")
        base = [psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", "postgres", "-tAc"]
        exists = _run([*base, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"]).stdout.strip()
        if not exists:
            _run([*base, f'CREATE DATABASE "{name}"'])

    def is_running(self) -> bool:
        if not (self.data_dir / "postmaster.pid").exists():
            return False
        res = subprocess.run(_as_postgres([_pg_bin("pg_ctl"), "-D", str(self.data_dir), "status"]),
                             capture_output=True)
        return res.returncode == 0

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            subprocess.run(_as_postgres([_pg_bin("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"]),
                           capture_output=True)


@dataclass
class LocalRedis:
    data_dir: Path
    port: int
    persist: bool = True

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def is_running(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.3) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        exe = shutil.which("redis-server")
        if not exe:
            raise ServiceError("Не найден redis-server: установите пакет redis-server или задайте REDIS_URL.")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        save = ["--save", "60 1"] if self.persist else ["--save", ""]
        _run([exe, "--bind", "127.0.0.1", "--port", str(self.port), *save, "--appendonly", "no",
              "--dir", str(self.data_dir.resolve()), "--daemonize", "yes",
              "--pidfile", str((self.data_dir / "redis.pid").resolve()),
              "--logfile", str((self.data_dir / "redis.log").resolve())])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise ServiceError(f"Redis did not start on port {self.port}")

    def stop(self) -> None:
        pidfile = self.data_dir / "redis.pid"
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"SHUTDOWN NOSAVE\r\n" if not self.persist else b"SHUTDOWN SAVE\r\n")
                s.recv(16)
        except OSError:
            pass
        deadline = time.monotonic() + 5
        while pidfile.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
