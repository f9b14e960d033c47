"""`dandelion backup DIR` and `dandelion restore DIR`."""

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from app.ops import backup as backups
from app.ops.restore import restore as restore_backup

app = typer.Typer()
# Restoring needs the data folder and the database, not the secret key: the backup brings its
# own. Reading the settings without one would make a new key file in an empty data folder
# (app/config.py does in development), and the folder would no longer be empty.
_NO_KEY_NEEDED = "restore-reads-no-secret-key-" + "0" * 32


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg="red", err=True)
    return typer.Exit(1)


@app.command()
def backup(target: Annotated[Path, typer.Argument(help="A new or empty folder")]) -> None:
    """Back up the database and the data folder's files into TARGET while the server runs."""
    from app.config import Settings

    settings = Settings()
    try:
        report = backups.back_up(settings.data_dir, settings.database_url, target)
    except backups.BackupError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(
        f"backed up the database ({report.database or 'not included'}) and {report.files} files into {target}"
    )
    for name in report.skipped:
        typer.echo(f"left out {name}: deleted while the backup ran", err=True)
    if report.holds_secret_key:
        typer.secho(
            "warning: the backup holds the secret key (files/secret_key): whoever has it can "
            "read the ID numbers and mobiles in it and sign in as anyone. Keep it safe.",
            fg="yellow",
            err=True,
        )
    else:
        typer.echo(
            "the secret key is not in the data folder: keep DANDELION_SECRET_KEY safe beside "
            "the backup, without it the ID numbers and mobiles in it cannot be read",
            err=True,
        )
    if report.commands:
        _left_to_run(
            "pg_dump is not installed here: the database is NOT in this backup.", report.commands
        )


@app.command()
def restore(
    source: Annotated[Path, typer.Argument(help="A folder made by `dandelion backup`")],
    force: bool = typer.Option(False, "--force", help="Overwrite a data folder or database in use"),
) -> None:
    """Check a backup against its manifest and restore it; stop the server and workers first."""
    from app.config import Settings

    settings = Settings(secret_key=_NO_KEY_NEEDED)
    try:
        report = restore_backup(source, settings.data_dir, settings.database_url, force=force)
    except backups.BackupError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(
        f"restored the database ({report.database or 'not restored'}) and {report.files} files into {settings.data_dir}"
    )
    if report.commands:
        _left_to_run(
            "pg_restore is not installed here: the database was NOT restored.", report.commands
        )


def _left_to_run(problem: str, commands: list[str]) -> NoReturn:
    """What the operator must run by hand (a PostgreSQL tool missing here), then exit 1."""
    typer.secho(f"{problem} Run:", fg="red", err=True)
    for command in commands:
        typer.echo(f"  {command}", err=True)
    raise typer.Exit(1)
