"""Reply extraction: separate the new text of an e-mail from quoted history and signatures.

Pure functions, no I/O.  Three entry points matter to callers:

* :func:`html_to_text` renders an HTML body as readable plain text (block structure kept, ``> `` prefixes for
  blockquotes unless they are dropped);
* :func:`extract_reply` takes a plain-text body and returns only the new reply;
* :func:`extract_reply_from_html` does the same for HTML-only mail: it drops quote containers (``blockquote``,
  Gmail's ``gmail_quote``, Outlook's ``OLK_SRC_BODY_SECTION`` / ``divRplyFwdMsg`` …) before rendering to text and
  then runs the plain-text algorithm.

The plain-text algorithm splits the body into *fragments* (see :func:`split_fragments`): runs of quoted lines
(``> …`` together with the "On … wrote:" header above them), signature blocks (``-- ``, ``Sent from my iPhone``,
``-Name``) and ordinary text.  Walking from the bottom, quoted and signature fragments are *hidden* until the first
fragment with new text is met; everything above stays visible, so inline ("interleaved") answers keep the
quotes they answer.  Outlook-style history ("-----Original Message-----", a ``From:``/``Sent:``/``To:`` header
block, an "On … wrote:" header followed by unquoted text) is treated as quoted up to the end of the body.  The
model follows github/email_reply_parser's fragment semantics (MIT); the header and signature patterns here are
our own and cover English, German, French, Spanish, Italian, Dutch, Portuguese, Polish, Scandinavian,
Hungarian, Czech and Russian clients.

:func:`extract_signature` is a separate, sender-aware heuristic (closing phrases, the sender's name, contact
lines) for callers that want to cut "Thanks,\\nNoam"-style sign-offs; :func:`extract_reply` does not apply it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = [
    "Fragment",
    "extract_reply",
    "extract_reply_from_html",
    "extract_signature",
    "html_to_text",
    "split_fragments",
    "visible_text",
]

# --------------------------------------------------------------------------------------------------------------
# A tiny, tolerant HTML tree (stdlib html.parser) — enough to render text and to cut quote containers.
# --------------------------------------------------------------------------------------------------------------

_VOID_TAGS = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)
_SKIP_TAGS = frozenset(
    {"head", "script", "style", "title", "template", "noscript", "xml", "object", "iframe"}
)
_PARAGRAPH_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table", "pre"})
_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "header",
        "hr",
        "li",
        "main",
        "menu",
        "nav",
        "section",
        "summary",
        "tr",
        "html",
    }
    | _PARAGRAPH_TAGS
)
# Opening one of these closes an open <p> (HTML's implied end tags, simplified).
_CLOSES_P = frozenset(
    {"p", "div", "table", "ul", "ol", "dl", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr"}
)


@dataclass(eq=False)
class _Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[_Node | str] = field(default_factory=list)
    parent: _Node | None = None

    def classes(self) -> list[str]:
        return self.attrs.get("class", "").lower().split()


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root")
        self.stack: list[_Node] = [self.root]

    def _open_index(self, tag: str, stop_at: frozenset[str] = frozenset()) -> int:
        for index in range(len(self.stack) - 1, 0, -1):
            node_tag = self.stack[index].tag
            if node_tag == tag:
                return index
            if node_tag in stop_at:
                break
        return -1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _CLOSES_P:
            index = self._open_index("p", frozenset({"div", "td", "th", "li", "blockquote", "table"}))
            if index > 0:
                del self.stack[index:]
        if tag == "li":
            index = self._open_index("li", frozenset({"ul", "ol"}))
            if index > 0:
                del self.stack[index:]
        elif tag in ("td", "th"):
            index = max(
                self._open_index("td", frozenset({"tr", "table"})),
                self._open_index("th", frozenset({"tr", "table"})),
            )
            if index > 0:
                del self.stack[index:]
        elif tag == "tr":
            index = self._open_index("tr", frozenset({"table"}))
            if index > 0:
                del self.stack[index:]
        parent = self.stack[-1]
        node = _Node(tag, {name: value or "" for name, value in attrs}, [], parent)
        parent.children.append(node)
        if tag not in _VOID_TAGS:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_TAGS and self.stack[-1].tag == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        index = self._open_index(tag)
        if index > 0:
            del self.stack[index:]

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def _parse_html(html: str) -> _Node:
    builder = _TreeBuilder()
    try:
        builder.feed(html)
        builder.close()
    except Exception:  # noqa: S110  # pragma: no cover - html.parser is tolerant; keep what was built
        pass
    return builder.root


class _TextWriter:
    """Collects rendered text; coalesces block breaks; collapses HTML whitespace."""

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self.newlines = 0
        self.empty = True
        self.space = False

    def ensure_newlines(self, count: int) -> None:
        if self.empty:
            return
        if self.newlines < count:
            self.chunks.append("\n" * (count - self.newlines))
            self.newlines = count
            self.space = False

    def hard_break(self) -> None:
        self.chunks.append("\n")
        self.newlines += 1
        self.empty = False
        self.space = False

    def write(self, text: str, *, preformatted: bool = False) -> None:
        if not preformatted:
            text = re.sub(r"[ \t\r\n\f\v]+", " ", text)
            if self.newlines or self.empty or self.space:
                text = text.lstrip(" ")
        if not text:
            return
        self.chunks.append(text)
        self.empty = False
        trailing = len(text) - len(text.rstrip("\n"))
        self.newlines = trailing if trailing < len(text) else self.newlines + trailing
        self.space = text.endswith(" ")

    def write_block(self, text: str) -> None:
        """Write already-rendered multi-line text as its own block."""
        if not text:
            return
        self.ensure_newlines(1)
        self.chunks.append(text)
        self.empty = False
        self.newlines = 0
        self.space = False
        self.ensure_newlines(1)

    def result(self) -> str:
        text = "".join(self.chunks).replace("\xa0", " ")
        lines = [line.rstrip() for line in text.split("\n")]
        text = "\n".join(lines)
        text = re.sub(r"\n{3,}", "\n\n", text)
        return text.strip("\n")


def _render(node: _Node, writer: _TextWriter, *, quote_prefix: bool, preformatted: bool = False) -> None:
    for child in node.children:
        if isinstance(child, str):
            writer.write(child, preformatted=preformatted)
            continue
        tag = child.tag
        if tag in _SKIP_TAGS or (":" in tag and tag.startswith(("o:", "v:", "w:")) and tag != "o:p"):
            continue
        if tag == "br":
            writer.hard_break()
            continue
        if tag == "hr":
            writer.ensure_newlines(1)
            writer.write("________________________________", preformatted=True)
            writer.ensure_newlines(1)
            continue
        if tag == "blockquote":
            inner = _TextWriter()
            _render(child, inner, quote_prefix=quote_prefix, preformatted=preformatted)
            rendered = inner.result()
            if quote_prefix and rendered:
                rendered = "\n".join(("> " + line) if line else ">" for line in rendered.split("\n"))
            writer.ensure_newlines(2 if quote_prefix else 1)
            writer.write_block(rendered)
            writer.ensure_newlines(2 if quote_prefix else 1)
            continue
        if tag in ("td", "th"):
            if not writer.empty and not writer.newlines:
                writer.write(" ")
            _render(child, writer, quote_prefix=quote_prefix, preformatted=preformatted)
            writer.write(" ")
            continue
        if tag == "li":
            writer.ensure_newlines(1)
            marker = "- "
            parent = child.parent
            if parent is not None and parent.tag == "ol":
                items = [c for c in parent.children if isinstance(c, _Node) and c.tag == "li"]
                marker = f"{items.index(child) + 1}. "
            writer.write(marker, preformatted=True)
            writer.space = True
            _render(child, writer, quote_prefix=quote_prefix, preformatted=preformatted)
            writer.ensure_newlines(1)
            continue
        if tag in _BLOCK_TAGS:
            paragraph = tag in _PARAGRAPH_TAGS and "msonormal" not in child.classes()
            writer.ensure_newlines(2 if paragraph else 1)
            _render(child, writer, quote_prefix=quote_prefix, preformatted=preformatted or tag == "pre")
            writer.ensure_newlines(2 if paragraph else 1)
            continue
        _render(child, writer, quote_prefix=quote_prefix, preformatted=preformatted)


def html_to_text(html: str, *, quote_prefix: bool = True) -> str:
    """Render HTML as plain text: blocks on their own lines, ``<br>`` kept, whitespace collapsed.

    Script, style and head content is dropped; links become their text; images disappear; blockquotes are
    prefixed with ``> `` (``quote_prefix=False`` renders them as plain blocks).
    """
    writer = _TextWriter()
    _render(_parse_html(html), writer, quote_prefix=quote_prefix)
    return writer.result()


# --- quote containers in HTML ------------------------------------------------------------------------------------

_QUOTE_CLASSES = frozenset(
    {
        "gmail_quote",
        "gmail_quote_container",
        "gmail_extra",
        "yahoo_quoted",
        "moz-cite-prefix",
        "zmail_extra",
        "protonmail_quote",
        "outlookmessageheader",
        "quote",
        "email-quote",
    }
)
# ids where everything from that element to the end of the document is history
_HISTORY_START_IDS = frozenset(
    {
        "divrplyfwdmsg",
        "x_divrplyfwdmsg",
        "appendonsend",
        "olk_src_body_section",
        "mail-editor-reference-message-container",
    }
)


def _iter_nodes(node: _Node) -> list[_Node]:
    found: list[_Node] = []
    pending = [node]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(child for child in reversed(current.children) if isinstance(child, _Node))
    return found


def _detach(node: _Node) -> None:
    parent = node.parent
    if parent is not None:
        parent.children = [child for child in parent.children if child is not node]


def _truncate_from(node: _Node) -> None:
    """Remove ``node`` and everything after it in document order."""
    current = node
    while current.parent is not None:
        parent = current.parent
        index = next(i for i, child in enumerate(parent.children) if child is current)
        parent.children = parent.children[: index + 1]
        current = parent
    _detach(node)


def _strip_html_quotes(root: _Node) -> None:
    for node in _iter_nodes(root):
        if node.parent is None and node is not root:
            continue
        node_id = node.attrs.get("id", "").lower()
        if node_id in _HISTORY_START_IDS:
            if _attached(node, root):
                _truncate_from(node)
            continue
    for node in _iter_nodes(root):
        if node is root or not _attached(node, root):
            continue
        if node.tag == "blockquote" or _QUOTE_CLASSES.intersection(node.classes()):
            _detach(node)


def _attached(node: _Node, root: _Node) -> bool:
    current: _Node | None = node
    while current is not None:
        if current is root:
            return True
        parent = current.parent
        if parent is None or not any(child is current for child in parent.children):
            return False
        current = parent
    return False


def extract_reply_from_html(html: str) -> str:
    """The new reply of an HTML body, as plain text."""
    root = _parse_html(html)
    _strip_html_quotes(root)
    writer = _TextWriter()
    _render(root, writer, quote_prefix=True)
    return extract_reply(writer.result())


# --------------------------------------------------------------------------------------------------------------
# Plain-text fragments
# --------------------------------------------------------------------------------------------------------------

_WROTE = (
    r"wrote|writes|schrieb|schreibt|a\s+écrit|a\s+ecrit|écrit|escribió|escribio|ha\s+scritto|scrisse|schreef|"
    r"escreveu|napisał|napisal|skrev|kirjoitti|írta|irta|napsal|написал|написала|написав|寫道|写道|wrote\s+on"
)
_HEADER_START = r"On|Am|Le|El|Il|Op|Em|W\s+dniu|Den|På|Dne|Dňa|Pada|Vào|Στις|В|Den|Op|Ar|Ng|Dana|Dnia|\d{4}\.|\d{1,4}[./-]"
_RE_ON_WROTE = re.compile(
    rf"^\s*(?:{_HEADER_START})\s.*\b(?:{_WROTE})\b.*:?\s*$|^.*\b(?:{_WROTE})\s*:\s*$",
    re.IGNORECASE,
)
_RE_DATE_AT_HEADER = re.compile(
    r"(?:\d{1,4}[./-]\d{1,2}[./-]\d{2,4}|\d{4}-\d{2}-\d{2}|\b(?:19|20)\d\d\b.*\b\d{1,2}:\d\d).*@.*:\s*$"
)
_RE_ORIGINAL_MESSAGE = re.compile(
    r"^\s*[-_=*]{2,}\s*(?:Original\s+Message|Reply\s+Message|Ursprüngliche\s+Nachricht|Originalnachricht|"
    r"Message\s+d'origine|Mensaje\s+original|Messaggio\s+originale|Oorspronkelijk\s+bericht|"
    r"Oprindelig\s+meddelelse|Opprinnelig\s+melding|Ursprungligt\s+meddelande|Mensagem\s+original|"
    r"Eredeti\s+üzenet|Původní\s+zpráva|Wiadomość\s+oryginalna|Исходное\s+сообщение|Original\s+email\s+message)"
    r"\s*[-_=*]{2,}\s*$",
    re.IGNORECASE,
)
_HEADER_NAMES_FROM = r"From|Von|De|Van|Fra|Från|Od|Da|Desde|Feladó|Kimden|От|Lähettäjä"
_HEADER_NAMES_OTHER = (
    r"Sent|Date|To|Cc|Subject|Gesendet|Datum|An|Betreff|Envoyé|Date\s+d'envoi|À|Objet|Enviado|Para|Asunto|"
    r"Inviato|Oggetto|A|Verzonden|Aan|Onderwerp|Sendt|Til|Emne|Skickat|Till|Ämne|Wysłano|Do|Temat|Elküldve|"
    r"Címzett|Tárgy|Odesláno|Komu|Předmět|Отправлено|Кому|Тема|Dátum|Tárgy"
)
_RE_HEADER_FROM = re.compile(rf"^\s*[*_]?(?:{_HEADER_NAMES_FROM})\s?[*_]?\s?:[*_]?\s*\S", re.IGNORECASE)
_RE_HEADER_OTHER = re.compile(rf"^\s*[*_]?(?:{_HEADER_NAMES_OTHER})\s?[*_]?\s?:[*_]?(\s|$)", re.IGNORECASE)
_RE_RULE = re.compile(r"^\s*(?:-{5,}|_{5,}|={5,})\s*$")
_RE_FORWARD = re.compile(
    r"^\s*(?:-{2,}\s*(?:Forwarded\s+message|Weitergeleitete\s+Nachricht|Message\s+transféré|Mensaje\s+reenviado)"
    r"\s*-{2,}|Begin\s+forwarded\s+message:|Anfang\s+der\s+weitergeleiteten\s+Nachricht:)\s*$",
    re.IGNORECASE,
)
_RE_SIGNATURE_START = re.compile(
    r"^\s*--\s*$|^\s*_{2,}\s*$|^-\w[^\n]{0,40}$"
    r"|^\s*Sent\s+(?:from|with)\s+(?:my\s+(?:\w+\s*){1,4}|Mail\s+for\s+Windows(?:\s+\d+)?|Outlook(?:\s+for\s+\w+)?|"
    r"Yahoo\s+Mail(?:\s+for\s+\w+)?|Samsung\b[^,.!?;]{0,40}|Gmail\s+Mobile|AOL\s+Mobile\s+Mail|Sparrow\b.*|"
    r"BlackBerry\b[^,.!?;]{0,40}|Proton\s*Mail\b.*)\s*$"
    r"|^\s*(?:Gesendet\s+(?:von|mit)\s+(?:meinem\s+)?|Von\s+meinem\s+|Envoyé\s+(?:de|depuis)\s+(?:mon\s+)?|"
    r"Enviado\s+desde\s+(?:mi\s+)?|Enviado\s+do\s+(?:meu\s+)?|Inviato\s+da(?:l\s+mio)?\s+|Verstuurd\s+vanaf\s+(?:mijn\s+)?|"
    r"Skickat\s+från\s+(?:min\s+)?|Sendt\s+fra\s+(?:min\s+)?|Wysłane\s+z\s+|Az\s+én\s+|Odesláno\s+z\s+)"
    r"(?:iPhone|iPad|Android|Samsung|Huawei|Xiaomi|BlackBerry|Smartphone|Handy|Mobil\w*|Galaxy|Outlook|Pixel)[^,.!?;]{0,30}"
    r"(?:\s+gesendet|-(?:ról|ről)\s+küldve|-omról\s+küldve)?\s*$"
    r"|^\s*Get\s+Outlook\s+for\s+\w+\s*$",
    re.IGNORECASE,
)
# "Sent from my desk, is much easier …" is prose, not a signature: the pattern above stops at punctuation.


@dataclass
class Fragment:
    """A run of lines sharing a role.  ``hidden`` fragments are not part of the reply."""

    content: str
    quoted: bool = False
    signature: bool = False
    hidden: bool = False


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _is_quote_header(line: str) -> bool:
    stripped = line.strip()
    if not stripped or len(stripped) > 400 or stripped.startswith(">"):
        return False
    if _RE_ON_WROTE.match(stripped):
        return bool(re.search(r"\d|@", stripped))
    return bool(_RE_DATE_AT_HEADER.search(stripped))


def _header_block_at(lines: list[str], index: int) -> bool:
    """True if an Outlook-style header block (``From:``/``Sent:``/``To:``/``Subject:`` …) starts at ``index``."""
    if not _RE_HEADER_FROM.match(lines[index]):
        # a run of three or more header lines that includes a From line, in any order
        run = 0
        has_from = False
        for line in lines[index : index + 8]:
            if _RE_HEADER_FROM.match(line):
                has_from = True
            elif not _RE_HEADER_OTHER.match(line):
                break
            run += 1
        return run >= 3 and has_from and bool(_RE_HEADER_OTHER.match(lines[index]))
    others = 0
    for line in lines[index + 1 : index + 8]:
        if not line.strip():
            if others:
                break
            continue
        if _RE_HEADER_OTHER.match(line):
            others += 1
        elif others == 0 and len(line) > 200:
            return False
    return others >= 2


def _join_wrapped_headers(lines: list[str]) -> list[str]:
    """Join "On <date>, <name> <addr>\\nwrote:" headers that a client wrapped over 2–3 lines."""
    result: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        joined = False
        if line.strip() and not line.lstrip().startswith(">") and not _is_quote_header(line):
            candidate = line
            for extra in range(1, 3):
                if index + extra >= len(lines):
                    break
                nxt = lines[index + extra]
                if not nxt.strip() or nxt.lstrip().startswith(">"):
                    break
                candidate = candidate.rstrip() + " " + nxt.strip()
                if _is_quote_header(candidate) and re.match(
                    rf"^\s*(?:{_HEADER_START})\s|^.*\d.*@", line, re.IGNORECASE
                ):
                    result.append(candidate)
                    index += extra + 1
                    joined = True
                    break
        if not joined:
            result.append(line)
            index += 1
    return result


def _history_start(lines: list[str]) -> int | None:
    """Index of the first line of unquoted (Outlook-style) history, if any."""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(">"):
            continue
        if _RE_FORWARD.match(stripped):
            return None  # a forward: its content is the message
        if _RE_ORIGINAL_MESSAGE.match(stripped):
            return index
        if _RE_RULE.match(stripped):
            nxt = next((i for i in range(index + 1, min(index + 4, len(lines))) if lines[i].strip()), None)
            if nxt is not None and _header_block_at(lines, nxt):
                return index
            continue
        if _header_block_at(lines, index):
            return index
        if _is_quote_header(stripped):
            following = next((lines[i] for i in range(index + 1, len(lines)) if lines[i].strip()), None)
            if following is None or not following.lstrip().startswith(">"):
                return index
    return None


def split_fragments(text: str) -> list[Fragment]:
    """Split a plain-text body into fragments (top to bottom), flagging quoted, signature and hidden ones."""
    lines = _join_wrapped_headers(_normalise(text).split("\n"))
    history = _history_start(lines)
    quoted_flags = [line.startswith(">") for line in lines]
    if history is not None:
        for index in range(history, len(lines)):
            quoted_flags[index] = True

    fragments: list[Fragment] = []
    current: list[str] = []
    current_quoted = False
    found_visible = False

    def finish(signature: bool = False) -> None:
        nonlocal current, found_visible
        if not current:
            return
        content = "\n".join(reversed(current))
        fragment = Fragment(content, quoted=current_quoted, signature=signature)
        if not found_visible:
            if fragment.quoted or fragment.signature or not content.strip():
                fragment.hidden = True
            else:
                found_visible = True
        fragments.append(fragment)
        current = []

    # Walk bottom-up so that signature and quote headers are seen after the block they introduce.
    for index in range(len(lines) - 1, -1, -1):
        raw = lines[index]
        is_signature_line = bool(_RE_SIGNATURE_START.match(raw))
        line = raw if is_signature_line else raw.rstrip()
        is_quoted = quoted_flags[index]
        if current and line == "" and _RE_SIGNATURE_START.match(current[-1]) and not current_quoted:
            finish(signature=True)
        if current and (
            current_quoted == is_quoted or (current_quoted and (_is_quote_header(line) or line == ""))
        ):
            current.append(line)
        else:
            finish()
            current = [line]
            current_quoted = is_quoted
    # A signature delimiter on the very first line still starts a signature block.
    if current and _RE_SIGNATURE_START.match(current[-1]) and not current_quoted and len(current) > 1:
        finish(signature=True)
    finish()
    fragments.reverse()
    return fragments


def visible_text(fragments: list[Fragment]) -> str:
    """The text of the non-hidden fragments (email_reply_parser's ``visible_text``)."""
    return "\n".join(fragment.content for fragment in fragments if not fragment.hidden).rstrip()


def extract_reply(text: str) -> str:
    """The new reply of a plain-text body, without trailing quotes, history and signatures.

    Quotes that sit *between* pieces of new text (inline answers) are kept for context; a quote that comes
    before all new text (bottom-posting) is dropped.
    """
    fragments = split_fragments(text)
    visible = [fragment for fragment in fragments if not fragment.hidden]
    while visible and (visible[0].quoted or not visible[0].content.strip()):
        visible.pop(0)
    return "\n".join(fragment.content for fragment in visible).strip("\n").rstrip()


# --------------------------------------------------------------------------------------------------------------
# Sender-aware signature heuristic
# --------------------------------------------------------------------------------------------------------------

_SIGNATURE_MAX_LINES = 11
_RE_CLOSING = re.compile(
    r"^\s*(?:thanks?(?:\s+(?:a\s+lot|so\s+much|again|in\s+advance))?|thank\s+you(?:\s+\w+){0,2}|many\s+thanks|"
    r"cheers|best(?:\s+(?:regards|wishes))?|kind\s+regards|regards|warm\s+regards|sincerely|yours(?:\s+\w+)?|"
    r"mit\s+freundlichen\s+grüßen|mit\s+freundlichen\s+grüssen|viele\s+grüße|beste\s+grüße|liebe\s+grüße|grüße|"
    r"lg|mfg|cordialement|bien\s+à\s+vous|salutations|saludos|un\s+saludo|atentamente|cordiali\s+saluti|"
    r"saluti|met\s+vriendelijke\s+groet|groeten|üdvözlettel|med\s+vänlig\s+hälsning|hälsningar|mvh|"
    r"med\s+venlig\s+hilsen|hilsen|pozdrawiam|s\s+pozdravem|с\s+уважением)\s*[,.!]?\s*$",
    re.IGNORECASE,
)
_RE_CONTACT = re.compile(
    r"(?:@[\w-]+\.|https?://|www\.|\+?\(?\d[\d ()./-]{6,}\d|\b(?:tel|phone|fax|mobile|mob|skype|t|f|m)\b\.?\s*[:.])",
    re.IGNORECASE,
)


def _sender_tokens(sender: str) -> list[str]:
    local = sender.split("@", 1)[0] if "@" in sender else sender
    return [token.lower() for token in re.split(r"[^\w]+", local) if len(token) >= 3]


def extract_signature(text: str, sender: str = "") -> tuple[str, str | None]:
    """Split ``text`` into ``(body, signature)`` using the last lines, the sender's name and contact patterns.

    A signature starts at a delimiter line (``--``, a rule of dashes/underscores), a closing phrase
    ("Thanks,", "Best regards", "Mit freundlichen Grüßen" …) or a line carrying the sender's name, and must run
    to the end of the text through lines that look like a signature (short, or contact data).  Returns
    ``(text, None)`` when nothing qualifies.
    """
    lines = _normalise(text).strip("\n").split("\n")
    non_empty = [index for index, line in enumerate(lines) if line.strip()]
    if len(non_empty) < 2:
        return text.strip(), None
    window = non_empty[-_SIGNATURE_MAX_LINES:]
    tokens = _sender_tokens(sender)

    def names_sender(line: str) -> bool:
        lowered = line.lower()
        return bool(tokens) and any(token in lowered for token in tokens)

    def sig_like(line: str) -> bool:
        stripped = line.strip()
        return len(stripped) <= 60 or bool(_RE_CONTACT.search(stripped))

    start: int | None = None
    # Candidate starts, earliest first; the block below a start must be signature-like all the way down.
    for position, index in enumerate(window):
        if index == non_empty[0]:
            continue  # a signature never starts on the first line of the message
        line = lines[index].strip()
        rest = [lines[i] for i in window[position + 1 :]]
        delimiter = bool(re.match(r"^(?:--\s*|-{4,}|_{4,})$", line))
        closing = bool(_RE_CLOSING.match(line))
        named = names_sender(line) and len(line) <= 60
        if not (delimiter or closing or named):
            continue
        if delimiter or all(sig_like(item) for item in rest):
            if closing and not rest:
                continue
            if closing or delimiter or named:
                start = index
                break
    if start is None:
        return text.strip(), None
    body = "\n".join(lines[:start]).rstrip()
    signature = "\n".join(lines[start:]).strip()
    return body, signature
