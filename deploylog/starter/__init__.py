"""`deploylog init`: a starting deploy.toml from what the code and the database say.

code.py reads the module's git repository (the manifests at both refs, read as
literals; the files changed between them), database.py reads the database
(through the read-only snapshot: the Odoo version, the module's row, its
groups), template.py turns both into the deploy.toml text.
"""
