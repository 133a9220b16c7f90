"""Real OpenSSH keys for the signing self-tests: ssh-keygen keys, an allowed_signers file, an ssh-agent."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def make_key(folder: Path, name: str, passphrase: str = "") -> Path:
    """A new ed25519 key pair `folder/name` (+ .pub), made by ssh-keygen, never prompting."""
    folder.mkdir(parents=True, exist_ok=True)
    key = folder / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", name, "-f", str(key)], check=True, stdin=subprocess.DEVNULL
    )
    return key


def public(key: Path) -> str:
    """`ssh-ed25519 AAAA...` of a key (its .pub without the comment)."""
    return " ".join(key.with_name(key.name + ".pub").read_text().split()[:2])


def fingerprint(key: Path) -> str:
    """The key's `SHA256:...` as ssh-keygen -l prints it."""
    out = subprocess.run(["ssh-keygen", "-l", "-f", str(key) + ".pub"], check=True, capture_output=True, text=True).stdout
    return out.split()[1]


def allowed_signers(path: Path, signers: dict[str, Path], options: dict[str, str] | None = None) -> Path:
    """An allowed_signers file: one `principal [options] key` line per signer."""
    options = options or {}
    lines = [" ".join(filter(None, [principal, options.get(principal, ""), public(key)])) for principal, key in signers.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@contextmanager
def agent() -> Iterator[dict[str, str]]:
    """A running ssh-agent: yields SSH_AUTH_SOCK / SSH_AGENT_PID; stopped after.

    Its socket lives in a short /tmp path (a unix socket path is limited to ~100 bytes; pytest's tmp_path is long).
    """
    with tempfile.TemporaryDirectory(prefix="dl-agent-", dir="/tmp") as folder:
        socket = Path(folder) / "s"
        out = subprocess.run(["ssh-agent", "-s", "-a", str(socket)], check=True, capture_output=True, text=True).stdout
        found = re.search(r"SSH_AGENT_PID=(\d+)", out)
        assert found, out
        pid = int(found.group(1))
        try:
            yield {"SSH_AUTH_SOCK": str(socket), "SSH_AGENT_PID": str(pid)}
        finally:
            os.kill(pid, signal.SIGTERM)


def add_to_agent(env: dict[str, str], key: Path) -> None:
    subprocess.run(["ssh-add", "-q", str(key)], check=True, env={**os.environ, **env}, capture_output=True)
