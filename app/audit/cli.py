"""`dandelion audit ...`: the audit log from the command line."""

import typer

app = typer.Typer(help="The audit log.")
