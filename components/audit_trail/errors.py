"""Errors a user can fix."""

import click


class UserError(click.ClickException):
    """Bad input (config key, flag, file): the message names it, says what is accepted and what to do.

    A click exception so every CLI command reports it as `Error: ...` with exit code 2 and no traceback;
    outside the CLI (the Pulumi program) it is an ordinary exception with the same message.
    """

    exit_code = 2
