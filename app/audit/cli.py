"""`dandelion audit ...`: the audit log from the command line."""

import typer

app = typer.Typer(help="The audit log.")


def _sessions():
    from app.config import Settings
    from app.db import sessions_for

    settings = Settings()
    return settings, sessions_for(settings)


@app.command()
def verify() -> None:
    """Seal what is committed, then check the whole chain of events; exit 1 naming the first
    event where it breaks."""
    from app.audit import chain

    _, sessions = _sessions()
    with sessions() as session:
        report = chain.verify(session)
    if report.broken is not None:
        broken = report.broken
        where = f"event {broken.event_id}" if broken.event_id is not None else "the anchor"
        typer.secho(
            f"audit chain broken at {where} (sequence {broken.seq}): {broken.reason}",
            fg="red",
            err=True,
        )
        raise typer.Exit(1)
    # Cutting off the newest events leaves a chain that holds: note the head somewhere else.
    typer.echo(
        f"audit chain holds: {report.events} events checked, "
        f"head at sequence {report.head_seq} (mac {report.head_mac[:16]})"
    )


@app.command()
def prune() -> None:
    """Remove events older than DANDELION_AUDIT_RETENTION_DAYS (at least 180), keeping an
    anchor from which the rest still verifies; the prune itself is audited."""
    from app.audit import chain

    settings, sessions = _sessions()
    with sessions() as session:
        removed = chain.prune(session, days=settings.audit_retention_days)
    typer.echo(f"{removed} audit events older than {settings.audit_retention_days} days removed")
