"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 15:45:32.493892
"""

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Shandong's 16 prefecture-level cities (administrative division codes, GB/T 2260).
SHANDONG_CITIES = [
    ("3701", "济南", "Jinan"),
    ("3702", "青岛", "Qingdao"),
    ("3703", "淄博", "Zibo"),
    ("3704", "枣庄", "Zaozhuang"),
    ("3705", "东营", "Dongying"),
    ("3706", "烟台", "Yantai"),
    ("3707", "潍坊", "Weifang"),
    ("3708", "济宁", "Jining"),
    ("3709", "泰安", "Tai'an"),
    ("3710", "威海", "Weihai"),
    ("3711", "日照", "Rizhao"),
    ("3713", "临沂", "Linyi"),
    ("3714", "德州", "Dezhou"),
    ("3715", "聊城", "Liaocheng"),
    ("3716", "滨州", "Binzhou"),
    ("3717", "菏泽", "Heze"),
]


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("object_type", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("object_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_at"), ["at"], unique=False)

    op.create_table(
        "city",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("name_en", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_city")),
    )
    op.create_table(
        "trainee",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id_encrypted", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("id_masked", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("mobile_encrypted", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("mobile_masked", sqlmodel.sql.sqltypes.AutoString(length=11), nullable=False),
        sa.Column("email_encrypted", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trainee")),
    )
    with op.batch_alter_table("trainee", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trainee_id_hash"), ["id_hash"], unique=True)

    op.create_table(
        "company",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uscc", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("city_code", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=True),
        sa.Column("cluster", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_code"], ["city.code"], name=op.f("fk_company_city_code_city")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company")),
    )
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_company_uscc"), ["uscc"], unique=True)

    op.create_table(
        "university",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("city_code", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_code"], ["city.code"], name=op.f("fk_university_city_code_city")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_university")),
    )
    with op.batch_alter_table("university", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_university_code"), ["code"], unique=True)

    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("university_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["university_id"], ["university.id"], name=op.f("fk_api_token_university_id_university")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_token_hash"), ["token_hash"], unique=True)

    op.create_table(
        "course",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("hours", sa.Numeric(precision=6, scale=1), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("university_id", sa.Integer(), nullable=False),
        sa.Column("seats_taken", sa.Integer(), nullable=False),
        sa.Column("enroll_closes_on", sa.Date(), nullable=True),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["university_id"], ["university.id"], name=op.f("fk_course_university_id_university")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course")),
    )
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_course_code"), ["code"], unique=True)
        batch_op.create_index(
            batch_op.f("ix_course_university_id"), ["university_id"], unique=False
        )

    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("university_id", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_login_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["university_id"], ["university.id"], name=op.f("fk_user_university_id_university")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user")),
    )
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_email"), ["email"], unique=True)
        batch_op.create_index(batch_op.f("ix_user_university_id"), ["university_id"], unique=False)

    op.create_table(
        "completion_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("university_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("api_token_id", sa.Integer(), nullable=True),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("format", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("encoding", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_token_id"],
            ["api_token.id"],
            name=op.f("fk_completion_batch_api_token_id_api_token"),
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["university.id"],
            name=op.f("fk_completion_batch_university_id_university"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_completion_batch_user_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_completion_batch")),
    )
    with op.batch_alter_table("completion_batch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_completion_batch_sha256"), ["sha256"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_completion_batch_university_id"), ["university_id"], unique=False
        )

    op.create_table(
        "enrollment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrollment_no", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("trainee_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("consent_version", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("consent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("consent_channel", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("share_with_employer", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_enrollment_company_id_company")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_enrollment_course_id_course")
        ),
        sa.ForeignKeyConstraint(
            ["trainee_id"], ["trainee.id"], name=op.f("fk_enrollment_trainee_id_trainee")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment")),
        sa.UniqueConstraint(
            "trainee_id", "course_id", name=op.f("uq_enrollment_trainee_id_course_id")
        ),
    )
    with op.batch_alter_table("enrollment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrollment_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_enrollment_course_id"), ["course_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_enrollment_enrollment_no"), ["enrollment_no"], unique=True
        )
        batch_op.create_index(batch_op.f("ix_enrollment_trainee_id"), ["trainee_id"], unique=False)

    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_user_session_user_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
    )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_session_token_hash"), ["token_hash"], unique=True)
        batch_op.create_index(batch_op.f("ix_user_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "completion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("university_id", sa.Integer(), nullable=False),
        sa.Column("trainee_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("hours", sa.Numeric(precision=6, scale=1), nullable=False),
        sa.Column("score", sa.Numeric(precision=5, scale=1), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["completion_batch.id"],
            name=op.f("fk_completion_batch_id_completion_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_completion_company_id_company")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_completion_course_id_course")
        ),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollment.id"],
            name=op.f("fk_completion_enrollment_id_enrollment"),
        ),
        sa.ForeignKeyConstraint(
            ["trainee_id"], ["trainee.id"], name=op.f("fk_completion_trainee_id_trainee")
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["university.id"],
            name=op.f("fk_completion_university_id_university"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_completion")),
        sa.UniqueConstraint("enrollment_id", name=op.f("uq_completion_enrollment_id")),
    )
    with op.batch_alter_table("completion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_completion_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_completion_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_completion_course_id"), ["course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_completion_trainee_id"), ["trainee_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_completion_university_id"), ["university_id"], unique=False
        )

    op.create_table(
        "certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("completion_id", sa.Integer(), nullable=False),
        sa.Column("university_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("holder_name", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("course_code", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("course_title", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("university_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("hours", sa.Numeric(precision=6, scale=1), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("issued_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("signature", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("pdf_path", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("pdf_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("revoke_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["completion_id"],
            ["completion.id"],
            name=op.f("fk_certificate_completion_id_completion"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["course.id"], name=op.f("fk_certificate_course_id_course")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["certificate.id"],
            name=op.f("fk_certificate_supersedes_id_certificate"),
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["university.id"],
            name=op.f("fk_certificate_university_id_university"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate")),
    )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certificate_completion_id"), ["completion_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_certificate_course_id"), ["course_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificate_serial"), ["serial"], unique=True)
        batch_op.create_index(
            batch_op.f("ix_certificate_university_id"), ["university_id"], unique=False
        )

    city = sa.table("city", sa.column("code"), sa.column("name"), sa.column("name_en"))
    op.bulk_insert(city, [{"code": c, "name": n, "name_en": e} for c, n, e in SHANDONG_CITIES])


def downgrade() -> None:
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_university_id"))
        batch_op.drop_index(batch_op.f("ix_certificate_serial"))
        batch_op.drop_index(batch_op.f("ix_certificate_course_id"))
        batch_op.drop_index(batch_op.f("ix_certificate_completion_id"))

    op.drop_table("certificate")
    with op.batch_alter_table("completion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_completion_university_id"))
        batch_op.drop_index(batch_op.f("ix_completion_trainee_id"))
        batch_op.drop_index(batch_op.f("ix_completion_course_id"))
        batch_op.drop_index(batch_op.f("ix_completion_company_id"))
        batch_op.drop_index(batch_op.f("ix_completion_batch_id"))

    op.drop_table("completion")
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_session_user_id"))
        batch_op.drop_index(batch_op.f("ix_user_session_token_hash"))

    op.drop_table("user_session")
    with op.batch_alter_table("enrollment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrollment_trainee_id"))
        batch_op.drop_index(batch_op.f("ix_enrollment_enrollment_no"))
        batch_op.drop_index(batch_op.f("ix_enrollment_course_id"))
        batch_op.drop_index(batch_op.f("ix_enrollment_company_id"))

    op.drop_table("enrollment")
    with op.batch_alter_table("completion_batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_completion_batch_university_id"))
        batch_op.drop_index(batch_op.f("ix_completion_batch_sha256"))

    op.drop_table("completion_batch")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_university_id"))
        batch_op.drop_index(batch_op.f("ix_user_email"))

    op.drop_table("user")
    with op.batch_alter_table("course", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_university_id"))
        batch_op.drop_index(batch_op.f("ix_course_code"))

    op.drop_table("course")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_token_hash"))

    op.drop_table("api_token")
    with op.batch_alter_table("university", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_university_code"))

    op.drop_table("university")
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_uscc"))

    op.drop_table("company")
    with op.batch_alter_table("trainee", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trainee_id_hash"))

    op.drop_table("trainee")
    op.drop_table("city")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_at"))

    op.drop_table("audit_event")
