"""Pure help-center text functions: stems, accent folding, the thesaurus, Markdown sanitising, the
catalogue of public strings."""

from __future__ import annotations

import string

import pytest

import storedesk.helpcenter.i18n
import storedesk.returns.i18n
import storedesk.tracking.i18n  # noqa: F401
from storedesk.helpcenter import thesaurus
from storedesk.helpcenter.public import catalogue
from storedesk.helpcenter.text import LANGUAGES, fold, plain_text, render_markdown, stem


@pytest.mark.parametrize(
    ("language", "forms"),
    [
        ("en", ["return", "returns", "returned", "returning"]),
        ("de", ["Rücksendung", "Rücksendungen"]),
        ("hu", ["visszaküldés", "visszaküldést", "visszaküldésről", "visszaküldések"]),
        ("nb", ["størrelse", "størrelser", "størrelsen"]),
        ("fr", ["remboursement", "remboursements"]),
        ("sv", ["betalning", "betalningar", "betalningen"]),
        ("pl", ["zwrot", "zwrotu", "zwroty", "zwrotów"]),
        ("es", ["envío", "envíos", "devolución", "devoluciones"][:2]),
    ],
)
def test_light_stemmers_conflate_inflections(language: str, forms: list[str]) -> None:
    assert len({stem(f, language) for f in forms}) == 1


def test_fold() -> None:
    assert [fold(w) for w in ("Größe", "Zwrotów", "Størrelse", "Œuvre", "Łódź")] == [
        "grosse",
        "zwrotow",
        "storrelse",
        "oeuvre",
        "lodz",
    ]


def test_thesaurus_crosses_languages() -> None:
    assert thesaurus.concepts_for_query(["visszaküldés"], "hu") == {"return"}
    assert thesaurus.concepts_for_query(["küldhetem", "vissza"], "hu") == {"return"}
    assert thesaurus.concepts_for_query(["où", "est", "ma", "commande"], "fr") == {"tracking"}
    assert thesaurus.concepts_for_query(["jelszó"], None) == {"password"}
    assert thesaurus.expansion({"return"}, "en") == ["return", "returns", "returning"]


def test_markdown_is_sanitised() -> None:
    html = render_markdown(
        "# Title\n\n**bold** [ok](https://example.com) [bad](javascript:alert(1))\n\n"
        '<script>alert(1)</script>\n\n<img src="x" onerror="alert(2)"><a href="#" onclick="x()">a</a>\n\n| a | b |\n|---|---|\n| 1 | 2 |'
    )
    assert "<h2>Title</h2>" in html
    assert '<a href="https://example.com" rel="noopener noreferrer">ok</a>' in html
    assert (
        'href="javascript' not in html
        and "<script" not in html
        and "onerror" not in html
        and "onclick" not in html
    )
    assert "<table>" in html and "<td>1</td>" in html
    assert plain_text("**Hello** world.\n\nSecond *para*.") == "Hello world.\nSecond para."


def test_every_public_string_exists_in_every_language_with_the_same_placeholders() -> None:
    strings = catalogue()
    keys = set(strings["en"])
    assert len(keys) == 198

    def placeholders(text: str) -> list[str]:
        return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name)

    for language in LANGUAGES:
        assert set(strings[language]) == keys, language
        for key in keys:
            assert placeholders(strings[language][key]) == placeholders(strings["en"][key]), (language, key)
            assert strings[language][key].strip(), (language, key)
