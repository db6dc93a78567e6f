"""Tone check for an agent's draft: flags that make a reply read curt or impolite. Pure functions.

``check(text, language)`` returns a list of flags, each ``{"code", "message", "detail"}``:

* ``all_caps`` — a run of shouting (three or more all-capital words, or most of the letters in capitals);
* ``no_greeting`` — the draft does not greet the customer (only for drafts of 12+ words);
* ``no_thanks_or_closing`` — no thanks, apology or friendly closing (12+ words);
* ``blunt_phrase`` — a phrase from the language's list of blunt or dismissive wording;
* ``exclamations`` — several exclamation marks in a row;
* ``very_short`` — a one- to three-word answer with no courtesy at all.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

GREETINGS: dict[str, tuple[str, ...]] = {
    "en": ("hi", "hello", "dear", "good morning", "good afternoon", "good evening", "hey"),
    "de": (
        "hallo",
        "guten tag",
        "guten morgen",
        "guten abend",
        "liebe",
        "lieber",
        "sehr geehrte",
        "hi",
        "moin",
        "servus",
    ),
    "hu": ("kedves", "jó napot", "jó reggelt", "jó estét", "szia", "sziasztok", "üdv", "tisztelt", "helló"),
    "nb": ("hei", "hallo", "god morgen", "god dag", "kjære", "heisann"),
    "fr": ("bonjour", "bonsoir", "cher", "chère", "madame", "monsieur", "salut", "coucou"),
    "sv": ("hej", "hallå", "god morgon", "god dag", "kära", "hejsan"),
    "pl": ("dzień dobry", "witam", "witaj", "szanowny", "szanowna", "cześć", "dobry wieczór"),
    "es": (
        "hola",
        "buenos días",
        "buenas tardes",
        "buenas noches",
        "estimado",
        "estimada",
        "querido",
        "querida",
    ),
}
COURTESY: dict[str, tuple[str, ...]] = {
    "en": (
        "thank",
        "thanks",
        "sorry",
        "apolog",
        "best regards",
        "kind regards",
        "regards",
        "best wishes",
        "have a",
        "happy to help",
        "please",
    ),
    "de": (
        "danke",
        "vielen dank",
        "entschuldig",
        "tut mir leid",
        "leider",
        "grüße",
        "gruß",
        "bitte",
        "gerne",
        "schönen tag",
    ),
    "hu": ("köszön", "sajnál", "elnézés", "üdvözlettel", "szívesen", "kérem", "további szép napot"),
    "nb": ("takk", "beklager", "hilsen", "vennlig hilsen", "ha en fin", "gjerne"),
    "fr": (
        "merci",
        "désolé",
        "désolée",
        "excuse",
        "cordialement",
        "bien à vous",
        "bonne journée",
        "s'il vous plaît",
        "volontiers",
    ),
    "sv": ("tack", "beklagar", "ursäkta", "hälsningar", "vänliga hälsningar", "ha en fin", "gärna"),
    "pl": (
        "dziękuj",
        "przepraszam",
        "przykro",
        "pozdrawiam",
        "pozdrowienia",
        "proszę",
        "chętnie",
        "miłego dnia",
    ),
    "es": (
        "gracias",
        "lo siento",
        "disculp",
        "saludos",
        "un saludo",
        "atentamente",
        "por favor",
        "con gusto",
        "buen día",
    ),
}
BLUNT: dict[str, tuple[str, ...]] = {
    "en": ("as i already said", "as i said", "read the", "not our problem", "not my problem", "that's your problem",
           "you should have", "obviously", "calm down", "whatever", "deal with it", "we can't help you", "no way",
           "stop asking", "i told you", "your fault", "nothing we can do"),
    "de": ("wie bereits gesagt", "wie schon gesagt", "nicht unser problem", "nicht mein problem", "ihr problem",
           "hätten sie", "lesen sie doch", "offensichtlich", "beruhigen sie sich", "selber schuld", "selbst schuld",
           "da kann man nichts machen", "geht nicht", "keine ahnung"),
    "hu": ("ahogy már mondtam", "nem a mi problémánk", "nem az én problémám", "az ön hibája", "nyugodjon meg",
           "olvassa el", "nem tudunk segíteni", "nincs mit tenni"),
    "nb": ("som jeg allerede sa", "som sagt", "ikke vårt problem", "ikke mitt problem", "din feil", "ro deg ned",
           "les ", "kan ikke hjelpe deg", "ingenting å gjøre"),
    "fr": ("comme je l'ai déjà dit", "comme déjà dit", "pas notre problème", "pas mon problème", "votre faute",
           "calmez-vous", "lisez", "on ne peut rien faire", "évidemment", "c'est comme ça"),
    "sv": ("som jag redan sa", "som sagt", "inte vårt problem", "inte mitt problem", "ditt fel", "lugna dig",
           "läs ", "kan inte hjälpa dig", "inget att göra"),
    "pl": ("jak już mówiłem", "jak już pisałem", "nie nasz problem", "nie mój problem", "pana wina", "pani wina",
           "twoja wina", "proszę się uspokoić", "nic nie możemy zrobić", "przeczytaj"),
    "es": ("como ya dije", "como ya te dije", "no es nuestro problema", "no es mi problema", "es tu culpa",
           "cálmate", "tranquilízate", "lee ", "no podemos hacer nada", "obviamente"),
}  # fmt: skip
MESSAGES = {
    "all_caps": "Capital letters read as shouting.",
    "no_greeting": "Start with a greeting (e.g. the customer's name).",
    "no_thanks_or_closing": "Add a thank-you, an apology where it fits, or a friendly closing.",
    "blunt_phrase": "This wording can sound dismissive: {phrase!r}.",
    "exclamations": "Several exclamation marks in a row can read as impatient.",
    "very_short": "A very short answer with no courtesy can read as curt.",
}

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass(frozen=True)
class Flag:
    code: str
    message: str
    detail: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "detail": self.detail}


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower().replace("’", "'")


def _has_any(text: str, phrases: tuple[str, ...]) -> str | None:
    for phrase in phrases:
        if re.search(r"(?<!\w)" + re.escape(phrase), text):
            return phrase
    return None


def check(text: str, language: str) -> list[Flag]:
    lang = language if language in GREETINGS else "en"
    flags: list[Flag] = []
    words = _WORD.findall(text)
    low = _norm(text)
    letters = [c for c in text if c.isalpha()]
    caps_words = [w for w in words if len(w) >= 2 and w.isupper()]
    longest_run = run = 0
    for w in words:
        if len(w) < 2:
            continue  # "I", "A" neither start nor break a run
        run = run + 1 if w.isupper() else 0
        longest_run = max(longest_run, run)
    if longest_run >= 3 or (len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.6):
        flags.append(Flag("all_caps", MESSAGES["all_caps"], " ".join(caps_words[:5]) or None))
    greet = GREETINGS[lang] + (GREETINGS["en"] if lang != "en" else ())
    courtesy = COURTESY[lang] + (COURTESY["en"] if lang != "en" else ())
    has_greeting = _has_any(low[:80], greet) is not None
    has_courtesy = _has_any(low, courtesy) is not None
    if len(words) >= 12 and not has_greeting:
        flags.append(Flag("no_greeting", MESSAGES["no_greeting"]))
    if len(words) >= 12 and not has_courtesy:
        flags.append(Flag("no_thanks_or_closing", MESSAGES["no_thanks_or_closing"]))
    blunt = _has_any(low, BLUNT[lang]) or (lang != "en" and _has_any(low, BLUNT["en"])) or None
    if blunt:
        flags.append(
            Flag("blunt_phrase", MESSAGES["blunt_phrase"].format(phrase=blunt.strip()), blunt.strip())
        )
    if "!!" in text:
        flags.append(Flag("exclamations", MESSAGES["exclamations"]))
    if 0 < len(words) <= 3 and not has_greeting and not has_courtesy:
        flags.append(Flag("very_short", MESSAGES["very_short"]))
    return flags
