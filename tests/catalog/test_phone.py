"""The catalog on a 390-pixel phone, in a real browser: a one-line header whose menu folds,
a search for "数字化" in 潍坊, and the cards' facts in the order a trainee reads them."""

from playwright.sync_api import expect

from app.i18n import translations
from tests.browser.conftest import browser, live_server, page, phone  # noqa: F401 (fixtures)
from tests.factories import make_course, make_university


def zh(message: str) -> str:
    return translations("zh").gettext(message)


def _courses(session) -> None:
    weifang = make_university(session, code="WFU", name="潍坊学院", city_code="3707")
    jinan = make_university(session, code="QLU", name="齐鲁工业大学", city_code="3701")
    make_course(session, weifang, code="WF-DX", title="纺织企业数字化转型", mode="mixed")
    make_course(session, weifang, code="WF-ZZ", title="针织工艺基础")
    make_course(session, jinan, code="JN-DX", title="服装数字化设计")


def test_a_trainee_on_a_phone_searches_in_weifang(live_server, phone, session, tmp_path):  # noqa: F811
    _courses(session)
    phone.goto(f"{live_server}/courses")

    header = phone.locator("header.site").bounding_box()
    assert header and header["height"] <= 844 / 8, f"the header takes {header['height']}px"
    expect(phone.get_by_role("link", name=zh("Staff login"))).to_be_hidden()
    phone.locator("details.menu > summary").click()
    expect(phone.get_by_role("link", name=zh("Staff login"))).to_be_visible()
    phone.screenshot(path=tmp_path / "menu-phone.png")
    phone.locator("details.menu > summary").click()

    phone.fill("#f-q", "数字化")
    phone.locator("details.more-filters > summary").click()
    phone.select_option("#f-city", "3707")
    phone.get_by_role("button", name=zh("Apply the filters")).click()

    cards = phone.locator("li.course")
    expect(cards).to_have_count(1)
    card = cards.first
    expect(card.locator("h3")).to_have_text("纺织企业数字化转型")
    lines = card.locator("p").all_inner_texts()
    assert lines[0] == "潍坊学院 · 潍坊" and zh("On site and online") in lines[1]
    assert lines[2] == zh("Seats left: %(n)s") % {"n": 50}
    phone.screenshot(path=tmp_path / "catalog-phone.png", full_page=True)
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"

    card.get_by_role("link", name="纺织企业数字化转型").click()
    expect(phone.locator("h1")).to_have_text("纺织企业数字化转型")
    qr = phone.locator("section.share img.qr")
    expect(qr).to_be_visible()
    assert qr.evaluate("image => image.complete && image.naturalWidth") > 0  # loaded, CSP and all


def test_a_wide_screen_shows_the_menu_inline(live_server, page, session):  # noqa: F811
    page.goto(f"{live_server}/courses")
    expect(page.get_by_role("link", name=zh("Staff login"))).to_be_visible()
    expect(page.get_by_text(zh("Menu"))).to_be_hidden()
    header = page.locator("header.site").bounding_box()
    assert header and header["height"] <= 64
