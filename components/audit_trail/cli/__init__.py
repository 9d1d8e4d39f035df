"""The `audit-trail` command line: a Typer app whose commands are a few lines over one library call each.

`main` is the console script. The command-line tools are the `cli` extra of the package: without it the
component still installs and imports, and `audit-trail` says what to install instead of failing on an import.
"""

from __future__ import annotations

import importlib.util
import signal
import sys

# The import names of the `cli` extra's distributions (pyproject.toml): checked without importing them.
CLI_MODULES = (
    "typer",
    "rich",
    "duckdb",
    "pytz",
    "boto3",
    "orjson",
    "isal",
    "sigma",
    "cryptography",
    "re2",
    "ahocorasick",
    "jinja2",
    "matplotlib",
)


def main() -> None:
    try:
        missing = [name for name in CLI_MODULES if importlib.util.find_spec(name) is None]
        if missing:
            sys.stderr.write(
                f"audit-trail: the command-line tools are not installed (missing: {', '.join(missing)}). "
                "Install them with: pip install 'audit-trail[cli]'\n"
            )
            sys.exit(2)
        from .app import run
    except KeyboardInterrupt:  # Ctrl-C while the command starts: its exit code, not a traceback
        # and a second Ctrl-C on the way out is not death by the signal (the interpreter's exit gives SIGINT
        # its default action back before it unloads the modules)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        sys.exit(130)
    run()
