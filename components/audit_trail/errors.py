"""Errors a user can fix."""

# Typer (0.29) runs commands on its own vendored click and turns only *that* ClickException into
# "Error: ..." and an exit code; a plain click.ClickException would escape as a traceback.
from typer._click.exceptions import ClickException


class UserError(ClickException):
    """Bad input (config key, flag, file): the message names it, says what is accepted and what to do.

    A click exception so every CLI command reports it as `Error: ...` with exit code 2 and no traceback;
    outside the CLI (the Pulumi program) it is an ordinary exception with the same message.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.exit_code = 2
