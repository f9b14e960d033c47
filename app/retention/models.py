from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from app.db import utcnow


class CryptoState(SQLModel, table=True):
    """The algorithm family every stored secret and lookup hash is under (app.security):
    one row, written by migration 0020 ("standard", all there was before it) and by
    `dandelion crypto migrate` once it has finished. The app compares it with
    DANDELION_CRYPTO at start."""

    __tablename__ = "crypto_state"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: int = Field(default=1, primary_key=True)
    algorithm: str = Field(max_length=10)
    changed_at: datetime = Field(default_factory=utcnow)
