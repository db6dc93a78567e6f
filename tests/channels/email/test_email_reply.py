"""Reply extraction and HTML-to-text rendering."""

from __future__ import annotations

import pytest

from storedesk.channels.email.reply import (
    extract_reply,
    extract_reply_from_html,
    extract_signature,
    html_to_text,
    split_fragments,
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Danke!\n\nAm 07.05.2012 08:10, schrieb Martin via Support:\n> Hallo\n", "Danke!"),
        ("Danke!\n\nAm Mo., 3. März 2025 um 10:15 Uhr schrieb Shop <s@shop.example>:\n> Hallo\n", "Danke!"),
        ("Merci\n\nLe lun. 3 mars 2025 à 10:15, Shop <s@shop.example> a écrit :\n> Bonjour\n", "Merci"),
        ("Gracias\n\nEl lun, 3 mar 2025 a las 10:15, Shop (<s@shop.example>) escribió:\n> Hola\n", "Gracias"),
        ("Ok\n\nOn Mon, Mar 3, 2025 at 10:15 AM Shop <\ns@shop.example> wrote:\n\n> Hi\n", "Ok"),
        ("Fine\n\n-----Original Message-----\nFrom: a@b.example\nSent: today\nTo: c@d.example\n\nold\n", "Fine"),
        ("Fine\n________________________________\nFrom: Shop\nSent: Monday\nTo: Me\nSubject: x\n\nold\n", "Fine"),
        ("Fine\n\nVon: Shop <s@shop.example>\nGesendet: Montag, 3. März 2025 10:15\nAn: ich\nBetreff: x\n\nalt", "Fine"),
        ("Hello\n\n-- \nJane Doe\nACME Inc.\n", "Hello"),
        ("Hello\n\nSent from my iPhone\n", "Hello"),
        ("Hello\n\nVon meinem iPhone gesendet\n", "Hello"),
        ("Hello\n\nGet Outlook for Android\n", "Hello"),
        ("Hello\n\nSent from my desk, which is nice.\n", "Hello\n\nSent from my desk, which is nice."),
        ("> question one\nanswer one\n> question two\nanswer two\n> bye\n",
         "answer one\n> question two\nanswer two"),
        ("Here you go\n\n---------- Forwarded message ---------\nFrom: Carrier <c@x.example>\nDate: Mon\n"
         "Subject: Delivery\nTo: me\n\nParcel delayed.\n",
         "Here you go\n\n---------- Forwarded message ---------\nFrom: Carrier <c@x.example>\nDate: Mon\n"
         "Subject: Delivery\nTo: me\n\nParcel delayed."),
        ("Just text, no quote.\r\nSecond line.\r\n", "Just text, no quote.\nSecond line."),
        ("", ""),
    ],
)  # fmt: skip
def test_extract_reply(body: str, expected: str) -> None:
    assert extract_reply(body) == expected


def test_fragments_model() -> None:
    fragments = split_fragments(
        "Hi\n\nOn Mon, 3 Mar 2025 at 10:00, Bob <b@x.example> wrote:\n> q\n\n-- \nAl\n"
    )
    assert [(f.content, f.quoted, f.signature, f.hidden) for f in fragments] == [
        ("Hi", False, False, False),
        ("\nOn Mon, 3 Mar 2025 at 10:00, Bob <b@x.example> wrote:\n> q", True, False, True),
        ("", False, False, True),  # the blank line above the signature (email_reply_parser's model)
        ("-- \nAl\n", False, True, True),
    ]


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<div>Thanks!</div><div class="gmail_quote">On Mon, X wrote:<blockquote>old</blockquote></div>', "Thanks!"),
        ("<p>Thanks!</p><div>On 3 Mar 2025, at 10:00, X &lt;x@y.example&gt; wrote:</div>"
         "<blockquote type=\"cite\">old</blockquote>", "Thanks!"),
        ('<p>Thanks!</p><div id="divRplyFwdMsg"><b>From:</b> X</div><div>old</div>', "Thanks!"),
        ('<p>Thanks!</p><span id="OLK_SRC_BODY_SECTION"><div>From: X</div></span>', "Thanks!"),
        ("<p>Thanks!</p><hr><b>From:</b> X<br><b>Sent:</b> Mon<br><b>To:</b> Y<br><b>Subject:</b> Z<br>old",
         "Thanks!"),
    ],
)  # fmt: skip
def test_extract_reply_from_html(html: str, expected: str) -> None:
    assert extract_reply_from_html(html) == expected


def test_html_to_text() -> None:
    html = (
        "<html><head><title>T</title><style>p{}</style></head><body><h1>Order</h1><p>Line&nbsp;one<br>two</p>"
        "<ul><li>a</li><li>b</li></ul><ol><li>x</li></ol><table><tr><td>k</td><td>v</td></tr></table>"
        "<blockquote>quoted<br>more</blockquote><pre>  keep   spaces</pre><script>x()</script></body></html>"
    )
    assert html_to_text(html) == (
        "Order\n\nLine one\ntwo\n\n- a\n- b\n\n1. x\n\nk v\n\n> quoted\n> more\n\n  keep   spaces"
    )


@pytest.mark.parametrize(
    ("body", "sender", "signature"),
    [
        ("Call me ASAP, please.\n\nThanks in advance,\nBob", "bob@foo.bar", "Thanks in advance,\nBob"),
        ("Please check.\n\nGina Smith\ngina@example.com\n(555) 346-9947", "Gina Smith",
         "Gina Smith\ngina@example.com\n(555) 346-9947"),
        ("Martin, can we get:\n\n1 L Male\n\nThat'd be awesome!", "", None),
    ],
)  # fmt: skip
def test_extract_signature(body: str, sender: str, signature: str | None) -> None:
    text, found = extract_signature(body, sender)
    assert found == signature
    assert text == (body if signature is None else body[: -len(signature)].rstrip())
