"""The yardstick of bench/enroll_concurrency.py: a bare FastAPI app, started by the bench
in its own uvicorn child process (one worker, as `dandelion serve`), on a database of the
same kind as the app's (BARE_DATABASE_URL: a SQLite file in WAL mode, or PostgreSQL).

POST /bare/enrollments validates a body like EnrollmentCreate's with plain pydantic and
inserts one row; GET /bare/page renders one Jinja2 template with a little data. No
sessions, no CSRF, no middleware, no audit: what any FastAPI app pays for the same work.
"""

import os
import re
from datetime import UTC, datetime

from fastapi import FastAPI
from jinja2 import DictLoader, Environment
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
)
from starlette.responses import HTMLResponse

URL = os.environ.get("BARE_DATABASE_URL", "sqlite:///bare.db")
if URL.startswith("postgresql://"):
    URL = "postgresql+psycopg://" + URL.removeprefix("postgresql://")

metadata = MetaData()
rows = Table(
    "bare_enrollment",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("course_code", String(30), nullable=False),
    Column("name", String(50), nullable=False),
    Column("id_number", String(18), nullable=False),
    Column("mobile", String(11), nullable=False),
    Column("company_uscc", String(18), nullable=False),
    Column("consent", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

if URL.startswith("sqlite"):
    engine = create_engine(URL, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _wal(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
else:
    engine = create_engine(URL, pool_size=10, max_overflow=10)
metadata.drop_all(engine)
metadata.create_all(engine)


class Body(BaseModel):
    course_code: str = Field(min_length=1, max_length=30)
    name: str = Field(min_length=1, max_length=50)
    id_number: str
    mobile: str
    email: str | None = None
    company_uscc: str = Field(min_length=18, max_length=18)
    company_name: str | None = None
    consent: bool
    share_with_employer: bool = False

    @field_validator("id_number")
    @classmethod
    def _id_number(cls, v: str) -> str:
        if not re.fullmatch(r"\d{17}[\dX]", v.strip().upper()):
            raise ValueError("not an ID number")
        return v.strip().upper()

    @field_validator("mobile")
    @classmethod
    def _mobile(cls, v: str) -> str:
        digits = re.sub(r"[\s-]", "", v)
        if not re.fullmatch(r"1\d{10}", digits):
            raise ValueError("not a mobile number")
        return digits


app = FastAPI()
page = Environment(
    loader=DictLoader(
        {
            "page.html": "<!doctype html><html lang=zh-CN><head><title>{{ title }}</title></head>"
            "<body><h1>{{ title }}</h1><ul>{% for c in courses %}<li>{{ c.title }} "
            "({{ c.code }}) {{ c.seats }}</li>{% endfor %}</ul></body></html>"
        }
    ),
    autoescape=True,
).get_template("page.html")
COURSES = [{"title": f"课程 {n}", "code": f"C{n:03d}", "seats": 40} for n in range(12)]


@app.post("/bare/enrollments", status_code=201)
def enroll(body: Body) -> dict:
    with engine.begin() as connection:
        new_id = connection.execute(
            rows.insert()
            .values(
                course_code=body.course_code,
                name=body.name,
                id_number=body.id_number,
                mobile=body.mobile,
                company_uscc=body.company_uscc,
                consent=body.consent,
                created_at=datetime.now(UTC),
            )
            .returning(rows.c.id)
        ).scalar_one()
    return {"id": new_id, "status": "enrolled"}


@app.get("/bare/page")
def bare_page() -> HTMLResponse:
    return HTMLResponse(page.render(title="课程", courses=COURSES))
