from sqlmodel import Session, col, select

from app.audit import service as audit
from app.db import add_or_get
from app.errors import Invalid
from app.i18n import N_
from app.security import keys_of
from app.text import masked
from app.trainees.models import Trainee


def lookup_hash(session: Session, id_number: str) -> str:
    return keys_of(session).lookup_hash(id_number)


def get_by_id_number(session: Session, id_number: str) -> Trainee | None:
    return session.exec(
        select(Trainee).where(col(Trainee.id_hash) == lookup_hash(session, id_number))
    ).first()


class NameMismatch(Invalid):
    """The ID number is known under another name; callers limit how often this may be tried."""


def check_name(trainee: Trainee, name: str) -> None:
    """Someone who knows an ID number must not be able to rename its holder."""
    # casefold: "Wang Xiaoming" and "wang xiaoming" are one person; Chinese has no case.
    if trainee.name.casefold() != name.casefold():
        raise NameMismatch(
            [
                (
                    "name",
                    N_(
                        "This ID number is registered under another name. If your "
                        "name has changed, contact the university."
                    ),
                )
            ]
        )


def register(session: Session, *, id_number: str, name: str) -> Trainee:
    k = keys_of(session)
    trainee = Trainee(
        id_hash=k.lookup_hash(id_number),
        id_encrypted=k.encrypt(id_number),
        id_masked=masked(id_number),
        name=name,
    )
    return add_or_get(session, trainee, lambda: get_by_id_number(session, id_number))


def correct_name(session: Session, *, id_number: str, name: str, actor: str) -> Trainee:
    """An administrator corrects the name an ID number is registered under (after checking the
    person's identity). Certificates already issued keep the name they were printed with."""
    trainee = get_by_id_number(session, id_number)
    if trainee is None:
        raise Invalid([("id_number", N_("No trainee is registered with this ID number"))])
    trainee.name = name
    session.add(trainee)
    audit.record(session, actor, "trainee.correct_name", "trainee", trainee.id)
    return trainee
