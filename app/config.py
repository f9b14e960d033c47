"""One Settings class, read from DANDELION_* environment variables."""

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DANDELION_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("var")
    database_url: str = ""
    secret_key: str = ""
    public_url: str = "http://127.0.0.1:8000"
    # Hosts served besides the public URL's (comma-separated): a load balancer's health check
    # that asks by address, say. Any other Host header is refused.
    allowed_hosts: str = ""
    # Reverse proxies whose X-Forwarded-For is believed: client addresses drive the login limits.
    forwarded_allow_ips: str = "127.0.0.1"
    # 100,000 rows of completions: a CSV of the five columns is 5.5 MB (UTF-8), of the dozen a
    # student system exports 15.6 MB; the XLSX 3.5 and 7.6 MB. Twice that leaves room for
    # longer values; the middleware answers 413 beyond it before reading the body.
    max_upload_bytes: int = 32 * 1024 * 1024
    # Certificates are signed with this generation's key (app.security): raise it by one to
    # rotate. Certificates signed with an earlier generation keep verifying.
    signing_key_generation: int = Field(default=1, ge=1)
    # How verifiers reach the alliance (a phone number, an email address): the verification
    # page names it beside a certificate that cannot be checked.
    contact: str = ""
    goal_universities: int = 50
    goal_companies: int = 500
    goal_talents: int = 5000
    # Background jobs (app/jobs): tests run each task at once, in the process that queues it.
    jobs_immediate: bool = False
    # A worker holds a chunk of a job's items this long; a killed worker's chunk is leased
    # again by the next one once the time is up.
    job_lease_seconds: float = 120.0
    job_chunk: int = 10
    # Uploads of more rows than this are read and saved as background jobs, with a progress
    # page, rather than inside the request.
    upload_job_rows: int = 20_000

    # Accounts (issue 11, 等保 2.0 habits): a login ends after this long without a request, and
    # after session_hours whatever happens; repeated failed passwords lock the account a while.
    session_idle_minutes: int = Field(default=30, ge=1)
    session_hours: int = Field(default=12, ge=1)
    lockout_failures: int = Field(default=5, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)
    # Where one-time codes for trainees go: "log" writes them to the log (development, tests);
    # a deployment names its SMS gateway's sender (app/me/sms.py).
    sms_sender: str = "log"
    # Retention (PIPL): contact details of enrollments this long after their course ended are
    # anonymised; uploaded originals are deleted this long after the upload. The audit log is
    # kept at least 180 days (China's Cybersecurity Law asks six months).
    retention_contact_days: int = Field(default=730, ge=1)
    retention_upload_days: int = Field(default=180, ge=1)
    audit_retention_days: int = Field(default=365, ge=180)
    # Algorithms for data at rest: "standard" (Fernet, HMAC-SHA256) or "national" (商用密码:
    # SM4-GCM, HMAC-SM3). `dandelion crypto migrate` re-encrypts existing data after a change.
    crypto: Literal["standard", "national"] = "standard"
    # Log lines: one JSON object each ("json"), or plain text for a developer's terminal.
    log_format: Literal["json", "text"] = "json"

    @model_validator(mode="after")
    def _fill_defaults(self) -> "Settings":
        self.data_dir = self.data_dir.resolve()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'dandelion.db'}"
        if not self.secret_key:
            if self.environment == "production":
                # A guessable key would let anyone forge sessions and decrypt ID numbers.
                raise ValueError("DANDELION_SECRET_KEY must be set in production")
            self.secret_key = _development_secret(self.data_dir)
        if len(self.secret_key) < 32:
            raise ValueError("DANDELION_SECRET_KEY must be at least 32 characters")
        return self


def _development_secret(data_dir: Path) -> str:
    """A per-installation key kept in the data folder, so restarts keep sessions and data readable."""
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
