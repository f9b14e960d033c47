import json
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, or_
from sqlmodel import Field, Session, SQLModel, col, select

from app import clock, logs
from app.audit import chain
from app.audit.models import AuditEvent
from app.auth.models import ApiToken, User
from app.fields import RowId

PAGE_SIZE = 50
# Keys whose values are personal data by name: left out of the page whatever they hold.
PERSONAL_KEYS = frozenset({"id_number", "mobile", "phone", "id_hash", "id_encrypted"})


def record(
    session: Session, actor: str, action: str, object_type: str, object_id, **detail
) -> None:
    session.info[chain.UNSEALED] = True  # sealed after the commit (app/audit/chain.py)
    session.add(
        AuditEvent(
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else "",
        )
    )


class AuditQuery(SQLModel):
    """The audit page's filters: who (an account, with the tokens it made), which university
    (its staff, its tokens, and what was done to it, its accounts or its tokens), what (an
    action, or all of a kind: "user" is every user.* action) and when (China's dates)."""

    user_id: RowId | None = None
    university_id: RowId | None = None
    action: str | None = Field(default=None, max_length=40)
    date_from: date | None = None
    date_to: date | None = None
    page: int = Field(default=1, ge=1, le=10_000)


def search(session: Session, query: AuditQuery) -> tuple[list[AuditEvent], bool]:
    """One page of events, newest first, and whether an older page follows."""
    statement = select(AuditEvent)
    if query.user_id is not None:
        made = select(ApiToken.id).where(ApiToken.created_by_id == query.user_id)
        actors = [f"user:{query.user_id}", *(f"token:{i}" for i in session.exec(made))]
        statement = statement.where(col(AuditEvent.actor).in_(actors))
    if query.university_id is not None:
        statement = statement.where(_of_university(session, query.university_id))
    if query.action:
        action = query.action.strip()
        statement = statement.where(
            or_(col(AuditEvent.action) == action, col(AuditEvent.action).startswith(action + "."))
        )
    if query.date_from:
        statement = statement.where(col(AuditEvent.at) >= _china_midnight(query.date_from))
    if query.date_to:
        until = _china_midnight(query.date_to + timedelta(days=1))
        statement = statement.where(col(AuditEvent.at) < until)
    rows = list(
        session.exec(
            statement.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
            .offset((query.page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
        )
    )
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def _china_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), clock.CHINA)


def _of_university(session: Session, university_id: int):
    staff = [
        str(i) for i in session.exec(select(User.id).where(User.university_id == university_id))
    ]
    tokens = [
        str(i)
        for i in session.exec(select(ApiToken.id).where(ApiToken.university_id == university_id))
    ]
    actors = [f"user:{i}" for i in staff] + [f"token:{i}" for i in tokens]
    return or_(
        col(AuditEvent.actor).in_(actors),
        and_(
            col(AuditEvent.object_type) == "university",
            col(AuditEvent.object_id) == str(university_id),
        ),
        and_(col(AuditEvent.object_type) == "user", col(AuditEvent.object_id).in_(staff)),
        and_(col(AuditEvent.object_type) == "api_token", col(AuditEvent.object_id).in_(tokens)),
    )


def shown_detail(event: AuditEvent) -> list[tuple[str, str]]:
    """An event's detail as the page shows it: (key, value) pairs with every ID number and
    mobile masked, wherever it appears (a revocation's reason is typed freely), and the keys
    that name personal data left out."""
    if not event.detail:
        return []
    try:
        detail = json.loads(event.detail)
    except ValueError:
        return [("", logs.mask(event.detail))]
    if not isinstance(detail, dict):
        detail = {"": detail}
    return [
        (logs.mask(str(key)), logs.mask(_text(value)))
        for key, value in detail.items()
        if str(key).lower() not in PERSONAL_KEYS
    ]


def _text(value) -> str:
    if value is None:
        return "—"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def actor_names(session: Session, events: list[AuditEvent]) -> dict[str, str]:
    """For each "user:N" and "token:N" of these events: the account's email, the token's name."""
    users = {int(a[5:]) for e in events if (a := e.actor).startswith("user:") and a[5:].isdigit()}
    users |= {int(e.object_id) for e in events if e.object_type == "user" and e.object_id.isdigit()}
    tokens = {int(a[6:]) for e in events if (a := e.actor).startswith("token:") and a[6:].isdigit()}
    names: dict[str, str] = {}
    if users:
        for user in session.exec(select(User).where(col(User.id).in_(users))):
            names[f"user:{user.id}"] = user.email
    if tokens:
        for token in session.exec(select(ApiToken).where(col(ApiToken.id).in_(tokens))):
            names[f"token:{token.id}"] = token.name
    return names
