"""Password rules wherever a password is chosen: length, not a common password, not the email."""

import re

import pytest

from tests.conftest import run_cli
from tests.html import field_errors


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "至少"),
        ("1234567890", "最常见"),
        ("iloveyou2026!", "最常见"),  # a common word with digits tacked on
        ("wang.fang@qlu.edu.cn", "邮箱"),
        ("Wang.Fang123", "邮箱"),
    ],
)
def test_a_new_staff_password_is_checked_beside_its_field(admin, university_a, password, message):
    refused = admin.post(
        "/admin/users",
        data={
            "email": "wang.fang@qlu.edu.cn",
            "password": password,
            "university_id": university_a.id,
            "csrf_token": admin.csrf("/admin"),
        },
    )
    assert refused.status_code in (400, 422)
    assert message in field_errors(refused)["password"]
    # A password is never typed back into the page.
    assert re.search(r'id="f-password" name="password" type="password" value=""', refused.text)


def test_ones_own_new_password_is_checked_beside_its_field(staff_a):
    refused = staff_a.post(
        "/account/password",
        data={
            "current_password": "correct horse battery",
            "new_password": "password123",
            "new_password_again": "password123",
            "csrf_token": staff_a.csrf("/account"),
        },
    )
    assert refused.status_code == 422
    assert "最常见" in field_errors(refused)["new_password"]


def test_a_reset_password_is_checked_too(admin, staff_a):
    refused = admin.post(
        f"/admin/accounts/{staff_a.user.id}/password",
        data={"password": "qwertyuiop", "csrf_token": admin.csrf("/admin/accounts")},
    )
    assert refused.status_code == 422
    assert "最常见" in field_errors(refused)["password"]


def test_a_good_password_is_accepted(admin, university_a):
    made = admin.post(
        "/admin/users",
        data={
            "email": "wang.fang@qlu.edu.cn",
            "password": "纺织 digital 2026 spring",
            "university_id": university_a.id,
            "csrf_token": admin.csrf("/admin"),
        },
        follow_redirects=False,
    )
    assert made.status_code == 303


def test_the_command_line_refuses_a_common_password(settings):
    common = ["admin", "create", "--email", "root@dandelion.local", "--password", "password1234"]
    assert run_cli(settings, common).exit_code == 1
    good = ["admin", "create", "--email", "root@dandelion.local", "--password", "纺织 spring 2026"]
    assert run_cli(settings, good).exit_code == 0
