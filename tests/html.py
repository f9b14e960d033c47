"""Reading pages as a browser sees them: elements found by selector, not substrings of HTML."""

from bs4 import BeautifulSoup


def page(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def text(response, selector: str) -> str:
    """The visible text of the one element the selector finds (an AssertionError if none)."""
    found = page(response).select_one(selector)
    assert found is not None, f"no {selector!r} on the page"
    return found.get_text(" ", strip=True)


def texts(response, selector: str) -> list[str]:
    return [e.get_text(" ", strip=True) for e in page(response).select(selector)]


def field_errors(response) -> dict[str, str]:
    """The error shown beside each form field, by field name (forms.html's field macro)."""
    return {
        e["id"].removeprefix("e-"): e.get_text(" ", strip=True)
        for e in page(response).select("p.error[id^=e-]")
    }


def flash(response) -> str | None:
    found = page(response).select_one("p.flash")
    return found.get_text(" ", strip=True) if found else None


def form_values(response, form: str = "form") -> dict[str, str]:
    """The named inputs of a form with the values the page filled in."""
    element = page(response).select_one(form)
    assert element is not None, f"no {form!r} on the page"
    return {i["name"]: i.get("value", "") for i in element.select("input[name]")}
