"""The questions and the tables they read, defined once for both engines.

Pure Python with no third-party imports: the toolkit's engines (`investigate`) and the component's Athena
resources (`component.resources.athena`) share them, so a named query in the workgroup and the CLI's answer
are the same SQL.
"""
