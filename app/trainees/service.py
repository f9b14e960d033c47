from sqlmodel import Session, select

from app.db import add_or_get, utcnow
from app.security import keys
from app.trainees import validators
from app.trainees.models import Trainee


def lookup_hash(id_number: str) -> str:
    return keys().lookup_hash(id_number)


def get_by_id_number(session: Session, id_number: str) -> Trainee | None:
    return session.exec(select(Trainee).where(Trainee.id_hash == lookup_hash(id_number))).first()


def upsert(session: Session, *, id_number: str, name: str, mobile: str,
           email: str | None = None) -> Trainee:
    """The person behind an ID number; contact details are refreshed from their latest form."""
    k = keys()
    trainee = get_by_id_number(session, id_number)
    if trainee is None:
        trainee = Trainee(id_hash=k.lookup_hash(id_number), id_encrypted=k.encrypt(id_number),
                          id_masked=validators.mask_id_number(id_number), name=name,
                          mobile_encrypted="", mobile_masked="")
        _set_contact(trainee, mobile, email)
        return add_or_get(session, trainee, lambda: get_by_id_number(session, id_number))
    trainee.name = name
    _set_contact(trainee, mobile, email)
    trainee.updated_at = utcnow()
    session.add(trainee)
    return trainee


def _set_contact(trainee: Trainee, mobile: str, email: str | None) -> None:
    k = keys()
    trainee.mobile_encrypted = k.encrypt(mobile)
    trainee.mobile_masked = validators.mask_mobile(mobile)
    trainee.email_encrypted = k.encrypt(email) if email else None


def mobile_of(trainee: Trainee) -> str:
    return keys().decrypt(trainee.mobile_encrypted)
