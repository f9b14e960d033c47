from sqlmodel import Field, SQLModel


class City(SQLModel, table=True):
    """Shandong's 16 prefecture-level cities: reference data seeded by a migration."""

    code: str = Field(primary_key=True, max_length=4)
    name: str = Field(max_length=20)
    name_en: str = Field(max_length=40)
