"""The exception types the engine raises for a check that cannot do its job; the message is shown as is.

Every one is a DeploylogError: one line an operator can act on. The subclasses
let a caller tell the causes apart (P.7 lists missing grants, a snapshot
remembers which figure failed and why) without parsing the text.
"""


class DeploylogError(Exception):
    """A clear, one-line problem an operator can act on (missing file, unreachable server, ...)."""


class PrivilegeError(DeploylogError):
    """The object exists but the connecting role may not read it; `grant` is the statement that fixes it."""

    def __init__(self, message: str, grant: str = "") -> None:
        super().__init__(message)
        self.grant = grant


class MissingObjectError(DeploylogError):
    """A table or column a check reads does not exist (the message names the deploy.toml key, if any)."""


class QueryFailedError(DeploylogError):
    """A query was cut short by the server: lock timeout, statement timeout, lost connection."""

    def __init__(self, message: str, connection_lost: bool = False) -> None:
        super().__init__(message)
        self.connection_lost = connection_lost
