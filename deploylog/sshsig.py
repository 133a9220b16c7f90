"""OpenSSH signatures through `ssh-keygen -Y` (and `ssh-add -L` for the agent's keys).

The one place deploylog runs these binaries: argument lists (no shell), a
timeout, and never interactive — each call runs in its own session (no
terminal to prompt on), with stdin closed and SSH_ASKPASS_REQUIRE=never, so a
key that needs a passphrase fails with one line instead of waiting for one.
Every signature is in the namespace `deploylog` (`ssh-keygen -Y sign -n deploylog`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from deploylog.errors import DeploylogError

NAMESPACE = "deploylog"
TIMEOUT_S = 30
_GOOD = re.compile(r'^Good "[^"]*" signature (?:for (?P<principal>.+) )?with (?P<type>\S+) key (?P<fingerprint>SHA256:\S+)$', re.M)
_NOISE = ("Could not verify signature.", "Signing file", "Write signature to", "Signing data on standard input")


class SigningError(DeploylogError):
    """A signature could not be made (no key, no agent, no ssh-keygen, a key not listed): one line naming the fix."""


@dataclass(frozen=True)
class Checked:
    """What ssh-keygen said of one signature."""

    ok: bool
    fingerprint: str = ""  # of the key that made it, when ssh-keygen named it
    problem: str = ""  # ssh-keygen's own reason when not ok


def _run(args: list[str], data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "SSH_ASKPASS_REQUIRE": "never"}
    try:
        return subprocess.run(
            args,
            input=data,
            stdin=None if data is not None else subprocess.DEVNULL,
            capture_output=True,
            timeout=TIMEOUT_S,
            start_new_session=True,  # no controlling terminal: nothing can prompt
            env=env,
            check=False,
        )
    except FileNotFoundError:
        raise SigningError(f"{args[0]} not found: install OpenSSH's client tools (openssh-client); deploylog signs with it") from None
    except subprocess.TimeoutExpired:
        raise SigningError(f"{args[0]} did not answer within {TIMEOUT_S} s (an ssh-agent waiting for a confirmation?)") from None


def said(done: subprocess.CompletedProcess[bytes], default: str | None = None) -> str:
    """ssh-keygen's own words on one line, without its progress chatter (default, else the exit status, when none)."""
    text = (done.stderr + b"\n" + done.stdout).decode(errors="replace")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith(_NOISE)]
    return "; ".join(lines) or (f"exit status {done.returncode}" if default is None else default)


def fingerprint(public_key: str) -> str:
    """`SHA256:...` of an OpenSSH public key line (`ssh-ed25519 AAAA... comment`), as ssh-keygen -l prints it."""
    blob = base64.b64decode(public_key.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def sign(message: bytes, key: Path) -> str:
    """The armored signature of message by key (a private key file, or a .pub whose private half ssh-agent holds)."""
    with tempfile.TemporaryDirectory(prefix="deploylog-sign-") as tmp:
        data = Path(tmp) / "message"
        data.write_bytes(message)
        done = _run(["ssh-keygen", "-Y", "sign", "-n", NAMESPACE, "-f", str(key), str(data)])
        if done.returncode != 0:
            raise SigningError(_sign_failure(key, said(done)))
        return (Path(tmp) / "message.sig").read_text(encoding="ascii")


def _sign_failure(key: Path, why: str) -> str:
    if "passphrase" in why:
        return (
            f"cannot sign with {key}: it needs a passphrase and deploylog never prompts; load it into ssh-agent "
            f"(`ssh-add {key}`) and set [signing] key to its .pub, or leave key empty to use the agent"
        )
    if "agent" in why.lower():
        return f"cannot sign with {key}: {why} (its private half is in no running ssh-agent: `ssh-add` it)"
    return f"cannot sign with {key}: {why}"


def _with_signature(signature: str, run: list[str], message: bytes | None) -> subprocess.CompletedProcess[bytes]:
    with tempfile.TemporaryDirectory(prefix="deploylog-verify-") as tmp:
        path = Path(tmp) / "signature"
        path.write_text(signature, encoding="ascii", errors="replace")
        return _run([*run, "-s", str(path)], message)


def principals(signature: str, allowed_signers: Path) -> tuple[list[str], str]:
    """The principals allowed_signers lists (and accepts now) for the key that made the signature; else [] and why not."""
    done = _with_signature(signature, ["ssh-keygen", "-Y", "find-principals", "-f", str(allowed_signers)], None)
    return (done.stdout.decode(errors="replace").split(), "") if done.returncode == 0 else ([], said(done))


def verify(message: bytes, signature: str, allowed_signers: Path, principal: str, at: dt.datetime | None = None) -> Checked:
    """`ssh-keygen -Y verify`: a good signature of message, by a key allowed_signers lists for principal (at that time)."""
    run = ["ssh-keygen", "-Y", "verify", "-f", str(allowed_signers), "-I", principal, "-n", NAMESPACE]
    if at is not None:  # a key retired with valid-before still vouches for what it signed before
        run.append(f"-Overify-time={at.astimezone(dt.UTC):%Y%m%d%H%M%S}Z")
    done = _with_signature(signature, run, message)
    good = _GOOD.search(done.stdout.decode(errors="replace"))
    if done.returncode == 0 and good:
        return Checked(True, good["fingerprint"])
    return Checked(False, problem=said(done, default=""))


def check_novalidate(message: bytes, signature: str) -> Checked:
    """Whether the signature is a good one of message by whatever key made it (no allowed_signers)."""
    done = _with_signature(signature, ["ssh-keygen", "-Y", "check-novalidate", "-n", NAMESPACE], message)
    good = _GOOD.search(done.stdout.decode(errors="replace"))
    if done.returncode == 0 and good:
        return Checked(True, good["fingerprint"])
    return Checked(False, problem=said(done, default=""))


def agent_keys() -> list[str]:
    """The public keys the running ssh-agent holds (`ssh-add -L`), one OpenSSH line each."""
    socket = os.environ.get("SSH_AUTH_SOCK", "")
    if not socket:
        raise SigningError(
            "no signing key: [signing] key is empty and no ssh-agent is running (SSH_AUTH_SOCK is not set); "
            "start one and `ssh-add` your key, or give the key file ([signing] key, --signing-key)"
        )
    done = _run(["ssh-add", "-L"])
    if done.returncode == 1:
        raise SigningError(f"no signing key: the ssh-agent at {socket} holds no key (`ssh-add` yours)")
    if done.returncode != 0:
        raise SigningError(f"no signing key: cannot reach the ssh-agent at {socket} ({said(done)})")
    return [line for line in done.stdout.decode().splitlines() if line.strip()]
