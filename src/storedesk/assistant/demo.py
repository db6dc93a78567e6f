"""The assistant policy of the demo shop (``storedesk seed-demo``): on, with the shop's delivery and payment
facts in its eight languages (they match the demo help center's "Shipping and delivery" article)."""

from __future__ import annotations

from typing import Any

DELIVERY: dict[str, str] = {
    "en": "We ship from Hamburg; orders placed before 1 pm on a working day leave the same day. Germany: 1–2 working days, €4.95 (free from €50). Rest of the EU: 2–5 working days, €9.95 (free from €100). Norway, Switzerland, the UK and the US: 4–8 working days, €14.95, import duties included for Norway and the UK. Express within Germany and Austria: €9.95 extra.",
    "de": "Wir versenden aus Hamburg; Bestellungen, die werktags vor 13 Uhr eingehen, gehen noch am selben Tag raus. Deutschland: 1–2 Werktage, 4,95 € (ab 50 € kostenlos). Übrige EU: 2–5 Werktage, 9,95 € (ab 100 € kostenlos). Norwegen, Schweiz, Großbritannien und USA: 4–8 Werktage, 14,95 €, Einfuhrabgaben für Norwegen und Großbritannien inklusive. Express innerhalb Deutschlands und Österreichs: 9,95 € Aufpreis.",
    "hu": "Hamburgból szállítunk; a munkanapokon 13 óra előtt leadott rendelések még aznap elindulnak. Magyarországra és az EU többi országába 2–5 munkanap alatt érkezik a csomag, a szállítás 9,95 € (100 € felett ingyenes). Németországon belül 1–2 munkanap, 4,95 € (50 € felett ingyenes).",
    "nb": "Vi sender fra Hamburg; bestillinger lagt inn før kl. 13 på en virkedag sendes samme dag. Til Norge tar leveringen 4–8 virkedager og koster 14,95 €, og tollavgifter er inkludert i prisen. Til EU-land tar det 2–5 virkedager og koster 9,95 € (gratis fra 100 €).",
    "fr": "Nous expédions depuis Hambourg ; les commandes passées avant 13 h un jour ouvré partent le jour même. Vers la France et le reste de l'UE : 2 à 5 jours ouvrés, 9,95 € (gratuit dès 100 €). Allemagne : 1 à 2 jours ouvrés, 4,95 € (gratuit dès 50 €). Norvège, Suisse, Royaume-Uni et États-Unis : 4 à 8 jours ouvrés, 14,95 €.",
    "sv": "Vi skickar från Hamburg; beställningar som görs före kl. 13 på en vardag skickas samma dag. Till Sverige och övriga EU tar leveransen 2–5 arbetsdagar och kostar 9,95 € (fri frakt från 100 €). Inom Tyskland 1–2 arbetsdagar, 4,95 € (fri frakt från 50 €).",
    "pl": "Wysyłamy z Hamburga; zamówienia złożone w dzień roboczy przed 13:00 wychodzą tego samego dnia. Do Polski i innych krajów UE dostawa trwa 2–5 dni roboczych i kosztuje 9,95 € (za darmo od 100 €). W Niemczech 1–2 dni robocze, 4,95 € (za darmo od 50 €).",
    "es": "Enviamos desde Hamburgo; los pedidos realizados antes de las 13:00 en un día laborable salen el mismo día. A España y al resto de la UE la entrega tarda de 2 a 5 días laborables y cuesta 9,95 € (gratis a partir de 100 €). Dentro de Alemania, de 1 a 2 días laborables, 4,95 € (gratis a partir de 50 €).",
}
PAYMENT: dict[str, str] = {
    "en": "You can pay by card (Visa, Mastercard, American Express), PayPal, Klarna or Apple Pay; in Germany also by bank transfer, in Norway with Vipps, in Sweden with Swish, in Poland with BLIK or Przelewy24 and in Spain with Bizum.",
    "de": "Sie können mit Karte (Visa, Mastercard, American Express), PayPal, Klarna oder Apple Pay bezahlen; in Deutschland auch per Überweisung.",
    "hu": "Fizethet bankkártyával (Visa, Mastercard, American Express), PayPallal vagy banki átutalással.",
    "nb": "Du kan betale med kort (Visa, Mastercard, American Express), Vipps eller Klarna.",
    "fr": "Vous pouvez payer par carte (Visa, Mastercard, American Express), PayPal ou Apple Pay.",
    "sv": "Du kan betala med kort (Visa, Mastercard, American Express), Swish eller Klarna.",
    "pl": "Możesz zapłacić BLIK-iem, przez Przelewy24, kartą (Visa, Mastercard, American Express) lub PayPalem.",
    "es": "Puedes pagar con tarjeta (Visa, Mastercard, American Express), Bizum o PayPal.",
}  # fmt: skip

POLICY: dict[str, Any] = {
    "enabled": True,
    "handover_team": "Tier 1",
    "delivery_options": DELIVERY,
    "payment_methods": PAYMENT,
}
