"""`dandelion crypto ...` and `dandelion retention ...`: data at rest and how long it is kept."""

import typer

crypto_app = typer.Typer(help="Algorithms for data at rest.")
retention_app = typer.Typer(help="How long personal data is kept.")


def _installation():
    """Settings read afresh from the environment, and their sessions (with their keys)."""
    from app.config import Settings
    from app.db import sessions_for

    settings = Settings()
    return settings, sessions_for(settings)


@crypto_app.command("status")
def crypto_status() -> None:
    """The algorithms the stored data is under and the ones DANDELION_CRYPTO names."""
    from app.retention import crypto

    settings, sessions = _installation()
    with sessions() as session:
        stored = crypto.recorded(session)
    typer.echo(f"stored data: {stored}; configured: {settings.crypto}")
    if stored != settings.crypto:
        typer.echo(crypto.mismatch(settings.crypto, stored), err=True)
        raise typer.Exit(1)


@crypto_app.command("migrate")
def crypto_migrate() -> None:
    """Re-encrypt every stored secret (ID numbers, mobiles, emails, TOTP secrets, uploaded
    originals, kept exports) and recompute every lookup hash under DANDELION_CRYPTO; audited.
    Stop the app and the workers first. Safe to run again, also after it was interrupted."""
    from app.retention import recrypt

    settings, sessions = _installation()
    with sessions() as session:
        done = recrypt.migrate(session, settings.data_dir)
    for column, count in done.values.items():
        typer.echo(f"{column}: {count} re-encrypted")
    typer.echo(
        f"ID hashes recomputed: {done.hashes}; files re-encrypted: {done.files}; "
        f"short-lived rows dropped: {done.dropped}"
    )
    typer.echo(f"data at rest is under the {settings.crypto} algorithms")


@retention_app.command("run")
def retention_run() -> None:
    """Run the retention job now (the workers start it daily): anonymise contact details of
    enrollments in courses ended DANDELION_RETENTION_CONTACT_DAYS ago, delete uploaded
    originals and export files older than DANDELION_RETENTION_UPLOAD_DAYS; audited."""
    from app.db import id_of
    from app.jobs import runner
    from app.jobs import service as jobs
    from app.retention import job as retention

    settings, sessions = _installation()
    with sessions() as session:
        job_id = id_of(retention.start(session, actor="cli"))
        session.commit()
    runner.run(sessions, settings, job_id)
    with sessions() as session:
        job = jobs.get(session, job_id)
        results = {item.item_key: item.result for item in jobs.done_items(session, job)}
    typer.echo(
        f"retention job {job_id}: {results.get(retention.CONTACTS, '0')} enrollments' contact "
        f"details anonymised, {results.get(retention.UPLOADS, '0')} uploaded originals and "
        f"{results.get(retention.EXPORTS, '0')} export files deleted"
    )
    if job.state != jobs.DONE or job.failed:
        typer.echo(f"retention job {job_id} did not finish: see its page", err=True)
        raise typer.Exit(1)
