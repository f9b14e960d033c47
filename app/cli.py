"""The `dandelion` command."""

import sys
import threading

import typer
from sqlmodel import Session

from app.audit.cli import app as audit_cli
from app.certificates.cli import app as certificates_cli
from app.ops.cli import app as ops_cli
from app.retention.cli import crypto_app as crypto_cli
from app.retention.cli import retention_app as retention_cli

app = typer.Typer(
    no_args_is_help=True, help="Dandelion (蒲公英): training, completions, certificates."
)
db_app = typer.Typer(help="The database schema.")
admin_app = typer.Typer(help="Administrator accounts.")
token_app = typer.Typer(help="API tokens.")
goals_app = typer.Typer(help="The plan's goals.")
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
app.add_typer(token_app, name="token")
app.add_typer(goals_app, name="goals")
app.add_typer(certificates_cli)  # `dandelion verify` (app/certificates/cli.py)
app.add_typer(ops_cli)  # `dandelion backup`, `dandelion restore` (app/ops/cli.py)
app.add_typer(audit_cli, name="audit")
app.add_typer(crypto_cli, name="crypto")
app.add_typer(retention_cli, name="retention")


@app.callback()
def _everywhere() -> None:
    from app import logs

    logs.install()  # workers and commands log tracebacks too


def _settings():
    """Read afresh from the environment by each command: a command is its own installation's
    entry point, as app/asgi.py is the web server's."""
    from app.config import Settings

    return Settings()


def _session() -> Session:
    from app.db import sessions_for

    return sessions_for(_settings())()


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from app import migrate

    migrate.upgrade(_settings().database_url, revision=revision)
    typer.echo("database is up to date")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    upgrade: bool = typer.Option(True, help="Apply migrations first"),
) -> None:
    """Check the certificate fonts, apply migrations and start the web server."""
    import uvicorn

    from app import logs

    _check_printing()
    public_url = _settings().public_url
    if "127.0.0.1" in public_url or "localhost" in public_url:
        typer.secho(
            f"warning: certificate QR codes will point to {public_url}; set "
            "DANDELION_PUBLIC_URL to the address people reach this site at",
            fg="yellow",
            err=True,
        )
    if upgrade:
        db_upgrade()
    _check_crypto()
    _sweep_orphans()
    uvicorn.run(
        "app.asgi:app",
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips=_settings().forwarded_allow_ips,
        # The app writes one line per request itself (app/middleware.AccessLog), with the
        # route's template instead of a path that may hold a token; uvicorn's would repeat it.
        access_log=False,
        log_config=logs.config(_settings().log_format),
    )


@app.command()
def worker(
    threads: int = typer.Option(2, help="Jobs worked on at once in this process"),
) -> None:
    """Run background jobs (issuing certificates, print runs): a Huey consumer on the queue
    that DANDELION_DATABASE_URL implies (SQLite: huey.db in the data folder; PostgreSQL: the
    same database), with the periodic task that re-queues the work of workers that died."""
    from app import logs
    from app.jobs import queue

    settings = _settings()
    logs.configure(settings.log_format)
    if settings.jobs_immediate:
        typer.secho(
            "error: DANDELION_JOBS_IMMEDIATE is set: jobs run inside requests, no worker is needed",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)
    _check_printing()
    _check_crypto()
    _sweep_orphans()  # a killed worker's temporary PDFs (their holders' names) go first
    jobs = queue.for_worker(settings)
    requeued = jobs.requeue_unfinished()
    if requeued:
        typer.echo(f"queued {requeued} unfinished jobs again", err=True)
    typer.echo(f"worker started ({threads} threads)", err=True)
    jobs.huey.create_consumer(workers=threads, worker_type="thread", periodic=True).run()


def _check_printing() -> None:
    """Before the server or the worker starts: without the certificate fonts (or HarfBuzz
    subsetting) production refuses to start, naming the Debian package; elsewhere a warning.
    Then the pre-subset fonts are built (once per machine, two minutes or so) and the process
    warmed, in the background: the server answers meanwhile and other jobs run, and only a
    certificate waits for the fonts."""
    from app.certificates import environment

    def warn(message: str) -> None:
        typer.secho(f"warning: {message}", fg="yellow", err=True)

    try:
        environment.check_at_start(_settings(), warn=warn)
    except environment.RefusedToStart as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    if not environment.problems():
        threading.Thread(
            target=environment.prepare, kwargs={"warn": warn}, name="fonts", daemon=True
        ).start()


def _check_crypto() -> None:
    """Data at rest under other algorithms than DANDELION_CRYPTO names: production refuses
    to start, naming `dandelion crypto migrate`; elsewhere a warning (app/retention/crypto.py)."""
    from app.certificates.environment import RefusedToStart
    from app.db import sessions_for
    from app.retention import crypto

    settings = _settings()

    def warn(message: str) -> None:
        typer.secho(f"warning: {message}", fg="yellow", err=True)

    try:
        crypto.check_at_start(settings, sessions_for(settings), warn=warn)
    except RefusedToStart as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc


def _sweep_orphans() -> None:
    """Files a process killed mid-work left behind with no record naming them (they hold
    holders' names): removed at every start, before anything is served."""
    from app.certificates import service as certificates
    from app.completions import originals

    data_dir = _settings().data_dir
    with _session() as session:
        removed = certificates.sweep_orphans(session, data_dir)
        removed += originals.sweep_orphans(session, data_dir)
    if removed:
        typer.echo(f"removed {removed} files that no record names", err=True)


@app.command()
def demo(trainees: int = 300) -> None:
    """Load realistic demo data (idempotent: does nothing if demo data is already there)."""
    from app import demo as demo_data

    if _settings().environment == "production":
        # The demo accounts' passwords are published in the README.
        typer.secho(
            "error: demo data is never loaded in production (its passwords are public)",
            fg="red",
            err=True,
        )
        raise typer.Exit(1)
    db_upgrade()
    with _session() as session:
        summary = demo_data.load(session, _settings(), trainees=trainees)
    typer.echo(summary)


@admin_app.command("create")
def admin_create(
    email: str = typer.Option(...),
    password: str = typer.Option(...),
    role: str = typer.Option(
        "admin",
        help="admin (the system administrator), security (the security administrator) or "
        "auditor (reads the audit log only): 三员, three people",
    ),
) -> None:
    """Create an account of the alliance's own: only here, never in the browser, so that no
    role of the product makes the accounts of the others."""
    from app.auth import service
    from app.auth.models import PRIVILEGED
    from app.errors import AppError

    if role not in PRIVILEGED:
        typer.secho("error: --role is one of admin, security, auditor", fg="red", err=True)
        raise typer.Exit(2)
    with _session() as session:
        try:
            service.create_user(session, email=email, password=password, role=role, actor="cli")
        except AppError as exc:
            typer.secho(f"error: {exc.message}", fg="red", err=True)
            raise typer.Exit(1) from exc
        session.commit()
    typer.echo(f"{ROLE_NAMES[role]} {email} created")


ROLE_NAMES = {"admin": "administrator", "security": "security administrator", "auditor": "auditor"}


@token_app.command("create")
def token_create(
    admin: bool = typer.Option(False, "--admin", help="An administrator's token"),
    university: str = typer.Option("", "--university", help="A university's code"),
    name: str = typer.Option("cli", help="What the token is for"),
) -> None:
    """Create an API token; it is printed once, as the last line."""
    from app.auth import service
    from app.errors import NotFound
    from app.universities import service as universities

    if admin == bool(university):
        typer.secho("error: give exactly one of --admin or --university CODE", fg="red", err=True)
        raise typer.Exit(2)
    with _session() as session:
        university_id = None
        if university:
            try:
                university_id = universities.get_by_code(session, university).id
            except NotFound as exc:
                typer.secho(f"error: no university has the code {university}", fg="red", err=True)
                raise typer.Exit(1) from exc
        _, secret = service.create_token(
            session, name=name, role="admin" if admin else "university", university_id=university_id
        )
        session.commit()
    typer.echo("token created; store it now, it cannot be shown again:", err=True)
    sys.stdout.write(secret + "\n")


@goals_app.command("verify")
def goals_verify() -> None:
    """Recount the goals from scratch and compare with the live counters; exit 1 if they differ."""
    from app.goals import service

    with _session() as session:
        problems = service.verify(session, _settings())
    for problem in problems:
        typer.secho(problem, fg="red", err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo("goal counters agree with a recount")


@goals_app.command("rebuild")
def goals_rebuild() -> None:
    """Count the goals again from the records and keep that as the counters (after loading
    records outside the app, or when `goals verify` found a difference); audited."""
    from app.audit import service as audit
    from app.goals import tally

    with _session() as session:
        differences = tally.differences(session)
        tally.rebuild(session)
        audit.record(session, "cli", "goals.rebuild", "goal_total", None, fixed=len(differences))
        session.commit()
    typer.echo(f"goal counters rebuilt ({len(differences)} differed from a recount)")


if __name__ == "__main__":
    app()
