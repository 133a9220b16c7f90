"""The demo's operators and their OpenSSH keys: one ed25519 key each (ssh-keygen, no passphrase)
and the allowed_signers file that lists them, so the demo's runs, records and sign-offs are signed."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

from deploylog.errors import DeploylogError
from deploylog.spec import Spec

# who -> the principal allowed_signers lists for their key
OPERATORS = {"devops": "devops@demo", "finance": "finance@demo", "qa": "qa@demo"}


@dataclasses.dataclass(frozen=True)
class Keys:
    allowed_signers: Path
    keys: dict[str, Path]  # operator -> private key file


def generate(folder: Path) -> Keys:
    """A key per operator in folder, and folder/allowed_signers listing each under its principal."""
    folder.mkdir(parents=True, exist_ok=True)
    keys, lines = {}, []
    for who, principal in OPERATORS.items():
        key = folder / who
        try:
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", principal, "-f", str(key)],
                check=True,
                stdin=subprocess.DEVNULL,
                capture_output=True,
            )
        except FileNotFoundError:
            raise DeploylogError("the demo signs with OpenSSH keys: install ssh-keygen (openssh-client)") from None
        keys[who] = key
        public = " ".join(key.with_name(key.name + ".pub").read_text().split()[:2])
        lines.append(f"{principal} {public}")
    allowed = folder / "allowed_signers"
    allowed.write_text("\n".join(lines) + "\n")
    return Keys(allowed, keys)


def as_operator(spec: Spec, keys: Keys, who: str) -> Spec:
    """The deployment as one operator sees it: the same deploy.toml, their own key."""
    return dataclasses.replace(spec, signing=dataclasses.replace(spec.signing, key=str(keys.keys[who])))
