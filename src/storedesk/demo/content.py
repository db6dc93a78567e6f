"""Texts of the demo shop: conversation templates, macros and help-center articles in the shop's languages.

Everything here is our own writing. Conversation placeholders (``str.format``): ``{first}`` customer's first
name, ``{order}`` order number, ``{agent}`` agent's first name, ``{carrier}``, ``{tracking_url}``,
``{product}`` product title, ``{address}`` one-line address. Macro bodies use the ``{{customer.first_name}}``
variables that the macro renderer fills in.
"""

from __future__ import annotations

from typing import Any

SHOP_NAME = "Nordlys Home & Living"
LANGUAGES = ["en", "de", "hu", "nb", "fr", "sv", "pl", "es"]

# intents of the assistant's taxonomy that the demo conversations use
INTENTS = [
    "track_order",
    "delivery_problem",
    "cancel_order",
    "change_shipping_address",
    "return_request",
    "refund_status",
    "damaged_or_wrong_item",
    "payment_problem",
    "product_question",
    "feedback_praise",
]

Templates = dict[str, Any]

CONVERSATIONS: dict[str, Templates] = {
    "en": {
        "hello": "Hi {first},",
        "signoff": "Kind regards,\n{agent} – Nordlys Home & Living",
        "assistant": "– Nordlys assistant",
        "thanks": ["Thank you!", "Great, thanks a lot!", "Perfect, thanks for the quick help."],
        "closing": [
            "You're welcome! Just let us know if there's anything else we can do.",
            "Happy to help – have a lovely day!",
        ],
        "nudge": ["Any update on this?", "Hello? I'm still waiting for an answer."],
        "holding": "Thanks for your message – I'm looking into this and will get back to you as soon as possible.",
        "followup": "Sorry, one more thing – could you confirm this by email as well?",
        "confirm": "Of course – you'll find the confirmation in your inbox in a few minutes.",
        "intents": {
            "track_order": {
                "subject": "Where is my order {order}?",
                "customer": [
                    "Hi, I ordered a few days ago (order {order}) and haven't received anything yet. Can you tell me where my parcel is?",
                    "Hello! Could you check the status of order #{order}? I'd like to know when it will arrive.",
                    "where is my order {order}? the tracking page doesn't tell me much",
                ],
                "agent": "Thanks for waiting! Your order {order} is on its way with {carrier}. You can follow the parcel here: {tracking_url}\nIt should arrive within the next few working days.",
            },
            "delivery_problem": {
                "subject": "Order {order} still not delivered",
                "customer": [
                    "Hi, my order {order} should have arrived last week, but the tracking hasn't changed for days. What's going on?",
                    "Hello, the estimated delivery date for #{order} has passed and I still have nothing. Can you check with the carrier?",
                ],
                "agent": "I'm sorry for the delay! I've opened an investigation with {carrier} for order {order}. If the parcel doesn't move within the next 2 working days, we'll send a replacement or refund you – whatever you prefer.",
            },
            "cancel_order": {
                "subject": "Cancel order {order}",
                "customer": [
                    "Hi, I'd like to cancel my order {order}, I ordered the wrong colour. Has it shipped yet?",
                    "Please cancel order #{order}. I found what I needed elsewhere, sorry!",
                ],
                "agent": "No problem – your order {order} had not been shipped yet, so I have cancelled it. The amount will be refunded to your original payment method within 5 working days.",
            },
            "change_shipping_address": {
                "subject": "Wrong address on order {order}",
                "customer": [
                    "Hi, I just noticed I used my old address for order {order}. Could you send it to this address instead: {address}",
                    "Can I still change the delivery address for #{order}? I won't be home next week – please deliver to {address}",
                ],
                "agent": "Done! I have updated the delivery address for order {order}. You'll get a new confirmation by email shortly.",
            },
            "return_request": {
                "subject": "Return for order {order}",
                "customer": [
                    "Hello, I'd like to return the {product} from order {order}. It isn't quite what I hoped for. How does it work?",
                    "Hi, the {product} (order #{order}) looks different from the photos. Can I send it back?",
                ],
                "agent": "Of course! I've created a return for the {product} from order {order}. You'll receive a prepaid return label by email – just pack the item in its original packaging and drop it off. Once we have received it, we refund you within 5 working days.",
            },
            "refund_status": {
                "subject": "Refund for order {order}",
                "customer": [
                    "Hi, I sent back my return for order {order} two weeks ago. When will I get my money back?",
                    "Hello, has my refund for #{order} been processed yet? I can't see it on my account.",
                ],
                "agent": "Thanks for your patience! Your return for order {order} has arrived and your refund has been issued. Depending on your bank it can take 3–5 working days to show up on your account.",
            },
            "damaged_or_wrong_item": {
                "subject": "Damaged item in order {order}",
                "customer": [
                    "Hi, my parcel (order {order}) arrived today but the {product} was broken in the box. Very disappointing – what can you do?",
                    "Hello, the {product} from order #{order} came with a big crack. I can send you a photo.",
                ],
                "agent": "I'm so sorry that your {product} arrived damaged! We'll send you a replacement free of charge – there's no need to return the broken one. You'll receive the tracking link as soon as it's on its way.",
            },
            "payment_problem": {
                "subject": "Payment problem with order {order}",
                "customer": [
                    "Hi, I tried to pay for order {order} but the payment failed, although money was taken from my card. Is my order confirmed?",
                    "Hello, my order #{order} still says payment pending. I paid by bank transfer three days ago.",
                ],
                "agent": "Thanks for letting us know. I've checked order {order}: the payment hasn't reached us yet. If an amount was reserved on your card, your bank releases it automatically within a few days. As soon as the payment arrives, we ship your order.",
            },
            "product_question": {
                "subject": "Question about the {product}",
                "customer": [
                    "Hi, I'm interested in the {product}. What are the exact dimensions and how should I care for it?",
                    "Hello, will the {product} be back in stock soon?",
                ],
                "agent": "Thanks for your interest in the {product}! You'll find the dimensions and care instructions on the product page under 'Details'. If a colour or size is sold out, click 'Notify me' and we'll email you as soon as it's back in stock.",
            },
            "feedback_praise": {
                "subject": "Thank you!",
                "customer": [
                    "Just wanted to say thank you – order {order} arrived quickly and everything is beautiful!",
                    "The {product} looks amazing in our living room. Great service, thanks!",
                ],
                "agent": "Thank you so much for your kind words – that made our day! Enjoy your new things.",
            },
        },
    },
    "de": {
        "hello": "Hallo {first},",
        "signoff": "Viele Grüße\n{agent} – Nordlys Home & Living",
        "assistant": "– Ihr Nordlys-Assistent",
        "thanks": ["Vielen Dank!", "Super, danke schön!", "Perfekt, danke für die schnelle Hilfe."],
        "closing": [
            "Gern geschehen! Melden Sie sich jederzeit, wenn wir noch etwas für Sie tun können.",
            "Sehr gern – einen schönen Tag noch!",
        ],
        "nudge": ["Gibt es hierzu schon etwas Neues?", "Hallo? Ich warte immer noch auf eine Antwort."],
        "holding": "Danke für Ihre Nachricht – ich sehe mir das gerade an und melde mich so schnell wie möglich bei Ihnen.",
        "followup": "Entschuldigung, noch eine Sache – könnten Sie mir das bitte auch per E-Mail bestätigen?",
        "confirm": "Natürlich – die Bestätigung finden Sie in wenigen Minuten in Ihrem Postfach.",
        "intents": {
            "track_order": {
                "subject": "Wo ist meine Bestellung {order}?",
                "customer": [
                    "Hallo, ich habe vor ein paar Tagen bestellt (Bestellung {order}) und noch nichts bekommen. Können Sie mir sagen, wo mein Paket ist?",
                    "Guten Tag, könnten Sie bitte den Status der Bestellung #{order} prüfen? Ich würde gern wissen, wann sie ankommt.",
                    "wo bleibt meine bestellung {order}? die sendungsverfolgung sagt mir nicht viel",
                ],
                "agent": "Danke für Ihre Geduld! Ihre Bestellung {order} ist mit {carrier} unterwegs. Hier können Sie das Paket verfolgen: {tracking_url}\nEs sollte in den nächsten Werktagen bei Ihnen ankommen.",
            },
            "delivery_problem": {
                "subject": "Bestellung {order} immer noch nicht angekommen",
                "customer": [
                    "Hallo, meine Bestellung {order} hätte letzte Woche ankommen sollen, aber die Sendungsverfolgung hat sich seit Tagen nicht verändert. Was ist da los?",
                    "Guten Tag, das voraussichtliche Lieferdatum für #{order} ist vorbei und ich habe immer noch nichts. Können Sie beim Versanddienstleister nachfragen?",
                ],
                "agent": "Entschuldigen Sie bitte die Verzögerung! Ich habe bei {carrier} einen Nachforschungsauftrag für Bestellung {order} gestellt. Wenn sich das Paket in den nächsten 2 Werktagen nicht bewegt, schicken wir Ihnen Ersatz oder erstatten den Betrag – ganz wie Sie möchten.",
            },
            "cancel_order": {
                "subject": "Bestellung {order} stornieren",
                "customer": [
                    "Hallo, ich möchte meine Bestellung {order} stornieren, ich habe die falsche Farbe bestellt. Ist sie schon verschickt?",
                    "Bitte stornieren Sie die Bestellung #{order}. Ich habe es mir anders überlegt, sorry!",
                ],
                "agent": "Kein Problem – Ihre Bestellung {order} war noch nicht versandt, deshalb habe ich sie storniert. Den Betrag erhalten Sie innerhalb von 5 Werktagen auf Ihr ursprüngliches Zahlungsmittel zurück.",
            },
            "change_shipping_address": {
                "subject": "Falsche Adresse bei Bestellung {order}",
                "customer": [
                    "Hallo, ich habe gerade gemerkt, dass bei Bestellung {order} noch meine alte Adresse steht. Können Sie das Paket bitte an diese Adresse schicken: {address}",
                    "Kann ich die Lieferadresse für #{order} noch ändern? Ich bin nächste Woche nicht zu Hause – bitte an {address} liefern.",
                ],
                "agent": "Erledigt! Ich habe die Lieferadresse für Bestellung {order} geändert. Sie erhalten gleich eine neue Bestätigung per E-Mail.",
            },
            "return_request": {
                "subject": "Rücksendung zu Bestellung {order}",
                "customer": [
                    "Hallo, ich möchte den Artikel „{product}“ aus Bestellung {order} zurückschicken. Er ist leider nicht ganz das, was ich mir vorgestellt habe. Wie funktioniert das?",
                    "Guten Tag, „{product}“ (Bestellung #{order}) sieht anders aus als auf den Fotos. Kann ich den Artikel zurücksenden?",
                ],
                "agent": "Natürlich! Ich habe eine Rücksendung für „{product}“ aus Bestellung {order} angelegt. Sie bekommen ein kostenloses Rücksendeetikett per E-Mail – einfach den Artikel in der Originalverpackung einpacken und abgeben. Sobald die Rücksendung bei uns ist, erstatten wir den Betrag innerhalb von 5 Werktagen.",
            },
            "refund_status": {
                "subject": "Erstattung für Bestellung {order}",
                "customer": [
                    "Hallo, ich habe meine Rücksendung zu Bestellung {order} vor zwei Wochen abgeschickt. Wann bekomme ich mein Geld zurück?",
                    "Guten Tag, ist die Erstattung für #{order} schon veranlasst? Ich sehe noch nichts auf meinem Konto.",
                ],
                "agent": "Danke für Ihre Geduld! Ihre Rücksendung zu Bestellung {order} ist angekommen und die Erstattung wurde veranlasst. Je nach Bank dauert es 3–5 Werktage, bis der Betrag auf Ihrem Konto erscheint.",
            },
            "damaged_or_wrong_item": {
                "subject": "Beschädigter Artikel in Bestellung {order}",
                "customer": [
                    "Hallo, mein Paket (Bestellung {order}) ist heute angekommen, aber „{product}“ war im Karton zerbrochen. Sehr enttäuschend – was können Sie tun?",
                    "Guten Tag, „{product}“ aus Bestellung #{order} hat einen großen Sprung. Ich kann Ihnen gern ein Foto schicken.",
                ],
                "agent": "Das tut mir sehr leid, dass „{product}“ beschädigt angekommen ist! Wir schicken Ihnen kostenlos Ersatz – den beschädigten Artikel müssen Sie nicht zurücksenden. Den Sendungslink bekommen Sie, sobald das Paket unterwegs ist.",
            },
            "payment_problem": {
                "subject": "Problem mit der Zahlung für Bestellung {order}",
                "customer": [
                    "Hallo, ich wollte Bestellung {order} bezahlen, aber die Zahlung ist fehlgeschlagen – trotzdem wurde Geld von meiner Karte abgebucht. Ist meine Bestellung bestätigt?",
                    "Guten Tag, bei meiner Bestellung #{order} steht immer noch „Zahlung ausstehend“. Ich habe vor drei Tagen überwiesen.",
                ],
                "agent": "Danke für den Hinweis. Ich habe Bestellung {order} geprüft: Die Zahlung ist bei uns noch nicht eingegangen. Falls ein Betrag auf Ihrer Karte reserviert wurde, gibt Ihre Bank ihn in wenigen Tagen automatisch wieder frei. Sobald die Zahlung da ist, verschicken wir Ihre Bestellung.",
            },
            "product_question": {
                "subject": "Frage zu „{product}“",
                "customer": [
                    "Hallo, ich interessiere mich für „{product}“. Wie groß ist der Artikel genau und wie pflege ich ihn am besten?",
                    "Guten Tag, ist „{product}“ bald wieder lieferbar?",
                ],
                "agent": "Danke für Ihr Interesse an „{product}“! Maße und Pflegehinweise finden Sie auf der Produktseite unter „Details“. Wenn eine Farbe oder Größe ausverkauft ist, klicken Sie auf „Benachrichtigen“ – wir schreiben Ihnen, sobald sie wieder da ist.",
            },
            "feedback_praise": {
                "subject": "Vielen Dank!",
                "customer": [
                    "Ich wollte nur Danke sagen – Bestellung {order} kam schnell an und alles ist wunderschön!",
                    "„{product}“ sieht in unserem Wohnzimmer fantastisch aus. Toller Service, danke!",
                ],
                "agent": "Vielen Dank für Ihre lieben Worte – darüber freuen wir uns sehr! Viel Freude mit Ihren neuen Lieblingsstücken.",
            },
        },
    },
    "hu": {
        "hello": "Kedves {first}!",
        "signoff": "Üdvözlettel:\n{agent} – Nordlys Home & Living",
        "assistant": "– a Nordlys asszisztens",
        "thanks": ["Köszönöm szépen!", "Szuper, köszönöm!", "Tökéletes, köszönöm a gyors segítséget."],
        "closing": [
            "Szívesen! Ha bármi másban segíthetünk, írjon nekünk bátran.",
            "Örömmel segítettünk – szép napot kívánunk!",
        ],
        "nudge": ["Van már valami hír ezzel kapcsolatban?", "Jó napot, még mindig a válaszukra várok."],
        "holding": "Köszönjük az üzenetét – utánanézek, és hamarosan jelentkezem.",
        "followup": "Elnézést, még egy dolog: ezt e-mailben is meg tudnák erősíteni?",
        "confirm": "Természetesen – a visszaigazolás néhány percen belül megérkezik a postafiókjába.",
        "intents": {
            "track_order": {
                "subject": "Rendelés állapota – {order}",
                "customer": [
                    "Jó napot! Néhány napja rendeltem ({order} számú rendelés), de még nem kaptam meg semmit. Meg tudják mondani, hol van a csomagom?",
                    "Üdv! Meg tudnák nézni a #{order} rendelés állapotát? Szeretném tudni, mikor érkezik.",
                    "hol van a rendelésem? {order} a nyomkövetés nem sokat mond",
                ],
                "agent": "Köszönjük a türelmét! A rendelése ({order}) már úton van, a szállító: {carrier}. A csomagot itt követheti: {tracking_url}\nA következő néhány munkanapon belül meg kell érkeznie.",
            },
            "delivery_problem": {
                "subject": "Még mindig nem érkezett meg – {order}",
                "customer": [
                    "Jó napot! A rendelésemnek ({order}) múlt héten kellett volna megérkeznie, de a nyomkövetés napok óta nem változott. Mi történt?",
                    "Üdv! A #{order} rendelés várható kézbesítési dátuma lejárt, és még mindig nem kaptam meg. Utánanéznének a futárszolgálatnál?",
                ],
                "agent": "Elnézést kérünk a késésért! Csomagkeresést indítottunk a futárszolgálatnál ({carrier}) a rendelésével ({order}) kapcsolatban. Ha a csomag a következő 2 munkanapban nem mozdul, küldünk egy újat, vagy visszatérítjük az árát – ahogy Önnek kényelmesebb.",
            },
            "cancel_order": {
                "subject": "Rendelés lemondása – {order}",
                "customer": [
                    "Jó napot! Szeretném lemondani a rendelésemet ({order}), rossz színt választottam. Feladták már?",
                    "Kérem, mondják le a #{order} rendelést. Máshol megtaláltam, amit kerestem, elnézést!",
                ],
                "agent": "Semmi gond – a rendelését ({order}) még nem adtuk fel, így töröltem. Az összeget 5 munkanapon belül visszautaljuk az eredeti fizetési módra.",
            },
            "change_shipping_address": {
                "subject": "Hibás cím a rendelésen – {order}",
                "customer": [
                    "Jó napot! Most vettem észre, hogy a rendelésemen ({order}) még a régi címem szerepel. Kérem, erre a címre küldjék: {address}",
                    "Módosíthatom még a szállítási címet a #{order} rendelésnél? Jövő héten nem leszek otthon – kérem, ide szállítsák: {address}",
                ],
                "agent": "Elintéztem! Módosítottam a szállítási címet a rendelésén ({order}). Hamarosan új visszaigazolást kap e-mailben.",
            },
            "return_request": {
                "subject": "Visszaküldés – {order}",
                "customer": [
                    "Jó napot! Szeretném visszaküldeni ezt a terméket: {product} (rendelés: {order}). Sajnos nem egészen olyan, mint amire számítottam. Hogyan működik a visszaküldés?",
                    "Üdv! Ez a termék: {product} (rendelés: #{order}) másképp néz ki, mint a fotókon. Visszaküldhetem?",
                ],
                "agent": "Természetesen! Létrehoztam a visszaküldést ehhez a termékhez: {product} (rendelés: {order}). E-mailben kap egy előre fizetett visszaküldési címkét – csomagolja be a terméket az eredeti csomagolásba, és adja le. Amint megérkezett hozzánk, 5 munkanapon belül visszatérítjük az árát.",
            },
            "refund_status": {
                "subject": "Visszatérítés – {order}",
                "customer": [
                    "Jó napot! Két hete feladtam a visszaküldést a rendelésemhez ({order}). Mikor kapom vissza a pénzemet?",
                    "Üdv! Elindították már a visszatérítést a #{order} rendeléshez? Még nem látom a számlámon.",
                ],
                "agent": "Köszönjük a türelmét! A visszaküldött csomag ({order}) megérkezett, a visszatérítést elindítottuk. Bankjától függően 3–5 munkanap, mire megjelenik a számláján.",
            },
            "damaged_or_wrong_item": {
                "subject": "Sérült termék – {order}",
                "customer": [
                    "Jó napot! Ma megérkezett a csomagom ({order}), de ez a termék összetörve volt a dobozban: {product}. Nagyon csalódott vagyok – mit tudnak tenni?",
                    "Üdv! A rendelésemben (#{order}) ez a termék nagy repedéssel érkezett: {product}. Szívesen küldök fotót.",
                ],
                "agent": "Nagyon sajnálom, hogy a termék ({product}) sérülten érkezett! Díjmentesen küldünk cserét – a sérült darabot nem kell visszaküldenie. A nyomkövetési linket elküldjük, amint a csomag úton van.",
            },
            "payment_problem": {
                "subject": "Fizetési probléma – {order}",
                "customer": [
                    "Jó napot! Ki akartam fizetni a rendelésemet ({order}), de a fizetés sikertelen volt, a kártyámról mégis levonták az összeget. Rendben van a rendelésem?",
                    "Üdv! A #{order} rendelésnél még mindig „fizetésre vár” áll. Három napja átutaltam az összeget.",
                ],
                "agent": "Köszönjük, hogy jelezte. Megnéztem a rendelését ({order}): a fizetés még nem érkezett meg hozzánk. Ha a kártyáján zároltak egy összeget, azt a bankja néhány napon belül automatikusan feloldja. Amint a fizetés beérkezik, feladjuk a rendelését.",
            },
            "product_question": {
                "subject": "Kérdés a termékről: {product}",
                "customer": [
                    "Jó napot! Érdekel ez a termék: {product}. Pontosan mekkora, és hogyan kell ápolni?",
                    "Üdv! Mikor lesz újra kapható ez a termék: {product}?",
                ],
                "agent": "Köszönjük az érdeklődését! A méreteket és az ápolási útmutatót a termékoldalon, a „Részletek” alatt találja. Ha egy szín vagy méret elfogyott, kattintson az „Értesítést kérek” gombra, és e-mailt küldünk, amint újra raktáron van.",
            },
            "feedback_praise": {
                "subject": "Köszönöm!",
                "customer": [
                    "Csak meg szerettem volna köszönni – a rendelésem ({order}) gyorsan megérkezett, és minden gyönyörű!",
                    "Ez a termék csodásan mutat a nappalinkban: {product}. Remek kiszolgálás, köszönöm!",
                ],
                "agent": "Nagyon köszönjük kedves szavait – ezzel szebbé tette a napunkat! Sok örömet kívánunk az új kedvencekhez.",
            },
        },
    },
    "nb": {
        "hello": "Hei {first},",
        "signoff": "Vennlig hilsen\n{agent} – Nordlys Home & Living",
        "assistant": "– Nordlys-assistenten",
        "thanks": ["Tusen takk!", "Supert, takk skal du ha!", "Perfekt, takk for rask hjelp."],
        "closing": [
            "Bare hyggelig! Si ifra hvis det er noe mer vi kan hjelpe med.",
            "Hyggelig å kunne hjelpe – ha en fin dag!",
        ],
        "nudge": ["Er det noe nytt om dette?", "Hei? Jeg venter fortsatt på svar."],
        "holding": "Takk for meldingen – jeg ser på dette og kommer tilbake til deg så snart som mulig.",
        "followup": "Beklager, én ting til – kan dere bekrefte dette på e-post også?",
        "confirm": "Selvfølgelig – bekreftelsen kommer i innboksen din om noen minutter.",
        "intents": {
            "track_order": {
                "subject": "Hvor er bestillingen min {order}?",
                "customer": [
                    "Hei! Jeg bestilte for noen dager siden (ordre {order}) og har ikke fått noe ennå. Kan dere si meg hvor pakken er?",
                    "Hei, kan dere sjekke statusen på ordre #{order}? Jeg lurer på når den kommer.",
                    "hvor er bestillingen min {order}? sporingen sier ikke så mye",
                ],
                "agent": "Takk for tålmodigheten! Ordre {order} er på vei med {carrier}. Du kan følge pakken her: {tracking_url}\nDen skal komme frem i løpet av de neste virkedagene.",
            },
            "delivery_problem": {
                "subject": "Ordre {order} er fortsatt ikke levert",
                "customer": [
                    "Hei, ordre {order} skulle ha kommet forrige uke, men sporingen har ikke endret seg på flere dager. Hva skjer?",
                    "Hei! Forventet leveringsdato for #{order} har passert, og jeg har fortsatt ikke fått noe. Kan dere sjekke med transportøren?",
                ],
                "agent": "Beklager forsinkelsen! Jeg har startet en etterlysning hos {carrier} for ordre {order}. Hvis pakken ikke beveger seg i løpet av de neste 2 virkedagene, sender vi en ny eller refunderer beløpet – akkurat som du foretrekker.",
            },
            "cancel_order": {
                "subject": "Kansellere ordre {order}",
                "customer": [
                    "Hei, jeg vil gjerne kansellere ordre {order}, jeg bestilte feil farge. Er den sendt allerede?",
                    "Vær så snill å kansellere ordre #{order}. Jeg fant det jeg trengte et annet sted, beklager!",
                ],
                "agent": "Ikke noe problem – ordre {order} var ikke sendt ennå, så jeg har kansellert den. Beløpet blir tilbakeført til den opprinnelige betalingsmåten innen 5 virkedager.",
            },
            "change_shipping_address": {
                "subject": "Feil adresse på ordre {order}",
                "customer": [
                    "Hei, jeg så nettopp at jeg brukte den gamle adressen min på ordre {order}. Kan dere sende den til denne adressen i stedet: {address}",
                    "Kan jeg fortsatt endre leveringsadressen for #{order}? Jeg er ikke hjemme neste uke – lever gjerne til {address}",
                ],
                "agent": "Ordnet! Jeg har oppdatert leveringsadressen for ordre {order}. Du får en ny bekreftelse på e-post om litt.",
            },
            "return_request": {
                "subject": "Retur av ordre {order}",
                "customer": [
                    "Hei, jeg vil gjerne returnere «{product}» fra ordre {order}. Den var ikke helt som jeg hadde håpet. Hvordan gjør jeg det?",
                    "Hei! «{product}» (ordre #{order}) ser annerledes ut enn på bildene. Kan jeg sende den tilbake?",
                ],
                "agent": "Selvfølgelig! Jeg har opprettet en retur for «{product}» fra ordre {order}. Du får en forhåndsbetalt returetikett på e-post – pakk varen i originalemballasjen og lever den. Når vi har mottatt returen, refunderer vi beløpet innen 5 virkedager.",
            },
            "refund_status": {
                "subject": "Refusjon for ordre {order}",
                "customer": [
                    "Hei, jeg sendte returen for ordre {order} for to uker siden. Når får jeg pengene tilbake?",
                    "Hei! Er refusjonen for #{order} behandlet? Jeg ser den ikke på kontoen min ennå.",
                ],
                "agent": "Takk for tålmodigheten! Returen for ordre {order} har kommet frem, og refusjonen er utbetalt. Avhengig av banken kan det ta 3–5 virkedager før beløpet vises på kontoen din.",
            },
            "damaged_or_wrong_item": {
                "subject": "Skadet vare i ordre {order}",
                "customer": [
                    "Hei, pakken min (ordre {order}) kom i dag, men «{product}» var knust i esken. Veldig skuffende – hva kan dere gjøre?",
                    "Hei! «{product}» fra ordre #{order} kom med en stor sprekk. Jeg kan sende et bilde.",
                ],
                "agent": "Så leit at «{product}» kom frem skadet! Vi sender deg en ny helt kostnadsfritt – du trenger ikke å returnere den ødelagte. Du får sporingslenken så snart pakken er på vei.",
            },
            "payment_problem": {
                "subject": "Betalingsproblem med ordre {order}",
                "customer": [
                    "Hei, jeg prøvde å betale for ordre {order}, men betalingen feilet, selv om pengene ble trukket fra kortet mitt. Er bestillingen bekreftet?",
                    "Hei! Ordre #{order} står fortsatt som «venter på betaling». Jeg betalte med bankoverføring for tre dager siden.",
                ],
                "agent": "Takk for at du sa ifra. Jeg har sjekket ordre {order}: betalingen har ikke kommet inn hos oss ennå. Hvis et beløp er reservert på kortet ditt, frigjør banken det automatisk i løpet av noen dager. Så snart betalingen er mottatt, sender vi bestillingen.",
            },
            "product_question": {
                "subject": "Spørsmål om «{product}»",
                "customer": [
                    "Hei, jeg er interessert i «{product}». Hva er de nøyaktige målene, og hvordan bør jeg ta vare på den?",
                    "Hei! Kommer «{product}» snart tilbake på lager?",
                ],
                "agent": "Takk for interessen for «{product}»! Mål og vedlikeholdsråd finner du på produktsiden under «Detaljer». Hvis en farge eller størrelse er utsolgt, klikker du på «Varsle meg», så sender vi deg en e-post når den er tilbake.",
            },
            "feedback_praise": {
                "subject": "Tusen takk!",
                "customer": [
                    "Ville bare si tusen takk – ordre {order} kom raskt, og alt er nydelig!",
                    "«{product}» ser fantastisk ut i stua vår. Flott service, takk!",
                ],
                "agent": "Tusen takk for de hyggelige ordene – det gjorde dagen vår! Kos deg med de nye tingene.",
            },
        },
    },
    "fr": {
        "hello": "Bonjour {first},",
        "signoff": "Bien cordialement,\n{agent} – Nordlys Home & Living",
        "assistant": "– l'assistant Nordlys",
        "thanks": ["Merci beaucoup !", "Super, merci !", "Parfait, merci pour votre aide rapide."],
        "closing": [
            "Avec plaisir ! N'hésitez pas à nous écrire si nous pouvons faire autre chose pour vous.",
            "Ravi d'avoir pu vous aider – belle journée !",
        ],
        "nudge": ["Avez-vous du nouveau à ce sujet ?", "Bonjour ? J'attends toujours une réponse."],
        "holding": "Merci pour votre message – je regarde cela de près et je reviens vers vous au plus vite.",
        "followup": "Pardon, encore une chose : pourriez-vous aussi me le confirmer par e-mail ?",
        "confirm": "Bien sûr – vous trouverez la confirmation dans votre boîte de réception d'ici quelques minutes.",
        "intents": {
            "track_order": {
                "subject": "Où en est ma commande {order} ?",
                "customer": [
                    "Bonjour, j'ai passé commande il y a quelques jours (commande {order}) et je n'ai encore rien reçu. Pouvez-vous me dire où se trouve mon colis ?",
                    "Bonjour ! Pourriez-vous vérifier le statut de la commande n° {order} ? J'aimerais savoir quand elle arrivera.",
                    "où est ma commande {order} ? le suivi ne m'indique pas grand-chose",
                ],
                "agent": "Merci pour votre patience ! Votre commande {order} est en route avec {carrier}. Vous pouvez suivre le colis ici : {tracking_url}\nElle devrait arriver dans les prochains jours ouvrés.",
            },
            "delivery_problem": {
                "subject": "Commande {order} toujours pas livrée",
                "customer": [
                    "Bonjour, ma commande {order} aurait dû arriver la semaine dernière, mais le suivi n'a pas bougé depuis des jours. Que se passe-t-il ?",
                    "Bonjour, la date de livraison prévue pour la commande n° {order} est dépassée et je n'ai toujours rien reçu. Pouvez-vous vérifier auprès du transporteur ?",
                ],
                "agent": "Toutes nos excuses pour ce retard ! J'ai ouvert une enquête auprès de {carrier} pour la commande {order}. Si le colis ne bouge pas dans les 2 prochains jours ouvrés, nous vous envoyons un remplacement ou vous remboursons – comme vous préférez.",
            },
            "cancel_order": {
                "subject": "Annulation de la commande {order}",
                "customer": [
                    "Bonjour, je souhaite annuler ma commande {order}, je me suis trompé de couleur. A-t-elle déjà été expédiée ?",
                    "Merci d'annuler la commande n° {order}. J'ai trouvé ce qu'il me fallait ailleurs, désolé !",
                ],
                "agent": "Aucun problème – votre commande {order} n'avait pas encore été expédiée, je l'ai donc annulée. Le montant sera remboursé sur votre moyen de paiement d'origine sous 5 jours ouvrés.",
            },
            "change_shipping_address": {
                "subject": "Mauvaise adresse sur la commande {order}",
                "customer": [
                    "Bonjour, je viens de remarquer que j'ai indiqué mon ancienne adresse pour la commande {order}. Pouvez-vous l'envoyer plutôt à cette adresse : {address}",
                    "Est-il encore possible de modifier l'adresse de livraison de la commande n° {order} ? Je ne serai pas chez moi la semaine prochaine – merci de livrer à : {address}",
                ],
                "agent": "C'est fait ! J'ai mis à jour l'adresse de livraison de la commande {order}. Vous allez recevoir une nouvelle confirmation par e-mail.",
            },
            "return_request": {
                "subject": "Retour pour la commande {order}",
                "customer": [
                    "Bonjour, je souhaite retourner l'article « {product} » de la commande {order}. Il ne correspond pas tout à fait à mes attentes. Comment faire ?",
                    "Bonjour ! L'article « {product} » (commande n° {order}) ne ressemble pas aux photos. Puis-je le renvoyer ?",
                ],
                "agent": "Bien sûr ! J'ai créé un retour pour l'article « {product} » de la commande {order}. Vous recevrez une étiquette de retour prépayée par e-mail – il suffit d'emballer l'article dans son emballage d'origine et de le déposer. Dès réception, nous vous remboursons sous 5 jours ouvrés.",
            },
            "refund_status": {
                "subject": "Remboursement de la commande {order}",
                "customer": [
                    "Bonjour, j'ai renvoyé mon retour pour la commande {order} il y a deux semaines. Quand serai-je remboursé ?",
                    "Bonjour, le remboursement de la commande n° {order} a-t-il été effectué ? Je ne vois rien sur mon compte.",
                ],
                "agent": "Merci pour votre patience ! Votre retour pour la commande {order} est bien arrivé et le remboursement a été effectué. Selon votre banque, il faut compter 3 à 5 jours ouvrés avant qu'il apparaisse sur votre compte.",
            },
            "damaged_or_wrong_item": {
                "subject": "Article endommagé dans la commande {order}",
                "customer": [
                    "Bonjour, mon colis (commande {order}) est arrivé aujourd'hui, mais l'article « {product} » était cassé dans le carton. Très déçu – que pouvez-vous faire ?",
                    "Bonjour, l'article « {product} » de la commande n° {order} est arrivé avec une grosse fissure. Je peux vous envoyer une photo.",
                ],
                "agent": "Je suis vraiment désolé que l'article « {product} » soit arrivé endommagé ! Nous vous envoyons un remplacement gratuitement – inutile de nous renvoyer l'article cassé. Vous recevrez le lien de suivi dès que le colis sera en route.",
            },
            "payment_problem": {
                "subject": "Problème de paiement pour la commande {order}",
                "customer": [
                    "Bonjour, j'ai essayé de payer la commande {order} mais le paiement a échoué, alors que le montant a été débité de ma carte. Ma commande est-elle confirmée ?",
                    "Bonjour, ma commande n° {order} indique toujours « paiement en attente ». J'ai fait un virement il y a trois jours.",
                ],
                "agent": "Merci de nous avoir prévenus. J'ai vérifié la commande {order} : le paiement ne nous est pas encore parvenu. Si un montant a été bloqué sur votre carte, votre banque le libérera automatiquement sous quelques jours. Dès réception du paiement, nous expédions votre commande.",
            },
            "product_question": {
                "subject": "Question sur l'article « {product} »",
                "customer": [
                    "Bonjour, l'article « {product} » m'intéresse. Quelles sont ses dimensions exactes et comment l'entretenir ?",
                    "Bonjour, l'article « {product} » sera-t-il bientôt de nouveau disponible ?",
                ],
                "agent": "Merci de votre intérêt pour l'article « {product} » ! Vous trouverez les dimensions et les conseils d'entretien sur la page produit, rubrique « Détails ». Si une couleur ou une taille est épuisée, cliquez sur « M'avertir » et nous vous enverrons un e-mail dès son retour en stock.",
            },
            "feedback_praise": {
                "subject": "Merci !",
                "customer": [
                    "Je voulais simplement vous remercier – la commande {order} est arrivée rapidement et tout est magnifique !",
                    "L'article « {product} » est superbe dans notre salon. Service au top, merci !",
                ],
                "agent": "Merci infiniment pour votre gentil message – il a illuminé notre journée ! Profitez bien de vos nouveaux articles.",
            },
        },
    },
    "sv": {
        "hello": "Hej {first},",
        "signoff": "Vänliga hälsningar\n{agent} – Nordlys Home & Living",
        "assistant": "– Nordlys-assistenten",
        "thanks": ["Tack så mycket!", "Toppen, tack!", "Perfekt, tack för den snabba hjälpen."],
        "closing": [
            "Varsågod! Hör av dig om det är något mer vi kan hjälpa till med.",
            "Kul att vi kunde hjälpa till – ha en fin dag!",
        ],
        "nudge": ["Finns det något nytt om detta?", "Hej? Jag väntar fortfarande på svar."],
        "holding": "Tack för ditt meddelande – jag tittar på detta och återkommer så snart som möjligt.",
        "followup": "Förlåt, en sak till – kan ni bekräfta detta via e-post också?",
        "confirm": "Självklart – bekräftelsen kommer till din inkorg inom några minuter.",
        "intents": {
            "track_order": {
                "subject": "Var är min beställning {order}?",
                "customer": [
                    "Hej! Jag beställde för några dagar sedan (order {order}) och har inte fått något än. Kan ni säga var mitt paket är?",
                    "Hej, kan ni kolla statusen på order #{order}? Jag undrar när den kommer.",
                    "var är min beställning {order}? spårningen säger inte mycket",
                ],
                "agent": "Tack för ditt tålamod! Din order {order} är på väg med {carrier}. Du kan följa paketet här: {tracking_url}\nDet bör komma fram inom de närmaste arbetsdagarna.",
            },
            "delivery_problem": {
                "subject": "Order {order} har fortfarande inte levererats",
                "customer": [
                    "Hej, min order {order} skulle ha kommit förra veckan, men spårningen har inte ändrats på flera dagar. Vad händer?",
                    "Hej! Det beräknade leveransdatumet för #{order} har passerat och jag har fortfarande inte fått något. Kan ni kolla med transportören?",
                ],
                "agent": "Vi ber om ursäkt för förseningen! Jag har startat en efterforskning hos {carrier} för order {order}. Om paketet inte rör sig inom de närmaste 2 arbetsdagarna skickar vi en ersättare eller återbetalar beloppet – precis som du vill.",
            },
            "cancel_order": {
                "subject": "Avbeställa order {order}",
                "customer": [
                    "Hej, jag vill avbeställa min order {order}, jag valde fel färg. Har den redan skickats?",
                    "Snälla avbryt order #{order}. Jag hittade det jag behövde någon annanstans, förlåt!",
                ],
                "agent": "Inga problem – din order {order} hade inte skickats än, så jag har avbrutit den. Beloppet återbetalas till ditt ursprungliga betalsätt inom 5 arbetsdagar.",
            },
            "change_shipping_address": {
                "subject": "Fel adress på order {order}",
                "customer": [
                    "Hej, jag märkte precis att jag angav min gamla adress för order {order}. Kan ni skicka den till den här adressen i stället: {address}",
                    "Kan jag fortfarande ändra leveransadressen för #{order}? Jag är inte hemma nästa vecka – leverera gärna till {address}",
                ],
                "agent": "Klart! Jag har uppdaterat leveransadressen för order {order}. Du får en ny bekräftelse via e-post inom kort.",
            },
            "return_request": {
                "subject": "Retur av order {order}",
                "customer": [
                    "Hej, jag vill returnera ”{product}” från order {order}. Den var inte riktigt som jag hade hoppats. Hur gör jag?",
                    "Hej! ”{product}” (order #{order}) ser annorlunda ut än på bilderna. Kan jag skicka tillbaka den?",
                ],
                "agent": "Självklart! Jag har skapat en retur för ”{product}” från order {order}. Du får en förbetald returetikett via e-post – packa varan i originalförpackningen och lämna in den. När vi har tagit emot returen återbetalar vi beloppet inom 5 arbetsdagar.",
            },
            "refund_status": {
                "subject": "Återbetalning för order {order}",
                "customer": [
                    "Hej, jag skickade tillbaka min retur för order {order} för två veckor sedan. När får jag pengarna tillbaka?",
                    "Hej! Har återbetalningen för #{order} genomförts? Jag ser den inte på mitt konto än.",
                ],
                "agent": "Tack för ditt tålamod! Din retur för order {order} har kommit fram och återbetalningen är genomförd. Beroende på din bank kan det ta 3–5 arbetsdagar innan beloppet syns på ditt konto.",
            },
            "damaged_or_wrong_item": {
                "subject": "Skadad vara i order {order}",
                "customer": [
                    "Hej, mitt paket (order {order}) kom i dag, men ”{product}” var trasig i kartongen. Väldigt tråkigt – vad kan ni göra?",
                    "Hej! ”{product}” från order #{order} kom med en stor spricka. Jag kan skicka en bild.",
                ],
                "agent": "Vad tråkigt att ”{product}” kom fram skadad! Vi skickar en ersättare helt kostnadsfritt – du behöver inte returnera den trasiga. Du får spårningslänken så snart paketet är på väg.",
            },
            "payment_problem": {
                "subject": "Betalningsproblem med order {order}",
                "customer": [
                    "Hej, jag försökte betala order {order} men betalningen misslyckades, trots att pengar drogs från mitt kort. Är min beställning bekräftad?",
                    "Hej! Order #{order} står fortfarande som ”väntar på betalning”. Jag betalade via banköverföring för tre dagar sedan.",
                ],
                "agent": "Tack för att du hörde av dig. Jag har kollat order {order}: betalningen har inte kommit in till oss än. Om ett belopp har reserverats på ditt kort släpper banken det automatiskt inom några dagar. Så snart betalningen har kommit in skickar vi din beställning.",
            },
            "product_question": {
                "subject": "Fråga om ”{product}”",
                "customer": [
                    "Hej, jag är intresserad av ”{product}”. Vilka är de exakta måtten och hur sköter jag den bäst?",
                    "Hej! Kommer ”{product}” snart tillbaka i lager?",
                ],
                "agent": "Tack för ditt intresse för ”{product}”! Mått och skötselråd hittar du på produktsidan under ”Detaljer”. Om en färg eller storlek är slutsåld klickar du på ”Bevaka”, så mejlar vi dig när den är tillbaka.",
            },
            "feedback_praise": {
                "subject": "Tack så mycket!",
                "customer": [
                    "Ville bara säga tack – order {order} kom snabbt och allt är jättefint!",
                    "”{product}” ser fantastisk ut i vårt vardagsrum. Toppenservice, tack!",
                ],
                "agent": "Tack så mycket för de fina orden – de gjorde vår dag! Njut av dina nya saker.",
            },
        },
    },
    "pl": {
        "hello": "Dzień dobry,",
        "signoff": "Pozdrawiamy serdecznie\n{agent} – Nordlys Home & Living",
        "assistant": "– asystent Nordlys",
        "thanks": ["Dziękuję bardzo!", "Super, dziękuję!", "Świetnie, dziękuję za szybką pomoc."],
        "closing": [
            "Nie ma za co! W razie pytań jesteśmy do dyspozycji.",
            "Cieszymy się, że mogliśmy pomóc – miłego dnia!",
        ],
        "nudge": ["Czy wiadomo już coś w tej sprawie?", "Dzień dobry, nadal czekam na odpowiedź."],
        "holding": "Dziękujemy za wiadomość – sprawdzamy to i wkrótce wrócimy z odpowiedzią.",
        "followup": "Przepraszam, jeszcze jedno – czy mogą Państwo potwierdzić to również e-mailem?",
        "confirm": "Oczywiście – potwierdzenie dotrze na skrzynkę w ciągu kilku minut.",
        "intents": {
            "track_order": {
                "subject": "Gdzie jest moje zamówienie {order}?",
                "customer": [
                    "Dzień dobry, moje zamówienie {order} zostało złożone kilka dni temu i nadal nic nie dotarło. Czy mogą Państwo sprawdzić, gdzie jest paczka?",
                    "Dzień dobry! Proszę o sprawdzenie statusu zamówienia nr {order}. Kiedy mogę się spodziewać dostawy?",
                    "gdzie jest moje zamówienie {order}? śledzenie przesyłki niewiele mówi",
                ],
                "agent": "Dziękujemy za cierpliwość! Państwa zamówienie {order} jest w drodze, dostarcza je {carrier}. Przesyłkę można śledzić tutaj: {tracking_url}\nPowinna dotrzeć w ciągu najbliższych dni roboczych.",
            },
            "delivery_problem": {
                "subject": "Zamówienie {order} wciąż nie dotarło",
                "customer": [
                    "Dzień dobry, zamówienie {order} miało dotrzeć w zeszłym tygodniu, ale status przesyłki nie zmienił się od kilku dni. Co się dzieje?",
                    "Dzień dobry, przewidywana data dostawy zamówienia nr {order} minęła, a paczki nadal nie ma. Czy mogą Państwo to sprawdzić u przewoźnika?",
                ],
                "agent": "Przepraszamy za opóźnienie! Zleciliśmy przewoźnikowi ({carrier}) poszukiwanie przesyłki z zamówienia {order}. Jeśli paczka nie ruszy w ciągu 2 dni roboczych, wyślemy nową albo zwrócimy pieniądze – jak Państwo wolą.",
            },
            "cancel_order": {
                "subject": "Anulowanie zamówienia {order}",
                "customer": [
                    "Dzień dobry, chcę anulować zamówienie {order} – wybrany kolor jest niewłaściwy. Czy zostało już wysłane?",
                    "Proszę anulować zamówienie nr {order}, nie jest już potrzebne. Przepraszam za kłopot!",
                ],
                "agent": "Nie ma problemu – zamówienie {order} nie zostało jeszcze wysłane, więc je anulowaliśmy. Kwota wróci na pierwotną metodę płatności w ciągu 5 dni roboczych.",
            },
            "change_shipping_address": {
                "subject": "Błędny adres w zamówieniu {order}",
                "customer": [
                    "Dzień dobry, w zamówieniu {order} jest mój stary adres. Czy można wysłać paczkę na ten adres: {address}",
                    "Czy mogę jeszcze zmienić adres dostawy dla zamówienia nr {order}? W przyszłym tygodniu nie będzie mnie w domu – proszę o dostawę na adres: {address}",
                ],
                "agent": "Gotowe! Zaktualizowaliśmy adres dostawy dla zamówienia {order}. Nowe potwierdzenie wkrótce dotrze e-mailem.",
            },
            "return_request": {
                "subject": "Zwrot – zamówienie {order}",
                "customer": [
                    "Dzień dobry, chcę zwrócić produkt „{product}” z zamówienia {order}. Niestety nie spełnia moich oczekiwań. Jak to zrobić?",
                    "Dzień dobry! Produkt „{product}” (zamówienie nr {order}) wygląda inaczej niż na zdjęciach. Czy mogę go odesłać?",
                ],
                "agent": "Oczywiście! Utworzyliśmy zwrot produktu „{product}” z zamówienia {order}. Na e-mail dotrze opłacona etykieta zwrotna – wystarczy zapakować produkt w oryginalne opakowanie i nadać paczkę. Po otrzymaniu zwrotu oddamy pieniądze w ciągu 5 dni roboczych.",
            },
            "refund_status": {
                "subject": "Zwrot pieniędzy – zamówienie {order}",
                "customer": [
                    "Dzień dobry, paczka ze zwrotem do zamówienia {order} została nadana dwa tygodnie temu. Kiedy otrzymam zwrot pieniędzy?",
                    "Dzień dobry, czy zwrot pieniędzy za zamówienie nr {order} został już zlecony? Nie widzę go jeszcze na koncie.",
                ],
                "agent": "Dziękujemy za cierpliwość! Zwrot do zamówienia {order} dotarł do nas, a pieniądze zostały przelane. W zależności od banku środki pojawią się na koncie w ciągu 3–5 dni roboczych.",
            },
            "damaged_or_wrong_item": {
                "subject": "Uszkodzony produkt w zamówieniu {order}",
                "customer": [
                    "Dzień dobry, paczka (zamówienie {order}) dotarła dziś, ale produkt „{product}” był rozbity w kartonie. Bardzo szkoda – co mogą Państwo zrobić?",
                    "Dzień dobry, produkt „{product}” z zamówienia nr {order} ma duże pęknięcie. Mogę przesłać zdjęcie.",
                ],
                "agent": "Bardzo nam przykro, że produkt „{product}” dotarł uszkodzony! Bezpłatnie wyślemy nowy egzemplarz – uszkodzonego nie trzeba odsyłać. Link do śledzenia przesyłki prześlemy, gdy tylko paczka będzie w drodze.",
            },
            "payment_problem": {
                "subject": "Problem z płatnością za zamówienie {order}",
                "customer": [
                    "Dzień dobry, płatność za zamówienie {order} się nie powiodła, ale pieniądze zostały pobrane z karty. Czy zamówienie jest potwierdzone?",
                    "Dzień dobry, zamówienie nr {order} nadal ma status „oczekuje na płatność”, a przelew został wysłany trzy dni temu.",
                ],
                "agent": "Dziękujemy za informację. Sprawdziliśmy zamówienie {order}: płatność jeszcze do nas nie dotarła. Jeśli na karcie zablokowano kwotę, bank automatycznie ją odblokuje w ciągu kilku dni. Gdy tylko płatność wpłynie, wyślemy zamówienie.",
            },
            "product_question": {
                "subject": "Pytanie o produkt „{product}”",
                "customer": [
                    "Dzień dobry, interesuje mnie produkt „{product}”. Jakie ma dokładne wymiary i jak o niego dbać?",
                    "Dzień dobry, czy produkt „{product}” będzie wkrótce znowu dostępny?",
                ],
                "agent": "Dziękujemy za zainteresowanie produktem „{product}”! Wymiary i wskazówki dotyczące pielęgnacji znajdują się na stronie produktu w zakładce „Szczegóły”. Jeśli kolor lub rozmiar jest wyprzedany, wystarczy kliknąć „Powiadom mnie” – wyślemy e-mail, gdy tylko produkt wróci.",
            },
            "feedback_praise": {
                "subject": "Dziękuję!",
                "customer": [
                    "Chcę tylko podziękować – zamówienie {order} dotarło szybko i wszystko jest piękne!",
                    "Produkt „{product}” wygląda wspaniale w naszym salonie. Świetna obsługa, dziękuję!",
                ],
                "agent": "Bardzo dziękujemy za miłe słowa – to nam poprawiło dzień! Życzymy wiele radości z nowych rzeczy.",
            },
        },
    },
    "es": {
        "hello": "Hola, {first}:",
        "signoff": "Un saludo,\n{agent} – Nordlys Home & Living",
        "assistant": "– el asistente de Nordlys",
        "thanks": ["¡Muchas gracias!", "¡Genial, gracias!", "Perfecto, gracias por la ayuda tan rápida."],
        "closing": [
            "¡De nada! Si necesitas cualquier otra cosa, escríbenos.",
            "¡Encantados de ayudarte! Que tengas un buen día.",
        ],
        "nudge": ["¿Hay alguna novedad sobre esto?", "¿Hola? Sigo esperando una respuesta."],
        "holding": "Gracias por tu mensaje: lo estoy revisando y te respondo lo antes posible.",
        "followup": "Perdona, una cosa más: ¿me lo podéis confirmar también por correo electrónico?",
        "confirm": "¡Claro! En unos minutos tendrás la confirmación en tu bandeja de entrada.",
        "intents": {
            "track_order": {
                "subject": "¿Dónde está mi pedido {order}?",
                "customer": [
                    "Hola, hice un pedido hace unos días (pedido {order}) y todavía no he recibido nada. ¿Me podéis decir dónde está mi paquete?",
                    "¡Hola! ¿Podríais comprobar el estado del pedido n.º {order}? Me gustaría saber cuándo llega.",
                    "dónde está mi pedido {order}? el seguimiento no dice mucho",
                ],
                "agent": "¡Gracias por tu paciencia! Tu pedido {order} está en camino con {carrier}. Puedes seguir el paquete aquí: {tracking_url}\nDebería llegar en los próximos días laborables.",
            },
            "delivery_problem": {
                "subject": "El pedido {order} todavía no ha llegado",
                "customer": [
                    "Hola, mi pedido {order} tenía que llegar la semana pasada, pero el seguimiento no ha cambiado en varios días. ¿Qué pasa?",
                    "Hola, la fecha estimada de entrega del pedido n.º {order} ya ha pasado y sigo sin recibir nada. ¿Podéis consultarlo con la empresa de transporte?",
                ],
                "agent": "¡Perdona el retraso! He abierto una investigación con {carrier} para el pedido {order}. Si el paquete no se mueve en los próximos 2 días laborables, te enviamos uno nuevo o te devolvemos el dinero, lo que prefieras.",
            },
            "cancel_order": {
                "subject": "Cancelar el pedido {order}",
                "customer": [
                    "Hola, quiero cancelar mi pedido {order}, me equivoqué de color. ¿Ya lo habéis enviado?",
                    "Por favor, cancelad el pedido n.º {order}. Ya encontré lo que necesitaba en otro sitio, ¡perdón!",
                ],
                "agent": "Sin problema: tu pedido {order} aún no se había enviado, así que lo he cancelado. El importe se devolverá a tu método de pago original en un plazo de 5 días laborables.",
            },
            "change_shipping_address": {
                "subject": "Dirección incorrecta en el pedido {order}",
                "customer": [
                    "Hola, acabo de darme cuenta de que puse mi dirección antigua en el pedido {order}. ¿Podéis enviarlo a esta dirección? {address}",
                    "¿Todavía puedo cambiar la dirección de entrega del pedido n.º {order}? La semana que viene no estaré en casa; por favor, entregadlo en: {address}",
                ],
                "agent": "¡Hecho! He actualizado la dirección de entrega del pedido {order}. En breve recibirás una nueva confirmación por correo electrónico.",
            },
            "return_request": {
                "subject": "Devolución del pedido {order}",
                "customer": [
                    "Hola, quiero devolver «{product}» del pedido {order}. No es exactamente lo que esperaba. ¿Cómo funciona?",
                    "¡Hola! «{product}» (pedido n.º {order}) es distinto de las fotos. ¿Puedo devolverlo?",
                ],
                "agent": "¡Claro! He creado una devolución para «{product}» del pedido {order}. Recibirás por correo una etiqueta de devolución prepagada: solo tienes que empaquetar el artículo en su embalaje original y entregarlo. En cuanto lo recibamos, te reembolsaremos el importe en un plazo de 5 días laborables.",
            },
            "refund_status": {
                "subject": "Reembolso del pedido {order}",
                "customer": [
                    "Hola, envié la devolución del pedido {order} hace dos semanas. ¿Cuándo me devolvéis el dinero?",
                    "Hola, ¿ya se ha tramitado el reembolso del pedido n.º {order}? Todavía no lo veo en mi cuenta.",
                ],
                "agent": "¡Gracias por tu paciencia! Tu devolución del pedido {order} ya ha llegado y hemos emitido el reembolso. Según tu banco, puede tardar de 3 a 5 días laborables en aparecer en tu cuenta.",
            },
            "damaged_or_wrong_item": {
                "subject": "Artículo dañado en el pedido {order}",
                "customer": [
                    "Hola, mi paquete (pedido {order}) ha llegado hoy, pero «{product}» venía roto dentro de la caja. Qué decepción, ¿qué podéis hacer?",
                    "Hola, «{product}» del pedido n.º {order} ha llegado con una grieta grande. Os puedo mandar una foto.",
                ],
                "agent": "¡Sentimos mucho que «{product}» haya llegado dañado! Te enviamos uno nuevo sin coste: no hace falta que devuelvas el roto. Te mandaremos el enlace de seguimiento en cuanto el paquete esté en camino.",
            },
            "payment_problem": {
                "subject": "Problema con el pago del pedido {order}",
                "customer": [
                    "Hola, intenté pagar el pedido {order} pero el pago falló, aunque me han cobrado en la tarjeta. ¿Está confirmado mi pedido?",
                    "Hola, mi pedido n.º {order} sigue como «pendiente de pago». Hice la transferencia hace tres días.",
                ],
                "agent": "Gracias por avisarnos. He revisado el pedido {order}: el pago todavía no nos ha llegado. Si se ha retenido un importe en tu tarjeta, tu banco lo liberará automáticamente en unos días. En cuanto recibamos el pago, enviaremos tu pedido.",
            },
            "product_question": {
                "subject": "Pregunta sobre «{product}»",
                "customer": [
                    "Hola, me interesa «{product}». ¿Cuáles son las medidas exactas y cómo se cuida?",
                    "Hola, ¿volverá pronto a estar disponible «{product}»?",
                ],
                "agent": "¡Gracias por tu interés en «{product}»! Encontrarás las medidas y las instrucciones de cuidado en la página del producto, en «Detalles». Si un color o una talla están agotados, haz clic en «Avísame» y te escribiremos en cuanto vuelvan a estar disponibles.",
            },
            "feedback_praise": {
                "subject": "¡Muchas gracias!",
                "customer": [
                    "Solo quería daros las gracias: el pedido {order} llegó rapidísimo y ¡todo es precioso!",
                    "«{product}» queda genial en nuestro salón. ¡Un servicio estupendo, gracias!",
                ],
                "agent": "¡Muchísimas gracias por tus palabras! Nos has alegrado el día. Disfruta mucho de tus cosas nuevas.",
            },
        },
    },
}

# Internal notes are written in the team's working language (English).
NOTES: dict[str, list[str]] = {
    "track_order": [
        "Checked the carrier portal: the parcel is moving normally.",
        "Second question about this order – keep an eye on it.",
    ],
    "delivery_problem": [
        "Opened a carrier investigation. Replacement prepared in case the parcel is lost.",
        "Parcel stuck at the sorting centre; carrier promised an update within 48 h.",
    ],
    "cancel_order": ["Cancelled in the store admin before fulfilment."],
    "change_shipping_address": ["Address updated in the store admin; no label printed yet."],
    "return_request": ["Return approved: not final sale and within the 30-day window."],
    "refund_status": ["Refund shows as succeeded in the payment provider."],
    "damaged_or_wrong_item": [
        "Replacement sent without return (breakage, item under €80).",
        "Asked the warehouse to double-box fragile items for this customer.",
    ],
    "payment_problem": ["Payment provider shows an expired authorisation – nothing was captured."],
    "product_question": ["Asked the buying team for the restock date."],
    "feedback_praise": ["Shared in the team channel."],
}

# ---------------------------------------------------------------------------------------------------------
# Macros: one greeting and sign-off per language around a body per macro.

MACRO_GREETING = {
    "en": "Hi {{customer.first_name}},",
    "de": "Hallo {{customer.first_name}},",
    "hu": "Kedves {{customer.first_name}}!",
    "nb": "Hei {{customer.first_name}},",
    "fr": "Bonjour {{customer.first_name}},",
    "sv": "Hej {{customer.first_name}},",
    "pl": "Dzień dobry {{customer.first_name}},",
    "es": "Hola, {{customer.first_name}}:",
}

MACRO_SIGNOFF = {
    "en": "Kind regards,\n{{agent.first_name}} – {{shop.name}}",
    "de": "Viele Grüße\n{{agent.first_name}} – {{shop.name}}",
    "hu": "Üdvözlettel:\n{{agent.first_name}} – {{shop.name}}",
    "nb": "Vennlig hilsen\n{{agent.first_name}} – {{shop.name}}",
    "fr": "Bien cordialement,\n{{agent.first_name}} – {{shop.name}}",
    "sv": "Vänliga hälsningar\n{{agent.first_name}} – {{shop.name}}",
    "pl": "Pozdrawiamy serdecznie\n{{agent.first_name}} – {{shop.name}}",
    "es": "Un saludo,\n{{agent.first_name}} – {{shop.name}}",
}

MACROS: list[dict[str, Any]] = [
    {
        "name": "Order on its way",
        "intent": "track_order",
        "actions": {"add_tags": ["wismo"], "set_status": "resolved"},
        "bodies": {
            "en": "Your order {{order.number}} is on its way with {{shipment.carrier}}. You can follow the parcel here: {{shipment.tracking_url}}",
            "de": "Ihre Bestellung {{order.number}} ist mit {{shipment.carrier}} unterwegs. Hier können Sie das Paket verfolgen: {{shipment.tracking_url}}",
            "hu": "A rendelése ({{order.number}}) már úton van, a szállító: {{shipment.carrier}}. A csomagot itt követheti: {{shipment.tracking_url}}",
            "nb": "Ordre {{order.number}} er på vei med {{shipment.carrier}}. Du kan følge pakken her: {{shipment.tracking_url}}",
            "fr": "Votre commande {{order.number}} est en route avec {{shipment.carrier}}. Vous pouvez suivre le colis ici : {{shipment.tracking_url}}",
            "sv": "Din order {{order.number}} är på väg med {{shipment.carrier}}. Du kan följa paketet här: {{shipment.tracking_url}}",
            "pl": "Zamówienie {{order.number}} jest w drodze, dostarcza je {{shipment.carrier}}. Przesyłkę można śledzić tutaj: {{shipment.tracking_url}}",
            "es": "Tu pedido {{order.number}} está en camino con {{shipment.carrier}}. Puedes seguir el paquete aquí: {{shipment.tracking_url}}",
        },
    },
    {
        "name": "Delivery delayed – investigation opened",
        "intent": "delivery_problem",
        "actions": {"add_tags": ["delay"], "set_status": "pending"},
        "bodies": {
            "en": "I'm sorry that your order {{order.number}} is taking longer than expected. We have opened an investigation with {{shipment.carrier}} and will update you within 2 working days. The latest status is always here: {{shipment.tracking_url}}",
            "de": "Es tut mir leid, dass Ihre Bestellung {{order.number}} länger braucht als geplant. Wir haben bei {{shipment.carrier}} einen Nachforschungsauftrag gestellt und melden uns innerhalb von 2 Werktagen. Den aktuellen Stand sehen Sie jederzeit hier: {{shipment.tracking_url}}",
            "hu": "Sajnálom, hogy a rendelése ({{order.number}}) a vártnál tovább tart. Csomagkeresést indítottunk a futárszolgálatnál ({{shipment.carrier}}), és 2 munkanapon belül jelentkezünk. Az aktuális állapotot itt mindig megtalálja: {{shipment.tracking_url}}",
            "nb": "Beklager at ordre {{order.number}} tar lengre tid enn forventet. Vi har startet en etterlysning hos {{shipment.carrier}} og gir deg beskjed innen 2 virkedager. Siste status finner du alltid her: {{shipment.tracking_url}}",
            "fr": "Je suis désolé que votre commande {{order.number}} prenne plus de temps que prévu. Nous avons ouvert une enquête auprès de {{shipment.carrier}} et revenons vers vous sous 2 jours ouvrés. Le dernier statut est toujours disponible ici : {{shipment.tracking_url}}",
            "sv": "Vi beklagar att din order {{order.number}} dröjer. Vi har startat en efterforskning hos {{shipment.carrier}} och återkommer inom 2 arbetsdagar. Senaste status hittar du alltid här: {{shipment.tracking_url}}",
            "pl": "Przepraszamy, że zamówienie {{order.number}} jest w drodze dłużej niż zwykle. Zleciliśmy przewoźnikowi ({{shipment.carrier}}) poszukiwanie przesyłki i odezwiemy się w ciągu 2 dni roboczych. Aktualny status zawsze tutaj: {{shipment.tracking_url}}",
            "es": "Siento que tu pedido {{order.number}} esté tardando más de lo previsto. Hemos abierto una investigación con {{shipment.carrier}} y te escribiremos en un plazo de 2 días laborables. Aquí tienes siempre el estado más reciente: {{shipment.tracking_url}}",
        },
    },
    {
        "name": "Cancellation confirmed",
        "intent": "cancel_order",
        "actions": {"add_tags": ["cancellation"], "set_status": "resolved"},
        "bodies": {
            "en": "Your order {{order.number}} has been cancelled. The amount will be refunded to your original payment method within 5 working days.",
            "de": "Ihre Bestellung {{order.number}} wurde storniert. Den Betrag erhalten Sie innerhalb von 5 Werktagen auf Ihr ursprüngliches Zahlungsmittel zurück.",
            "hu": "A rendelését ({{order.number}}) töröltük. Az összeget 5 munkanapon belül visszautaljuk az eredeti fizetési módra.",
            "nb": "Ordre {{order.number}} er kansellert. Beløpet blir tilbakeført til den opprinnelige betalingsmåten innen 5 virkedager.",
            "fr": "Votre commande {{order.number}} a bien été annulée. Le montant sera remboursé sur votre moyen de paiement d'origine sous 5 jours ouvrés.",
            "sv": "Din order {{order.number}} har avbrutits. Beloppet återbetalas till ditt ursprungliga betalsätt inom 5 arbetsdagar.",
            "pl": "Zamówienie {{order.number}} zostało anulowane. Kwota wróci na pierwotną metodę płatności w ciągu 5 dni roboczych.",
            "es": "Tu pedido {{order.number}} se ha cancelado. El importe se devolverá a tu método de pago original en un plazo de 5 días laborables.",
        },
    },
    {
        "name": "Delivery address updated",
        "intent": "change_shipping_address",
        "actions": {"add_tags": ["address-change"], "set_status": "resolved"},
        "bodies": {
            "en": "We have updated the delivery address for order {{order.number}}. You will receive a new confirmation by email shortly.",
            "de": "Wir haben die Lieferadresse für Bestellung {{order.number}} geändert. Sie erhalten in Kürze eine neue Bestätigung per E-Mail.",
            "hu": "Módosítottuk a szállítási címet a rendelésén ({{order.number}}). Hamarosan új visszaigazolást kap e-mailben.",
            "nb": "Vi har oppdatert leveringsadressen for ordre {{order.number}}. Du får en ny bekreftelse på e-post om kort tid.",
            "fr": "Nous avons mis à jour l'adresse de livraison de la commande {{order.number}}. Vous recevrez prochainement une nouvelle confirmation par e-mail.",
            "sv": "Vi har uppdaterat leveransadressen för order {{order.number}}. Du får en ny bekräftelse via e-post inom kort.",
            "pl": "Zaktualizowaliśmy adres dostawy dla zamówienia {{order.number}}. Nowe potwierdzenie wkrótce dotrze e-mailem.",
            "es": "Hemos actualizado la dirección de entrega del pedido {{order.number}}. En breve recibirás una nueva confirmación por correo electrónico.",
        },
    },
    {
        "name": "Return label sent",
        "intent": "return_request",
        "actions": {"add_tags": ["return"], "set_status": "pending"},
        "bodies": {
            "en": "We have created a return for order {{order.number}}. You'll receive a prepaid return label by email – pack the items in their original packaging and drop the parcel off at the nearest parcel shop. We refund you within 5 working days after the parcel arrives.",
            "de": "Wir haben eine Rücksendung für Bestellung {{order.number}} angelegt. Sie erhalten ein kostenloses Rücksendeetikett per E-Mail – packen Sie die Artikel in die Originalverpackung und geben Sie das Paket im nächsten Paketshop ab. Nach Eingang erstatten wir den Betrag innerhalb von 5 Werktagen.",
            "hu": "Létrehoztuk a visszaküldést a rendeléséhez ({{order.number}}). E-mailben kap egy előre fizetett visszaküldési címkét – csomagolja a termékeket az eredeti csomagolásba, és adja le a legközelebbi csomagponton. A csomag beérkezése után 5 munkanapon belül visszatérítjük az összeget.",
            "nb": "Vi har opprettet en retur for ordre {{order.number}}. Du får en forhåndsbetalt returetikett på e-post – pakk varene i originalemballasjen og lever pakken på nærmeste hentested. Vi refunderer innen 5 virkedager etter at pakken har kommet frem.",
            "fr": "Nous avons créé un retour pour la commande {{order.number}}. Vous recevrez une étiquette de retour prépayée par e-mail – emballez les articles dans leur emballage d'origine et déposez le colis dans le point relais le plus proche. Nous vous remboursons sous 5 jours ouvrés après réception.",
            "sv": "Vi har skapat en retur för order {{order.number}}. Du får en förbetald returetikett via e-post – packa varorna i originalförpackningen och lämna paketet hos närmaste ombud. Vi återbetalar inom 5 arbetsdagar efter att paketet har kommit fram.",
            "pl": "Utworzyliśmy zwrot dla zamówienia {{order.number}}. Na e-mail dotrze opłacona etykieta zwrotna – wystarczy zapakować produkty w oryginalne opakowanie i nadać paczkę w najbliższym punkcie. Pieniądze zwrócimy w ciągu 5 dni roboczych od otrzymania paczki.",
            "es": "Hemos creado una devolución para el pedido {{order.number}}. Recibirás por correo una etiqueta de devolución prepagada: empaqueta los artículos en su embalaje original y entrega el paquete en el punto de recogida más cercano. Te reembolsamos en un plazo de 5 días laborables desde que llegue.",
        },
    },
    {
        "name": "Refund issued",
        "intent": "refund_status",
        "actions": {"add_tags": ["refund"], "set_status": "resolved"},
        "bodies": {
            "en": "We have refunded {{refund.amount}} for order {{order.number}}. Depending on your bank it can take 3–5 working days until the amount shows up on your account.",
            "de": "Wir haben {{refund.amount}} für Bestellung {{order.number}} erstattet. Je nach Bank dauert es 3–5 Werktage, bis der Betrag auf Ihrem Konto erscheint.",
            "hu": "Visszatérítettünk {{refund.amount}} összeget a rendeléséhez ({{order.number}}). Bankjától függően 3–5 munkanap, mire megjelenik a számláján.",
            "nb": "Vi har refundert {{refund.amount}} for ordre {{order.number}}. Avhengig av banken kan det ta 3–5 virkedager før beløpet vises på kontoen din.",
            "fr": "Nous avons remboursé {{refund.amount}} pour la commande {{order.number}}. Selon votre banque, il faut compter 3 à 5 jours ouvrés avant que le montant apparaisse sur votre compte.",
            "sv": "Vi har återbetalat {{refund.amount}} för order {{order.number}}. Beroende på din bank kan det ta 3–5 arbetsdagar innan beloppet syns på ditt konto.",
            "pl": "Zwróciliśmy {{refund.amount}} za zamówienie {{order.number}}. W zależności od banku środki pojawią się na koncie w ciągu 3–5 dni roboczych.",
            "es": "Te hemos reembolsado {{refund.amount}} del pedido {{order.number}}. Según tu banco, puede tardar de 3 a 5 días laborables en aparecer en tu cuenta.",
        },
    },
    {
        "name": "Damaged item – replacement",
        "intent": "damaged_or_wrong_item",
        "actions": {"add_tags": ["damaged"], "set_status": "resolved"},
        "bodies": {
            "en": "I'm very sorry that something from order {{order.number}} arrived damaged. We are sending you a replacement free of charge – there's no need to return the broken item.",
            "de": "Es tut mir sehr leid, dass ein Artikel aus Bestellung {{order.number}} beschädigt angekommen ist. Wir schicken Ihnen kostenlos Ersatz – den beschädigten Artikel müssen Sie nicht zurücksenden.",
            "hu": "Nagyon sajnálom, hogy a rendelésből ({{order.number}}) egy termék sérülten érkezett. Díjmentesen küldünk cserét – a sérült darabot nem kell visszaküldenie.",
            "nb": "Så leit at noe fra ordre {{order.number}} kom frem skadet. Vi sender deg en ny helt kostnadsfritt – du trenger ikke å returnere den ødelagte varen.",
            "fr": "Je suis vraiment désolé qu'un article de la commande {{order.number}} soit arrivé endommagé. Nous vous envoyons un remplacement gratuitement – inutile de nous renvoyer l'article cassé.",
            "sv": "Vad tråkigt att något från order {{order.number}} kom fram skadat. Vi skickar en ersättare helt kostnadsfritt – du behöver inte returnera den trasiga varan.",
            "pl": "Bardzo nam przykro, że produkt z zamówienia {{order.number}} dotarł uszkodzony. Bezpłatnie wyślemy nowy egzemplarz – uszkodzonego nie trzeba odsyłać.",
            "es": "Siento mucho que un artículo del pedido {{order.number}} haya llegado dañado. Te enviamos uno nuevo sin coste: no hace falta que devuelvas el roto.",
        },
    },
    {
        "name": "Damaged item – ask for a photo",
        "intent": "damaged_or_wrong_item",
        "actions": {"add_tags": ["damaged"], "set_status": "pending"},
        "bodies": {
            "en": "I'm sorry to hear that something from order {{order.number}} arrived damaged. Could you send us a photo of the item and the packaging? Then we can arrange a replacement or a refund straight away.",
            "de": "Es tut mir leid, dass etwas aus Bestellung {{order.number}} beschädigt angekommen ist. Könnten Sie uns ein Foto vom Artikel und der Verpackung schicken? Dann kümmern wir uns sofort um Ersatz oder eine Erstattung.",
            "hu": "Sajnálom, hogy a rendelésből ({{order.number}}) valami sérülten érkezett. Küldene nekünk egy fotót a termékről és a csomagolásról? Utána azonnal intézzük a cserét vagy a visszatérítést.",
            "nb": "Så leit å høre at noe fra ordre {{order.number}} kom frem skadet. Kan du sende oss et bilde av varen og emballasjen? Da ordner vi en ny vare eller refusjon med en gang.",
            "fr": "Je suis désolé d'apprendre qu'un article de la commande {{order.number}} est arrivé endommagé. Pourriez-vous nous envoyer une photo de l'article et de l'emballage ? Nous organiserons aussitôt un remplacement ou un remboursement.",
            "sv": "Tråkigt att höra att något från order {{order.number}} kom fram skadat. Kan du skicka en bild på varan och förpackningen? Då ordnar vi en ersättare eller återbetalning direkt.",
            "pl": "Przykro nam, że produkt z zamówienia {{order.number}} dotarł uszkodzony. Czy mogą Państwo przesłać zdjęcie produktu i opakowania? Od razu zorganizujemy wymianę lub zwrot pieniędzy.",
            "es": "Siento que algo del pedido {{order.number}} haya llegado dañado. ¿Nos puedes enviar una foto del artículo y del embalaje? Así organizamos enseguida un reemplazo o un reembolso.",
        },
    },
    {
        "name": "Payment not received yet",
        "intent": "payment_problem",
        "actions": {"add_tags": ["payment"], "set_status": "pending"},
        "bodies": {
            "en": "We haven't received the payment for order {{order.number}} yet. If an amount was reserved on your card, your bank releases it automatically within a few days. You can complete the payment with the link in your order confirmation.",
            "de": "Die Zahlung für Bestellung {{order.number}} ist bei uns noch nicht eingegangen. Falls ein Betrag auf Ihrer Karte reserviert wurde, gibt Ihre Bank ihn in wenigen Tagen automatisch frei. Sie können die Zahlung über den Link in Ihrer Bestellbestätigung abschließen.",
            "hu": "A rendelés ({{order.number}}) ellenértéke még nem érkezett meg hozzánk. Ha a kártyáján zároltak egy összeget, azt a bankja néhány napon belül automatikusan feloldja. A fizetést a rendelés-visszaigazolásban található linken fejezheti be.",
            "nb": "Vi har ikke mottatt betalingen for ordre {{order.number}} ennå. Hvis et beløp er reservert på kortet ditt, frigjør banken det automatisk i løpet av noen dager. Du kan fullføre betalingen via lenken i ordrebekreftelsen.",
            "fr": "Nous n'avons pas encore reçu le paiement de la commande {{order.number}}. Si un montant a été bloqué sur votre carte, votre banque le libérera automatiquement sous quelques jours. Vous pouvez finaliser le paiement via le lien de votre confirmation de commande.",
            "sv": "Vi har inte fått betalningen för order {{order.number}} än. Om ett belopp har reserverats på ditt kort släpper banken det automatiskt inom några dagar. Du kan slutföra betalningen via länken i din orderbekräftelse.",
            "pl": "Płatność za zamówienie {{order.number}} jeszcze do nas nie dotarła. Jeśli na karcie zablokowano kwotę, bank automatycznie ją odblokuje w ciągu kilku dni. Płatność można dokończyć przez link w potwierdzeniu zamówienia.",
            "es": "Todavía no hemos recibido el pago del pedido {{order.number}}. Si se ha retenido un importe en tu tarjeta, tu banco lo liberará automáticamente en unos días. Puedes completar el pago con el enlace de la confirmación del pedido.",
        },
    },
    {
        "name": "Back in stock soon",
        "intent": "stock_availability",
        "actions": {"add_tags": ["stock"], "set_status": "resolved"},
        "bodies": {
            "en": "{{product.title}} is expected back in stock around {{product.restock_date}}. Click 'Notify me' on the product page and we'll email you as soon as it's available.",
            "de": "„{{product.title}}“ ist voraussichtlich ab {{product.restock_date}} wieder lieferbar. Klicken Sie auf der Produktseite auf „Benachrichtigen“ – wir schreiben Ihnen, sobald der Artikel da ist.",
            "hu": "A termék ({{product.title}}) várhatóan {{product.restock_date}} körül lesz újra raktáron. Kattintson a termékoldalon az „Értesítést kérek” gombra, és e-mailt küldünk, amint elérhető.",
            "nb": "«{{product.title}}» er ventet tilbake på lager rundt {{product.restock_date}}. Klikk på «Varsle meg» på produktsiden, så sender vi deg en e-post så snart den er tilgjengelig.",
            "fr": "L'article « {{product.title}} » devrait être de nouveau disponible vers le {{product.restock_date}}. Cliquez sur « M'avertir » sur la page produit et nous vous enverrons un e-mail dès son retour.",
            "sv": "”{{product.title}}” väntas vara tillbaka i lager runt {{product.restock_date}}. Klicka på ”Bevaka” på produktsidan så mejlar vi dig så snart den finns igen.",
            "pl": "Produkt „{{product.title}}” powinien być znowu dostępny około {{product.restock_date}}. Wystarczy kliknąć „Powiadom mnie” na stronie produktu – wyślemy e-mail, gdy tylko wróci.",
            "es": "«{{product.title}}» volverá a estar disponible hacia el {{product.restock_date}}. Haz clic en «Avísame» en la página del producto y te escribiremos en cuanto esté disponible.",
        },
    },
]


def macro_bodies(macro: dict[str, Any]) -> dict[str, str]:
    """The full per-language bodies: greeting, the macro's text, sign-off."""
    return {
        lang: f"{MACRO_GREETING[lang]}\n\n{body}\n\n{MACRO_SIGNOFF[lang]}"
        for lang, body in macro["bodies"].items()
    }


# ---------------------------------------------------------------------------------------------------------
# Help-center articles (Markdown), English and German.

ARTICLES: list[dict[str, Any]] = [
    {
        "slug": "shipping-and-delivery",
        "category": "Shipping & delivery",
        "versions": {
            "en": (
                "Shipping and delivery",
                """We ship every order from our warehouse in Hamburg. Orders placed before 1 pm on a working day usually leave the warehouse the same day; orders placed later, at the weekend or on public holidays leave on the next working day. As soon as your parcel has been handed to the carrier, you receive an email with the tracking number and a link to follow it.

**Delivery times and costs.** Within Germany delivery takes 1–2 working days and costs €4.95 (free from €50). To the rest of the EU it takes 2–5 working days and costs €9.95 (free from €100). Norway, Switzerland, the United Kingdom and the United States take 4–8 working days and cost €14.95; import duties are included in the price for Norway and the UK. Express delivery is available within Germany and Austria for an extra €9.95.

**Carriers.** We work with DHL, DPD, GLS and UPS in Germany, and with trusted local carriers elsewhere: PostNord and Posten in Scandinavia, InPost in Poland, Magyar Posta in Hungary, Colissimo in France and Correos in Spain. If the tracking shows no movement for more than three working days, or the estimated delivery date has passed, write to us and we will open an investigation with the carrier. If a parcel is lost, we send a replacement or refund you – whichever you prefer.""",
            ),
            "de": (
                "Versand und Lieferung",
                """Wir versenden alle Bestellungen aus unserem Lager in Hamburg. Bestellungen, die an einem Werktag vor 13 Uhr eingehen, verlassen das Lager in der Regel noch am selben Tag; spätere Bestellungen sowie Bestellungen am Wochenende oder an Feiertagen gehen am nächsten Werktag raus. Sobald Ihr Paket beim Versanddienstleister ist, erhalten Sie eine E-Mail mit der Sendungsnummer und einem Link zur Sendungsverfolgung.

**Lieferzeiten und Kosten.** Innerhalb Deutschlands dauert die Lieferung 1–2 Werktage und kostet 4,95 € (ab 50 € versandkostenfrei). In die übrige EU dauert sie 2–5 Werktage und kostet 9,95 € (ab 100 € versandkostenfrei). Nach Norwegen, in die Schweiz, in das Vereinigte Königreich und in die USA dauert der Versand 4–8 Werktage und kostet 14,95 €; Einfuhrabgaben für Norwegen und das Vereinigte Königreich sind im Preis enthalten. Expressversand bieten wir innerhalb Deutschlands und Österreichs für 9,95 € Aufpreis an.

**Versanddienstleister.** In Deutschland arbeiten wir mit DHL, DPD, GLS und UPS, in anderen Ländern mit bewährten lokalen Partnern: PostNord und Posten in Skandinavien, InPost in Polen, Magyar Posta in Ungarn, Colissimo in Frankreich und Correos in Spanien. Wenn sich die Sendungsverfolgung länger als drei Werktage nicht bewegt oder das voraussichtliche Lieferdatum überschritten ist, schreiben Sie uns – wir stellen dann einen Nachforschungsauftrag. Geht ein Paket verloren, schicken wir Ersatz oder erstatten den Betrag, ganz wie Sie möchten.""",
            ),
        },
    },
    {
        "slug": "returns-and-refunds",
        "category": "Returns & refunds",
        "versions": {
            "en": (
                "Returns and refunds",
                """You can return any item within 30 days of delivery, as long as it is unused and in its original packaging. Items marked as final sale (for example from our sample sale) cannot be returned unless they arrive damaged. Returns from Germany, Austria and the Netherlands are free; from other countries we deduct €5.95 for the return label from your refund.

**How to return.** Open the link in your shipping confirmation or write to us with your order number. We send you a prepaid return label by email; pack the items well – ideally in the original box – and drop the parcel off at any parcel shop of the carrier named on the label. You can follow your return with the tracking link on the label.

**Refunds.** As soon as your return arrives, we check it within two working days and refund the amount to your original payment method. Depending on your bank or payment provider, it takes another 3–5 working days until you see the money. If you prefer, we can also exchange the item for another size or colour, or give you store credit with a 10% bonus.""",
            ),
            "de": (
                "Rücksendungen und Erstattungen",
                """Sie können jeden Artikel innerhalb von 30 Tagen nach der Zustellung zurückschicken, sofern er unbenutzt und originalverpackt ist. Artikel, die als „Final Sale“ gekennzeichnet sind (zum Beispiel aus unserem Musterverkauf), sind vom Umtausch ausgeschlossen, es sei denn, sie kommen beschädigt an. Rücksendungen aus Deutschland, Österreich und den Niederlanden sind kostenlos; aus anderen Ländern ziehen wir 5,95 € für das Rücksendeetikett von der Erstattung ab.

**So funktioniert die Rücksendung.** Öffnen Sie den Link in Ihrer Versandbestätigung oder schreiben Sie uns mit Ihrer Bestellnummer. Wir schicken Ihnen ein vorfrankiertes Rücksendeetikett per E-Mail; verpacken Sie die Artikel gut – am besten im Originalkarton – und geben Sie das Paket in einem Paketshop des auf dem Etikett genannten Versanddienstleisters ab. Mit dem Link auf dem Etikett können Sie Ihre Rücksendung verfolgen.

**Erstattung.** Sobald Ihre Rücksendung bei uns eintrifft, prüfen wir sie innerhalb von zwei Werktagen und erstatten den Betrag auf Ihr ursprüngliches Zahlungsmittel. Je nach Bank oder Zahlungsanbieter dauert es weitere 3–5 Werktage, bis Sie das Geld sehen. Auf Wunsch tauschen wir den Artikel auch gegen eine andere Größe oder Farbe um oder schreiben Ihnen ein Guthaben mit 10 % Bonus gut.""",
            ),
        },
    },
    {
        "slug": "payment-methods",
        "category": "Payment",
        "versions": {
            "en": (
                "Payment methods",
                """We accept Visa, Mastercard and American Express, PayPal, Apple Pay and Google Pay, Klarna (pay now or pay in 30 days) and bank transfer in advance. Depending on your country you can also pay with Vipps in Norway, Swish in Sweden, BLIK and Przelewy24 in Poland and Bizum in Spain. All prices are in euros; your bank converts the amount if your account is in another currency.

**When is my card charged?** For card payments we reserve the amount when you place your order and capture it when we ship. If an order is cancelled before shipping, the reservation is released – your bank decides how quickly, usually within 3–7 days. With bank transfer, please use your order number as the reference; we ship as soon as the money arrives and cancel unpaid orders after 7 days.

**Payment failed?** If your payment is declined, no order is placed and nothing is charged. Sometimes a bank shows a pending reservation for a failed attempt; it disappears by itself. If you see a charge but did not receive an order confirmation, write to us with the date and amount and we will sort it out.""",
            ),
            "de": (
                "Zahlungsarten",
                """Wir akzeptieren Visa, Mastercard und American Express, PayPal, Apple Pay und Google Pay, Klarna (sofort oder in 30 Tagen bezahlen) sowie Vorkasse per Überweisung. Je nach Land können Sie außerdem mit Vipps (Norwegen), Swish (Schweden), BLIK und Przelewy24 (Polen) oder Bizum (Spanien) bezahlen. Alle Preise verstehen sich in Euro; führt Ihre Bank Ihr Konto in einer anderen Währung, rechnet sie den Betrag um.

**Wann wird meine Karte belastet?** Bei Kartenzahlung reservieren wir den Betrag bei der Bestellung und buchen ihn beim Versand ab. Wird eine Bestellung vor dem Versand storniert, geben wir die Reservierung frei – wie schnell sie verschwindet, entscheidet Ihre Bank, meist innerhalb von 3–7 Tagen. Bei Vorkasse geben Sie bitte Ihre Bestellnummer als Verwendungszweck an; wir versenden, sobald das Geld eingegangen ist, und stornieren unbezahlte Bestellungen nach 7 Tagen.

**Zahlung fehlgeschlagen?** Wird Ihre Zahlung abgelehnt, kommt keine Bestellung zustande und es wird nichts abgebucht. Manchmal zeigt die Bank für einen fehlgeschlagenen Versuch eine vorgemerkte Reservierung an; sie verschwindet von selbst. Sehen Sie eine Abbuchung, aber keine Bestellbestätigung, schreiben Sie uns mit Datum und Betrag – wir klären das.""",
            ),
        },
    },
    {
        "slug": "size-guide",
        "category": "Products",
        "versions": {
            "en": (
                "Size guide",
                """Our clothing is cut in a relaxed Scandinavian fit. If you are between two sizes, choose the smaller one for knitwear and the larger one for linen shirts and dresses, which shrink slightly (up to 3%) after the first wash.

| Size | Chest (cm) | Waist (cm) | Hips (cm) |
|---|---|---|---|
| XS | 80–84 | 62–66 | 86–90 |
| S | 85–89 | 67–71 | 91–95 |
| M | 90–96 | 72–78 | 96–102 |
| L | 97–104 | 79–86 | 103–110 |
| XL | 105–112 | 87–94 | 111–118 |

**Bed linen and textiles.** Duvet covers come in 140×200, 155×220 and 200×200 cm, with matching pillowcases of 50×60 or 80×80 cm. Cushion covers fit inner cushions of the stated size; for a full look choose an inner cushion 5 cm larger. Wash linen at 40 °C and wool throws by hand or on the wool programme at 30 °C.""",
            ),
            "de": (
                "Größentabelle",
                """Unsere Kleidung ist in einer lässigen skandinavischen Passform geschnitten. Wenn Sie zwischen zwei Größen liegen, wählen Sie bei Strick die kleinere und bei Leinenhemden und -kleidern die größere Größe – Leinen läuft nach der ersten Wäsche leicht ein (bis zu 3 %).

| Größe | Brust (cm) | Taille (cm) | Hüfte (cm) |
|---|---|---|---|
| XS | 80–84 | 62–66 | 86–90 |
| S | 85–89 | 67–71 | 91–95 |
| M | 90–96 | 72–78 | 96–102 |
| L | 97–104 | 79–86 | 103–110 |
| XL | 105–112 | 87–94 | 111–118 |

**Bettwäsche und Textilien.** Bettbezüge gibt es in 140×200, 155×220 und 200×200 cm, passende Kissenbezüge in 50×60 oder 80×80 cm. Kissenhüllen passen auf Inlets in der angegebenen Größe; für einen besonders prallen Look wählen Sie ein 5 cm größeres Inlett. Leinen waschen Sie bei 40 °C, Wolldecken von Hand oder im Wollprogramm bei 30 °C.""",
            ),
        },
    },
    {
        "slug": "your-account",
        "category": "Your account",
        "versions": {
            "en": (
                "Your customer account",
                """With a customer account you can see all your orders and their tracking, start returns, save addresses and manage your newsletter settings. You don't need an account to order – as a guest you can look up any order with your order number and email address.

**Forgot your password?** Click 'Forgot password' on the sign-in page and enter your email address. You receive a link that is valid for 60 minutes. If no email arrives, check your spam folder or write to us – we never ask for your password by email or phone.

**Changing or deleting your data.** You can change your name, addresses and email address in your account at any time. If you want us to delete your account, write to us from the email address you registered with. We delete your data within 30 days, except for what we must keep by law (for example invoices, which we keep for 10 years).""",
            ),
            "de": (
                "Ihr Kundenkonto",
                """Mit einem Kundenkonto sehen Sie alle Bestellungen samt Sendungsverfolgung, starten Rücksendungen, speichern Adressen und verwalten Ihre Newsletter-Einstellungen. Zum Bestellen brauchen Sie kein Konto – als Gast können Sie jede Bestellung mit Bestellnummer und E-Mail-Adresse abrufen.

**Passwort vergessen?** Klicken Sie auf der Anmeldeseite auf „Passwort vergessen“ und geben Sie Ihre E-Mail-Adresse ein. Sie erhalten einen Link, der 60 Minuten gültig ist. Kommt keine E-Mail an, sehen Sie bitte im Spam-Ordner nach oder schreiben Sie uns – wir fragen Sie niemals per E-Mail oder Telefon nach Ihrem Passwort.

**Daten ändern oder löschen.** Name, Adressen und E-Mail-Adresse können Sie jederzeit in Ihrem Konto ändern. Wenn wir Ihr Konto löschen sollen, schreiben Sie uns von der registrierten E-Mail-Adresse. Wir löschen Ihre Daten innerhalb von 30 Tagen, mit Ausnahme dessen, was wir gesetzlich aufbewahren müssen (zum Beispiel Rechnungen, die wir 10 Jahre aufbewahren).""",
            ),
        },
    },
    {
        "slug": "damaged-or-wrong-items",
        "category": "Returns & refunds",
        "versions": {
            "en": (
                "Damaged, faulty or wrong items",
                """We pack every vase, bowl and lamp by hand with recycled paper padding, but now and then something breaks on the way. If an item arrives damaged, please write to us within 14 days of delivery with your order number and a photo of the item and the packaging.

For breakage we usually send a replacement straight away, without asking you to return the broken item. If the item is sold out, we refund it in full including the share of shipping costs. If you received the wrong item or a different size or colour than ordered, we send the right one and a free return label for the wrong one.

Please keep the outer box until the case is settled – the carrier sometimes asks to see it.""",
            ),
            "de": (
                "Beschädigte, fehlerhafte oder falsche Artikel",
                """Wir verpacken jede Vase, jede Schale und jede Lampe von Hand mit Polstern aus Recyclingpapier – trotzdem geht unterwegs gelegentlich etwas zu Bruch. Kommt ein Artikel beschädigt an, schreiben Sie uns bitte innerhalb von 14 Tagen nach der Zustellung mit Ihrer Bestellnummer und einem Foto von Artikel und Verpackung.

Bei Bruch schicken wir in der Regel sofort Ersatz, ohne dass Sie den beschädigten Artikel zurücksenden müssen. Ist der Artikel ausverkauft, erstatten wir ihn vollständig einschließlich des anteiligen Versands. Haben Sie einen falschen Artikel oder eine andere Größe oder Farbe als bestellt erhalten, schicken wir den richtigen und ein kostenloses Rücksendeetikett für den falschen.

Bitte heben Sie den Versandkarton auf, bis der Fall abgeschlossen ist – der Versanddienstleister möchte ihn manchmal sehen.""",
            ),
        },
    },
]
