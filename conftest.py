"""The deploylog plugin is registered through its pytest11 entry point
(pyproject.toml), so every test folder of the log gets it; nothing else lives here."""
