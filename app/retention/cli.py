"""`dandelion crypto ...` and `dandelion retention ...`: data at rest and how long it is kept."""

import typer

crypto_app = typer.Typer(help="Algorithms for data at rest.")
retention_app = typer.Typer(help="How long personal data is kept.")
