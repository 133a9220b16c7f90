"""The one exception type the engine raises for bad input; its message is shown as is."""


class DeploylogError(Exception):
    """A clear, one-line problem an operator can act on (missing file, unreachable server, ...)."""
