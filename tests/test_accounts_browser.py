"""Accounts in the browser (issue 9): universities and staff made by an administrator,
password resets that must be followed by a change, own password changes, deactivation that
ends sessions and tokens at once, and API tokens listed, made (shown once) and revoked."""

import re

from sqlmodel import select

from app.audit.models import AuditEvent
from app.auth import service as auth
from app.auth.models import ApiToken, User
from tests.factories import PASSWORD, csrf_of, login, make_user
from tests.html import field_errors, flash, page, text, texts

NEW_PASSWORD = "a brand new passphrase"


def _post(persona, path, data, page_with_form, **kw):
    token = csrf_of(persona, page_with_form)
    return persona.post(path, data={**data, "csrf_token": token}, **kw)


def _actions(session, object_type: str | None = None) -> list[str]:
    session.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    return [e.action for e in session.exec(query)]


def _account(session, user_id: int) -> User:
    session.expire_all()
    return session.get(User, user_id)


def _log_in(client, email, password):
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )


def _api(client, secret):
    # A job that does not exist: 404 for a valid token, 401 for a refused one.
    return client.get("/api/v1/jobs/999", headers={"Authorization": f"Bearer {secret}"})


# Universities and staff accounts


def test_admin_creates_a_university_then_its_staff_who_can_log_in(admin, session, new_client):
    created = _post(
        admin,
        "/admin/universities",
        {"code": "ytu", "name": "烟台大学", "city_code": "3706"},
        "/admin",
    )
    assert created.status_code == 200 and flash(created) == "高校已添加"
    university_id = re.search(r'<option value="(\d+)"[^>]*>烟台大学', created.text).group(1)
    made = _post(
        admin,
        "/admin/users",
        {"email": "Li.Ming@YTU.edu.cn", "password": PASSWORD, "university_id": university_id},
        "/admin",
    )
    assert made.status_code == 200 and "li.ming@ytu.edu.cn" in texts(made, "table.accounts td")
    staff = new_client()
    assert _log_in(staff, "li.ming@ytu.edu.cn", PASSWORD).headers["location"] == "/staff"
    assert {"university.create", "user.create"} <= set(_actions(session))


def test_a_university_code_that_exists_is_shown_beside_the_code(admin, university_a):
    response = _post(
        admin,
        "/admin/universities",
        {"code": university_a.code.lower(), "name": "另一所大学", "city_code": "3701"},
        "/admin",
    )
    assert response.status_code == 422
    assert field_errors(response) == {"code": "该高校代码已存在"}
    assert page(response).select_one("#f-name")["value"] == "另一所大学"


def test_a_staff_email_that_exists_or_a_short_password_is_shown_beside_the_field(
    admin, staff_a, university_a
):
    taken = _post(
        admin,
        "/admin/users",
        {
            "email": staff_a.user.email.upper(),
            "password": PASSWORD,
            "university_id": university_a.id,
        },
        "/admin",
    )
    assert taken.status_code == 422 and list(field_errors(taken)) == ["email"]
    assert field_errors(taken)["email"] == "该邮箱已被其他账号使用"
    short = _post(
        admin,
        "/admin/users",
        {"email": "new@sdut.edu.cn", "password": "short", "university_id": university_a.id},
        "/admin",
    )
    assert short.status_code == 422 and field_errors(short) == {"password": "请至少输入 10 个字符"}
    assert 'value="short"' not in short.text  # a password is never typed back into a page


# A reset password must be changed at the next login


def test_reset_password_ends_sessions_and_forces_a_change_before_anything_else(
    admin, staff_a, session, new_client
):
    old_cookie = staff_a.cookies.get("dandelion_session")
    reset = _post(
        admin,
        f"/admin/accounts/{staff_a.user.id}/password",
        {"password": "temporary-123"},
        f"/admin/accounts/{staff_a.user.id}",
    )
    assert reset.status_code == 200 and "新密码" in flash(reset)
    assert text(reset, "dd.state") == "须设置新密码"
    # The login the staff member had is over.
    assert staff_a.get("/staff", follow_redirects=False).headers["location"].startswith("/login")
    browser = new_client()
    browser.cookies.set("dandelion_session", old_cookie)
    assert browser.get("/staff", follow_redirects=False).status_code == 303
    assert _log_in(browser, staff_a.user.email, PASSWORD).status_code == 400  # the old password

    logged_in = _log_in(browser, staff_a.user.email, "temporary-123")
    assert logged_in.headers["location"] == "/account"
    for path in ("/staff", "/staff/uploads", "/tokens", "/courses", "/jobs"):
        refused = browser.get(path, follow_redirects=False)
        assert (refused.status_code, refused.headers["location"]) == (303, "/account"), path
    account = browser.get("/account")
    assert account.status_code == 200 and "管理员已重置您的密码" in text(account, "p.notice")

    wrong = _post(
        browser,
        "/account/password",
        {
            "current_password": "not-the-temporary",
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
        "/account",
    )
    assert wrong.status_code == 422 and field_errors(wrong) == {
        "current_password": "这不是您当前的密码"
    }
    same = _post(
        browser,
        "/account/password",
        {
            "current_password": "temporary-123",
            "new_password": "temporary-123",
            "new_password_again": "temporary-123",
        },
        "/account",
    )
    assert list(field_errors(same)) == ["new_password"]
    changed = _post(
        browser,
        "/account/password",
        {
            "current_password": "temporary-123",
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
        "/account",
        follow_redirects=False,
    )
    assert (changed.status_code, changed.headers["location"]) == (303, "/staff")
    assert browser.get("/staff").status_code == 200
    assert not _account(session, staff_a.user.id).must_change_password
    actions = _actions(session, "user")
    assert actions.index("user.password_reset") < actions.index("user.password_change")


def test_a_user_who_must_change_the_password_can_still_log_out(admin, staff_a, new_client):
    _post(
        admin,
        f"/admin/accounts/{staff_a.user.id}/password",
        {"password": "temporary-123"},
        f"/admin/accounts/{staff_a.user.id}",
    )
    browser = new_client()
    _log_in(browser, staff_a.user.email, "temporary-123")
    out = _post(browser, "/logout", {}, "/account", follow_redirects=False)
    assert out.status_code == 303 and browser.cookies.get("dandelion_session") is None


def test_a_reset_password_that_is_too_short_is_shown_beside_the_field(admin, staff_a, session):
    response = _post(
        admin,
        f"/admin/accounts/{staff_a.user.id}/password",
        {"password": "tiny"},
        f"/admin/accounts/{staff_a.user.id}",
    )
    assert response.status_code == 422 and list(field_errors(response)) == ["password"]
    assert not _account(session, staff_a.user.id).must_change_password
    assert staff_a.get("/staff").status_code == 200  # nothing happened to their login


def test_an_administrator_does_not_reset_or_deactivate_their_own_account(admin, session):
    own = f"/admin/accounts/{admin.user.id}"
    assert page(admin.get(own)).select_one("form[action$='/deactivate']") is None
    refused = _post(admin, f"{own}/deactivate", {}, "/admin/accounts")
    assert refused.status_code == 409 and "不能停用自己的账号" in text(refused, "#e-state")
    reset = _post(admin, f"{own}/password", {"password": "temporary-123"}, "/admin/accounts")
    assert reset.status_code == 422 and "“我的账号”页" in text(reset, "#e-state")
    assert _account(session, admin.user.id).is_active
    assert admin.get("/admin").status_code == 200


# Changing one's own password


def test_changing_the_password_ends_the_other_sessions_and_rotates_this_one(
    session, new_client, university_a
):
    user = make_user(session, university=university_a)
    here, elsewhere = new_client(), new_client()
    login(here, user)
    login(elsewhere, user)
    before = here.cookies.get("dandelion_session")
    response = _post(
        here,
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
        "/account",
        follow_redirects=False,
    )
    assert response.status_code == 303
    after = here.cookies.get("dandelion_session")
    assert after and after != before
    assert here.get("/staff").status_code == 200
    assert elsewhere.get("/staff", follow_redirects=False).headers["location"].startswith("/login")
    stolen = new_client()
    stolen.cookies.set("dandelion_session", before)
    assert stolen.get("/staff", follow_redirects=False).status_code == 303
    assert _log_in(new_client(), user.email, NEW_PASSWORD).status_code == 303
    assert "user.password_change" in _actions(session)


def test_password_change_mistakes_are_shown_beside_their_fields(staff_a, session):
    def change(current, new, again):
        return _post(
            staff_a,
            "/account/password",
            {"current_password": current, "new_password": new, "new_password_again": again},
            "/account",
        )

    assert field_errors(change("wrong one!", NEW_PASSWORD, NEW_PASSWORD)) == {
        "current_password": "这不是您当前的密码"
    }
    assert field_errors(change(PASSWORD, "short", "short")) == {
        "new_password": "请至少输入 10 个字符"
    }
    mismatch = change(PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!")
    assert mismatch.status_code == 422 and list(field_errors(mismatch)) == ["new_password_again"]
    assert list(field_errors(change("", "", ""))) == [
        "current_password",
        "new_password",
        "new_password_again",
    ]
    assert "user.password_change" not in _actions(session)
    assert staff_a.get("/staff").status_code == 200


def test_wrong_current_passwords_are_throttled(staff_a):
    for _ in range(10):
        _post(
            staff_a,
            "/account/password",
            {
                "current_password": "guess-guess",
                "new_password": NEW_PASSWORD,
                "new_password_again": NEW_PASSWORD,
            },
            "/account",
        )
    blocked = _post(
        staff_a,
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
        "/account",
    )
    assert blocked.status_code == 429


# Deactivation


def test_deactivation_ends_the_sessions_and_tokens_of_that_account_at_once(
    admin, staff_a, session, new_client, university_a
):
    colleague = make_user(session, university=university_a)
    _, own_secret = auth.create_token(
        session,
        name="mine",
        role="university",
        university_id=university_a.id,
        created_by=staff_a.user,
    )
    _, colleague_secret = auth.create_token(
        session,
        name="theirs",
        role="university",
        university_id=university_a.id,
        created_by=colleague,
    )
    _, cli_secret = auth.create_token(
        session, name="cli", role="university", university_id=university_a.id
    )
    session.commit()
    api = new_client()
    assert _api(api, own_secret).status_code == 404

    done = _post(
        admin,
        f"/admin/accounts/{staff_a.user.id}/deactivate",
        {},
        f"/admin/accounts/{staff_a.user.id}",
    )
    assert done.status_code == 200 and text(done, "dd.state") == "已停用"
    # The old cookie and the token are refused on the very next request.
    assert staff_a.get("/staff", follow_redirects=False).headers["location"].startswith("/login")
    refused = _api(api, own_secret)
    assert refused.status_code == 401 and refused.json() == {"detail": "访问令牌无效"}
    assert _api(api, colleague_secret).status_code == 404  # a colleague's token is theirs
    assert _api(api, cli_secret).status_code == 404
    assert _log_in(new_client(), staff_a.user.email, PASSWORD).status_code == 400
    again = _post(admin, f"/admin/accounts/{staff_a.user.id}/deactivate", {}, "/admin/accounts")
    assert again.status_code == 409 and text(again, "#e-state")

    back = _post(
        admin,
        f"/admin/accounts/{staff_a.user.id}/reactivate",
        {},
        f"/admin/accounts/{staff_a.user.id}",
    )
    assert back.status_code == 200 and text(back, "dd.state") == "正常"
    assert _log_in(new_client(), staff_a.user.email, PASSWORD).status_code == 303
    assert _api(api, own_secret).status_code == 401  # revoked for good, not just suspended
    assert {"user.deactivate", "user.reactivate"} <= set(_actions(session, "user"))


def test_a_token_whose_maker_was_deactivated_elsewhere_is_refused(session, client, university_a):
    maker = make_user(session, university=university_a)
    _, secret = auth.create_token(
        session, name="x", role="university", university_id=university_a.id, created_by=maker
    )
    maker.is_active = False  # by hand in the database, without revoking anything
    session.add(maker)
    session.commit()
    assert _api(client, secret).status_code == 401


def test_account_pages_are_for_administrators_and_need_csrf(staff_a, admin, anonymous):
    for path in ("/admin/accounts", f"/admin/accounts/{staff_a.user.id}", "/audit"):
        assert staff_a.get(path).status_code == 403
        assert anonymous.get(path, follow_redirects=False).status_code == 303
    refused = staff_a.post(
        f"/admin/accounts/{admin.user.id}/deactivate", data={"csrf_token": staff_a.csrf("/staff")}
    )
    assert refused.status_code == 403
    for path in (
        f"/admin/accounts/{staff_a.user.id}/deactivate",
        f"/admin/accounts/{staff_a.user.id}/reactivate",
        f"/admin/accounts/{staff_a.user.id}/password",
        "/tokens",
        "/account/password",
    ):
        assert admin.post(path, data={"password": "temporary-123"}).status_code == 403, path
    assert admin.get("/admin/accounts/99999999999").status_code == 422
    assert admin.get("/admin/accounts/424242").status_code == 404
    assert staff_a.get("/staff").status_code == 200


# API tokens in the browser


def test_staff_create_a_token_shown_once_and_it_acts_for_their_university(
    staff_a, staff_b, session, new_client, university_a
):
    created = _post(staff_a, "/tokens", {"name": "教务处夜间上传"}, "/tokens")
    assert created.status_code == 201
    secret = text(created, "#new-token code")
    assert secret.startswith("dl_")
    token = session.exec(select(ApiToken).where(ApiToken.name == "教务处夜间上传")).one()
    assert (token.role, token.university_id, token.created_by_id) == (
        "university",
        university_a.id,
        staff_a.user.id,
    )
    listed = staff_a.get("/tokens")
    assert secret not in listed.text and "教务处夜间上传" in texts(listed, "table.tokens td")
    assert _api(new_client(), secret).status_code == 404
    # Another university's staff neither see it nor revoke it.
    assert "教务处夜间上传" not in staff_b.get("/tokens").text
    assert _post(staff_b, f"/tokens/{token.id}/revoke", {}, "/tokens").status_code == 404
    assert _api(new_client(), secret).status_code == 404

    revoked = _post(staff_a, f"/tokens/{token.id}/revoke", {}, "/tokens")
    assert revoked.status_code == 200 and "已撤销" in flash(revoked)
    assert _api(new_client(), secret).status_code == 401
    assert _actions(session, "api_token") == ["token.create", "token.revoke"]


def test_staff_cannot_make_a_token_for_another_university(staff_a, university_b, session):
    _post(staff_a, "/tokens", {"name": "x", "university_id": university_b.id}, "/tokens")
    token = session.exec(select(ApiToken)).one()
    assert token.university_id == staff_a.university.id and token.role == "university"


def test_administrators_see_every_token_and_make_alliance_or_university_tokens(
    admin, staff_a, session, university_a, new_client
):
    auth.create_token(session, name="cli-made", role="university", university_id=university_a.id)
    session.commit()
    _post(staff_a, "/tokens", {"name": "staff-made"}, "/tokens")
    listed = admin.get("/tokens")
    assert {"cli-made", "staff-made"} <= set(texts(listed, "table.tokens td"))
    assert "命令行" in texts(listed, "table.tokens td")

    alliance = _post(admin, "/tokens", {"name": "统计", "university_id": ""}, "/tokens")
    assert alliance.status_code == 201
    made = session.exec(select(ApiToken).where(ApiToken.name == "统计")).one()
    assert made.role == "admin" and made.university_id is None
    assert _api(new_client(), text(alliance, "#new-token code")).status_code == 404
    for_university = _post(
        admin, "/tokens", {"name": "代建", "university_id": university_a.id}, "/tokens"
    )
    assert for_university.status_code == 201
    made = session.exec(select(ApiToken).where(ApiToken.name == "代建")).one()
    assert (made.role, made.university_id) == ("university", university_a.id)


def test_token_form_mistakes_are_shown_beside_their_fields(admin, session):
    blank = _post(admin, "/tokens", {"name": "   "}, "/tokens")
    assert blank.status_code == 422 and list(field_errors(blank)) == ["name"]
    unknown = _post(admin, "/tokens", {"name": "x", "university_id": "424242"}, "/tokens")
    assert unknown.status_code == 422 and field_errors(unknown) == {"university_id": "请选择高校"}
    long = _post(admin, "/tokens", {"name": "x" * 101}, "/tokens")
    assert long.status_code == 422 and 'value="' + "x" * 101 in long.text
    assert session.exec(select(ApiToken)).all() == []
    assert "#new-token" not in blank.text and page(blank).select_one("#new-token") is None


def test_revoking_twice_says_so(staff_a, session, university_a):
    token, _ = auth.create_token(
        session, name="old", role="university", university_id=university_a.id
    )
    session.commit()
    _post(staff_a, f"/tokens/{token.id}/revoke", {}, "/tokens")
    again = _post(staff_a, f"/tokens/{token.id}/revoke", {}, "/tokens")
    assert again.status_code == 200 and "此前已" in flash(again)
    assert _actions(session, "api_token").count("token.revoke") == 1


def test_the_cli_still_makes_tokens_and_they_are_audited(settings, session):
    from tests.conftest import run_cli

    result = run_cli(settings, ["token", "create", "--admin", "--name", "nightly"])
    assert result.exit_code == 0
    token = session.exec(select(ApiToken)).one()
    assert token.created_by_id is None
    assert _actions(session) == ["token.create"]


def test_a_password_reset_also_revokes_the_tokens_the_account_made(
    admin, staff_a, session, new_client, university_a
):
    """Whoever knew the old password could have made tokens with it: they stop too."""
    _, secret = auth.create_token(
        session,
        name="mine",
        role="university",
        university_id=university_a.id,
        created_by=staff_a.user,
    )
    session.commit()
    api = new_client()
    assert _api(api, secret).status_code == 404
    _post(
        admin,
        f"/admin/accounts/{staff_a.user.id}/password",
        {"password": "temporary-123"},
        f"/admin/accounts/{staff_a.user.id}",
    )
    assert _api(api, secret).status_code == 401


def test_a_staff_account_without_a_university_gets_no_alliance_token(
    session, new_client, university_a
):
    orphan = make_user(session, university=university_a)
    orphan.university_id = None  # its university gone, as the account pages never allow
    session.add(orphan)
    session.commit()
    browser = new_client()
    login(browser, orphan)
    answer = browser.post("/tokens", data={"name": "x", "csrf_token": csrf_of(browser, "/tokens")})
    assert answer.status_code == 422
    assert session.exec(select(ApiToken)).first() is None
