"""`dandelion backup DIR` and `dandelion restore DIR`."""

import typer

app = typer.Typer()
