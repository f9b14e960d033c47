"""contact details per enrollment

Mobile and email move from the trainee to each enrollment, as given with it: an anonymous
enrollment form must not be able to overwrite what earlier enrollments rely on.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 16:29:20.056149
"""

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COPY_TO_ENROLLMENT = """
UPDATE enrollment SET
  mobile_encrypted = (SELECT t.mobile_encrypted FROM trainee t WHERE t.id = enrollment.trainee_id),
  mobile_masked = (SELECT t.mobile_masked FROM trainee t WHERE t.id = enrollment.trainee_id),
  email_encrypted = (SELECT t.email_encrypted FROM trainee t WHERE t.id = enrollment.trainee_id)
"""

# The newest enrollment's contact goes back to the trainee.
COPY_TO_TRAINEE = """
UPDATE trainee SET
  mobile_encrypted = COALESCE((SELECT e.mobile_encrypted FROM enrollment e
                               WHERE e.trainee_id = trainee.id ORDER BY e.id DESC LIMIT 1), ''),
  mobile_masked = COALESCE((SELECT e.mobile_masked FROM enrollment e
                            WHERE e.trainee_id = trainee.id ORDER BY e.id DESC LIMIT 1), ''),
  email_encrypted = (SELECT e.email_encrypted FROM enrollment e
                     WHERE e.trainee_id = trainee.id ORDER BY e.id DESC LIMIT 1)
"""


def upgrade() -> None:
    with op.batch_alter_table("enrollment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "mobile_encrypted", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("mobile_masked", sqlmodel.sql.sqltypes.AutoString(length=11), nullable=True)
        )
        batch_op.add_column(sa.Column("email_encrypted", sa.Text(), nullable=True))
    op.execute(COPY_TO_ENROLLMENT)
    with op.batch_alter_table("enrollment", schema=None) as batch_op:
        batch_op.alter_column(
            "mobile_encrypted",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=200),
            nullable=False,
        )
        batch_op.alter_column(
            "mobile_masked",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=11),
            nullable=False,
        )
    with op.batch_alter_table("trainee", schema=None) as batch_op:
        batch_op.drop_column("mobile_masked")
        batch_op.drop_column("email_encrypted")
        batch_op.drop_column("mobile_encrypted")


def downgrade() -> None:
    with op.batch_alter_table("trainee", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mobile_encrypted", sa.VARCHAR(length=200), nullable=True))
        batch_op.add_column(sa.Column("email_encrypted", sa.VARCHAR(length=400), nullable=True))
        batch_op.add_column(sa.Column("mobile_masked", sa.VARCHAR(length=11), nullable=True))
    op.execute(COPY_TO_TRAINEE)
    with op.batch_alter_table("trainee", schema=None) as batch_op:
        batch_op.alter_column(
            "mobile_encrypted", existing_type=sa.VARCHAR(length=200), nullable=False
        )
        batch_op.alter_column("mobile_masked", existing_type=sa.VARCHAR(length=11), nullable=False)
    with op.batch_alter_table("enrollment", schema=None) as batch_op:
        batch_op.drop_column("email_encrypted")
        batch_op.drop_column("mobile_masked")
        batch_op.drop_column("mobile_encrypted")
