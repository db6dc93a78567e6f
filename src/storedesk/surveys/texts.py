"""What customers read: survey questions, scale ends, the invitation line and the public page, in the
eight languages storedesk ships (en, de, hu, nb, fr, sv, pl, es). ``{shop}`` is the shop's name and
``{url}`` the signed link. A language we do not have falls back to English."""

from __future__ import annotations

from storedesk.surveys.models import SurveyKind

LANGUAGES = ("en", "de", "hu", "nb", "fr", "sv", "pl", "es")
NBSP = "\u00a0"

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Your feedback",
        "csat": "How satisfied are you with the help you received from {shop}?",
        "csat_low": "Very dissatisfied",
        "csat_high": "Very satisfied",
        "ces": "How much do you agree with this statement: {shop} made it easy for me to handle my issue.",
        "ces_low": "Strongly disagree",
        "ces_high": "Strongly agree",
        "nps": "How likely is it that you would recommend {shop} to a friend or colleague?",
        "nps_low": "Not at all likely",
        "nps_high": "Extremely likely",
        "comment": "Anything else you would like to tell us? (optional)",
        "submit": "Send",
        "thanks": "Thank you for your feedback!",
        "thanks_low": "Thank you for your feedback. We are sorry it was not better – someone from our team "
        "will get back to you.",
        "already": "You have already answered this survey. Thank you!",
        "expired": "This survey has expired. Thank you for your interest.",
        "invalid": "This survey link is not valid.",
        "choose": "Please choose a score.",
        "invite_link": "Answer with one click: {url}",
        "invite_buttons": "Tap a score below, or answer here: {url}",
    },
    "de": {
        "title": "Ihr Feedback",
        "csat": "Wie zufrieden sind Sie mit der Hilfe von {shop}?",
        "csat_low": "Sehr unzufrieden",
        "csat_high": "Sehr zufrieden",
        "ces": "Wie sehr stimmen Sie dieser Aussage zu: {shop} hat es mir leicht gemacht, mein Anliegen "
        "zu erledigen.",
        "ces_low": "Stimme überhaupt nicht zu",
        "ces_high": "Stimme voll und ganz zu",
        "nps": "Wie wahrscheinlich ist es, dass Sie {shop} einem Freund oder Kollegen empfehlen?",
        "nps_low": "Überhaupt nicht wahrscheinlich",
        "nps_high": "Äußerst wahrscheinlich",
        "comment": "Möchten Sie uns noch etwas mitteilen? (optional)",
        "submit": "Senden",
        "thanks": "Vielen Dank für Ihr Feedback!",
        "thanks_low": "Vielen Dank für Ihr Feedback. Es tut uns leid, dass es nicht besser war – jemand aus "
        "unserem Team meldet sich bei Ihnen.",
        "already": "Sie haben diese Umfrage bereits beantwortet. Vielen Dank!",
        "expired": "Diese Umfrage ist abgelaufen. Vielen Dank für Ihr Interesse.",
        "invalid": "Dieser Umfrage-Link ist ungültig.",
        "choose": "Bitte wählen Sie eine Bewertung.",
        "invite_link": "Antworten Sie mit einem Klick: {url}",
        "invite_buttons": "Tippen Sie unten auf eine Bewertung oder antworten Sie hier: {url}",
    },
    "hu": {
        "title": "Az Ön véleménye",
        "csat": "Mennyire elégedett a(z) {shop} ügyfélszolgálatától kapott segítséggel?",
        "csat_low": "Nagyon elégedetlen",
        "csat_high": "Nagyon elégedett",
        "ces": "Mennyire ért egyet az alábbi állítással: a(z) {shop} megkönnyítette számomra az ügyem "
        "intézését.",
        "ces_low": "Egyáltalán nem értek egyet",
        "ces_high": "Teljesen egyetértek",
        "nps": "Mennyire valószínű, hogy ajánlaná a(z) {shop} áruházat egy barátjának vagy kollégájának?",
        "nps_low": "Egyáltalán nem valószínű",
        "nps_high": "Rendkívül valószínű",
        "comment": "Szeretne még valamit elmondani nekünk? (nem kötelező)",
        "submit": "Küldés",
        "thanks": "Köszönjük a visszajelzését!",
        "thanks_low": "Köszönjük a visszajelzését. Sajnáljuk, hogy nem volt jobb – csapatunk egyik tagja "
        "hamarosan jelentkezik Önnél.",
        "already": "Ezt a kérdőívet már kitöltötte. Köszönjük!",
        "expired": "Ez a kérdőív lejárt. Köszönjük az érdeklődését.",
        "invalid": "Ez a kérdőív-link érvénytelen.",
        "choose": "Kérjük, válasszon egy értékelést.",
        "invite_link": "Válaszoljon egy kattintással: {url}",
        "invite_buttons": "Koppintson lent egy értékelésre, vagy válaszoljon itt: {url}",
    },
    "nb": {
        "title": "Din tilbakemelding",
        "csat": "Hvor fornøyd er du med hjelpen du fikk fra {shop}?",
        "csat_low": "Svært misfornøyd",
        "csat_high": "Svært fornøyd",
        "ces": "Hvor enig er du i denne påstanden: {shop} gjorde det enkelt for meg å få ordnet saken min.",
        "ces_low": "Helt uenig",
        "ces_high": "Helt enig",
        "nps": "Hvor sannsynlig er det at du vil anbefale {shop} til en venn eller kollega?",
        "nps_low": "Svært usannsynlig",
        "nps_high": "Svært sannsynlig",
        "comment": "Er det noe mer du vil fortelle oss? (valgfritt)",
        "submit": "Send",
        "thanks": "Takk for tilbakemeldingen!",
        "thanks_low": "Takk for tilbakemeldingen. Vi beklager at det ikke var bedre – noen fra teamet vårt "
        "tar kontakt med deg.",
        "already": "Du har allerede svart på denne undersøkelsen. Takk!",
        "expired": "Denne undersøkelsen er utløpt. Takk for interessen.",
        "invalid": "Denne lenken til undersøkelsen er ikke gyldig.",
        "choose": "Velg en vurdering.",
        "invite_link": "Svar med ett klikk: {url}",
        "invite_buttons": "Trykk på en vurdering nedenfor, eller svar her: {url}",
    },
    "fr": {
        "title": "Votre avis",
        "csat": f"Dans quelle mesure êtes-vous satisfait(e) de l’aide reçue de {{shop}}{NBSP}?",
        "csat_low": "Très insatisfait(e)",
        "csat_high": "Très satisfait(e)",
        "ces": f"Dans quelle mesure êtes-vous d’accord avec cette affirmation{NBSP}: {{shop}} m’a facilité "
        "le traitement de ma demande.",
        "ces_low": "Pas du tout d’accord",
        "ces_high": "Tout à fait d’accord",
        "nps": f"Quelle est la probabilité que vous recommandiez {{shop}} à un ami ou à un collègue{NBSP}?",
        "nps_low": "Pas du tout probable",
        "nps_high": "Extrêmement probable",
        "comment": f"Souhaitez-vous ajouter quelque chose{NBSP}? (facultatif)",
        "submit": "Envoyer",
        "thanks": f"Merci pour votre avis{NBSP}!",
        "thanks_low": "Merci pour votre avis. Nous sommes désolés que cela n’ait pas été mieux – un membre "
        "de notre équipe va vous recontacter.",
        "already": f"Vous avez déjà répondu à cette enquête. Merci{NBSP}!",
        "expired": "Cette enquête a expiré. Merci de votre intérêt.",
        "invalid": "Ce lien d’enquête n’est pas valide.",
        "choose": "Veuillez choisir une note.",
        "invite_link": f"Répondez en un clic{NBSP}: {{url}}",
        "invite_buttons": f"Touchez une note ci-dessous ou répondez ici{NBSP}: {{url}}",
    },
    "sv": {
        "title": "Din feedback",
        "csat": "Hur nöjd är du med hjälpen du fick från {shop}?",
        "csat_low": "Mycket missnöjd",
        "csat_high": "Mycket nöjd",
        "ces": "Hur väl instämmer du i påståendet: {shop} gjorde det enkelt för mig att få hjälp med mitt "
        "ärende.",
        "ces_low": "Instämmer inte alls",
        "ces_high": "Instämmer helt",
        "nps": "Hur troligt är det att du skulle rekommendera {shop} till en vän eller kollega?",
        "nps_low": "Inte alls troligt",
        "nps_high": "Mycket troligt",
        "comment": "Vill du berätta något mer för oss? (valfritt)",
        "submit": "Skicka",
        "thanks": "Tack för din feedback!",
        "thanks_low": "Tack för din feedback. Vi beklagar att det inte blev bättre – någon i vårt team hör "
        "av sig till dig.",
        "already": "Du har redan svarat på den här enkäten. Tack!",
        "expired": "Den här enkäten har gått ut. Tack för ditt intresse.",
        "invalid": "Länken till enkäten är inte giltig.",
        "choose": "Välj ett betyg.",
        "invite_link": "Svara med ett klick: {url}",
        "invite_buttons": "Tryck på ett betyg nedan eller svara här: {url}",
    },
    "pl": {
        "title": "Twoja opinia",
        "csat": "Jak bardzo jesteś zadowolony(-a) z pomocy udzielonej przez {shop}?",
        "csat_low": "Bardzo niezadowolony(-a)",
        "csat_high": "Bardzo zadowolony(-a)",
        "ces": "W jakim stopniu zgadzasz się ze stwierdzeniem: „Załatwienie mojej sprawy w {shop} było "
        "łatwe”?",
        "ces_low": "Zdecydowanie się nie zgadzam",
        "ces_high": "Zdecydowanie się zgadzam",
        "nps": "Jak prawdopodobne jest, że polecisz {shop} znajomemu lub współpracownikowi?",
        "nps_low": "Zupełnie nieprawdopodobne",
        "nps_high": "Bardzo prawdopodobne",
        "comment": "Czy chcesz nam jeszcze coś przekazać? (opcjonalnie)",
        "submit": "Wyślij",
        "thanks": "Dziękujemy za Twoją opinię!",
        "thanks_low": "Dziękujemy za Twoją opinię. Przykro nam, że nie było lepiej – ktoś z naszego zespołu "
        "skontaktuje się z Tobą.",
        "already": "Ta ankieta została już wypełniona. Dziękujemy!",
        "expired": "Ta ankieta wygasła. Dziękujemy za zainteresowanie.",
        "invalid": "Ten link do ankiety jest nieprawidłowy.",
        "choose": "Wybierz ocenę.",
        "invite_link": "Odpowiedz jednym kliknięciem: {url}",
        "invite_buttons": "Wybierz ocenę poniżej lub odpowiedz tutaj: {url}",
    },
    "es": {
        "title": "Tu opinión",
        "csat": "¿Qué tan satisfecho/a estás con la ayuda que recibiste de {shop}?",
        "csat_low": "Muy insatisfecho/a",
        "csat_high": "Muy satisfecho/a",
        "ces": "¿En qué medida estás de acuerdo con esta afirmación? «{shop} me facilitó resolver mi "
        "consulta».",
        "ces_low": "Totalmente en desacuerdo",
        "ces_high": "Totalmente de acuerdo",
        "nps": "¿Qué probabilidad hay de que recomiendes {shop} a un amigo o colega?",
        "nps_low": "Nada probable",
        "nps_high": "Extremadamente probable",
        "comment": "¿Quieres contarnos algo más? (opcional)",
        "submit": "Enviar",
        "thanks": "¡Gracias por tu opinión!",
        "thanks_low": "Gracias por tu opinión. Sentimos que no haya sido mejor: alguien de nuestro equipo se "
        "pondrá en contacto contigo.",
        "already": "Ya has respondido a esta encuesta. ¡Gracias!",
        "expired": "Esta encuesta ha caducado. Gracias por tu interés.",
        "invalid": "Este enlace de la encuesta no es válido.",
        "choose": "Elige una puntuación.",
        "invite_link": "Responde con un clic: {url}",
        "invite_buttons": "Toca una puntuación abajo o responde aquí: {url}",
    },
}


def language_for(*candidates: str | None) -> str:
    """The first candidate we have texts for (``"de-AT"`` → ``"de"``; ``"no"``/``"nn"`` → ``"nb"``)."""
    for candidate in candidates:
        if not candidate:
            continue
        base = candidate.lower().replace("_", "-").split("-", 1)[0]
        base = "nb" if base in ("no", "nn") else base
        if base in TEXTS:
            return base
    return "en"


def text(language: str, key: str, **values: str) -> str:
    template = TEXTS.get(language, TEXTS["en"]).get(key) or TEXTS["en"][key]
    return template.format(**values) if values else template


def question(language: str, kind: SurveyKind, shop: str) -> str:
    return text(language, kind.value, shop=shop)
