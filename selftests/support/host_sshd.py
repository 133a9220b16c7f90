"""A throwaway OpenSSH server on 127.0.0.1 for the testinfra ssh-backend self-tests.

Needs Debian's openssh-server (`apt-get install openssh-server`); `Sshd.unavailable()`
says why it cannot run when it cannot, so the test skips with that reason.

To make the "remote" host really differ from this machine, the server can run
in a mount namespace of its own with a small tmpfs over one directory (what it
sees there is not what this process sees), and give its sessions environment
variables of their own (SetEnv: another time zone).
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from deploylog.demo.odoo_server import free_port

SSHD = "/usr/sbin/sshd"


class Sshd:
    def __init__(self, workdir: Path, volume: Path | None = None, env: dict[str, str] | None = None) -> None:
        self.dir = workdir
        self.volume = volume  # mounted as a 1 MiB tmpfs in the server's own mount namespace
        self.env = env or {}
        self.port = free_port()
        self.user = getpass.getuser()
        self.key = workdir / "id_ed25519"
        self.config = workdir / "ssh_config"
        # a unix socket path holds at most 107 bytes: the control socket lives in a short dir of its own
        self.sockets = Path(tempfile.mkdtemp(prefix="dl-ssh-", dir="/tmp"))
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def unavailable() -> str:
        if not Path(SSHD).exists():
            return f"{SSHD} not installed (apt-get install openssh-server)"
        if not shutil.which("ssh") or not shutil.which("ssh-keygen"):
            return "ssh / ssh-keygen client not installed"
        if os.geteuid() != 0:
            return "sshd needs root here (privilege separation user and /run/sshd)"
        return ""

    @staticmethod
    def namespace_unavailable() -> str:
        """Why a server in its own mount namespace cannot run here ('' when it can)."""
        if not shutil.which("unshare"):
            return "unshare (util-linux) not installed"
        done = subprocess.run(["unshare", "--mount", "true"], capture_output=True, text=True, check=False)
        return f"no mount namespace: {done.stderr.strip()}" if done.returncode != 0 else ""

    @property
    def hostspec(self) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}"

    def start(self) -> Sshd:
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
        host_key = self.dir / "host_ed25519"
        for key in (host_key, self.key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
        (self.dir / "authorized_keys").write_text(self.key.with_suffix(".pub").read_text())
        sshd_config = self.dir / "sshd_config"
        sshd_config.write_text(
            "\n".join(
                [
                    "ListenAddress 127.0.0.1",
                    f"Port {self.port}",
                    f"HostKey {host_key}",
                    f"AuthorizedKeysFile {self.dir / 'authorized_keys'}",
                    f"PidFile {self.dir / 'sshd.pid'}",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "PermitRootLogin prohibit-password",
                    "StrictModes no",
                    "LogLevel ERROR",
                    *[f"SetEnv {k}={v}" for k, v in self.env.items()],
                    "",
                ]
            )
        )
        self.config.write_text(
            "\n".join(
                [
                    "Host 127.0.0.1",
                    f"  Port {self.port}",
                    f"  User {self.user}",
                    f"  IdentityFile {self.key}",
                    "  IdentitiesOnly yes",
                    "  StrictHostKeyChecking no",
                    "  UserKnownHostsFile /dev/null",
                    "  LogLevel ERROR",
                    "  BatchMode yes",
                    # one connection reused by every command, as docs/host-items.md recommends
                    "  ControlMaster auto",
                    f"  ControlPath {self.sockets}/%C",
                    "  ControlPersist 60",
                    "",
                ]
            )
        )
        command = [SSHD, "-D", "-e", "-f", str(sshd_config)]
        if self.volume is not None:
            self.volume.mkdir(parents=True, exist_ok=True)
            mount = 'mount -t tmpfs -o size=1m deploylog-selftest "$0" && exec "$@"'
            command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", mount, str(self.volume), *command]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(500):
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd exited: {self.proc.stderr.read().decode(errors='replace').strip()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.01)
        raise RuntimeError("sshd did not listen")

    def stop(self) -> None:
        subprocess.run(["ssh", "-F", str(self.config), "-O", "exit", "127.0.0.1"], capture_output=True, check=False)
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        shutil.rmtree(self.sockets, ignore_errors=True)
