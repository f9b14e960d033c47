import json

from sqlmodel import Session

from app.audit.models import AuditEvent


def record(
    session: Session, actor: str, action: str, object_type: str, object_id, **detail
) -> None:
    session.add(
        AuditEvent(
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else "",
        )
    )
