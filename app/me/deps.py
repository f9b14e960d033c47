"""Who is asking on a trainee's pages: the trainee of the session cookie, never a staff login."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from app.auth.deps import LoginRequired
from app.db import SessionDep
from app.i18n import N_
from app.me import signin
from app.me.models import TraineeSession
from app.trainees.models import Trainee

TRAINEE_COOKIE = "dandelion_trainee"
CHALLENGE_COOKIE = "dandelion_trainee_code"


class SignInRequired(LoginRequired):
    page = "/me/sign-in"


@dataclass(frozen=True)
class SignedIn:
    trainee: Trainee
    row: TraineeSession

    @property
    def actor(self) -> str:
        return signin.actor_of(self.trainee)


def load_trainee(request: Request, session: SessionDep) -> SignedIn | None:
    token = request.cookies.get(TRAINEE_COOKIE)
    if not token:
        return None
    idle = request.app.state.settings.session_idle_minutes
    found = signin.session_for(session, token, idle_minutes=idle)
    return SignedIn(*found) if found else None


def require_trainee(signed: Annotated[SignedIn | None, Depends(load_trainee)]) -> SignedIn:
    if signed is None:
        raise SignInRequired(N_("Please sign in"))
    return signed


CurrentTrainee = Annotated[SignedIn, Depends(require_trainee)]
MaybeTrainee = Annotated[SignedIn | None, Depends(load_trainee)]
