/* storedesk chat widget — one tag: <script src="https://desk.example/widget/storedesk.js" data-shop="demo" async></script>
 * Vanilla JS, no dependencies. Agent → visitor by server-sent events, visitor → agent by POST.
 * Lives in a shadow root so the shop's CSS and ours never meet. */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-shop][src*='storedesk.js']");
  if (!script || window.__storedeskWidget) return;
  window.__storedeskWidget = true;
  var SHOP = script.getAttribute("data-shop");
  var BASE = new URL(script.src, location.href).origin;
  var API = BASE + "/widget/" + encodeURIComponent(SHOP);
  var KEY = "storedesk:" + SHOP + ":";

  var T = {
    en: { title: "Chat with us", online: "We're online", offline: "We're away", placeholder: "Write a message…", send: "Send",
      attach: "Attach a file", typing: "is typing…", agentTyping: "Support is typing…", prechat: "Before we start, how can we reach you?",
      name: "Name", email: "Email", order: "Order number (optional)", start: "Start chat", needOne: "Please enter your email or an order number.",
      offlineIntro: "Nobody is online right now. Leave a message and we'll answer by email.", message: "Message", leave: "Send message",
      thanks: "Thank you! We'll get back to you by email.", tooBig: "The file is too large.", badType: "Only images and PDF files can be sent.",
      failed: "Not sent — tap to retry", you: "You", close: "Close", open: "Open chat",
      suggested: "These articles may help", inLang: "In {lang}", back: "Back", track: "Track my order", article: "Help article" },
    de: { title: "Chatten Sie mit uns", online: "Wir sind online", offline: "Gerade nicht besetzt", placeholder: "Nachricht schreiben…", send: "Senden",
      attach: "Datei anhängen", typing: "schreibt…", agentTyping: "Der Support schreibt…", prechat: "Wie können wir Sie erreichen?",
      name: "Name", email: "E-Mail", order: "Bestellnummer (optional)", start: "Chat starten", needOne: "Bitte geben Sie Ihre E-Mail oder eine Bestellnummer an.",
      offlineIntro: "Gerade ist niemand online. Hinterlassen Sie eine Nachricht – wir antworten per E-Mail.", message: "Nachricht", leave: "Nachricht senden",
      thanks: "Danke! Wir melden uns per E-Mail.", tooBig: "Die Datei ist zu groß.", badType: "Nur Bilder und PDF-Dateien können gesendet werden.",
      failed: "Nicht gesendet – erneut versuchen", you: "Sie", close: "Schließen", open: "Chat öffnen",
      suggested: "Diese Artikel helfen vielleicht", inLang: "Auf {lang}", back: "Zurück", track: "Bestellung verfolgen", article: "Hilfeartikel" },
    hu: { title: "Írjon nekünk", online: "Elérhetők vagyunk", offline: "Most nem vagyunk elérhetők", placeholder: "Írja be üzenetét…", send: "Küldés",
      attach: "Fájl csatolása", typing: "éppen ír…", agentTyping: "Az ügyfélszolgálat ír…", prechat: "Hogyan érhetjük el Önt?",
      name: "Név", email: "E-mail", order: "Rendelésszám (nem kötelező)", start: "Csevegés indítása", needOne: "Adja meg e-mail-címét vagy rendelésszámát.",
      offlineIntro: "Most senki sem elérhető. Hagyjon üzenetet, e-mailben válaszolunk.", message: "Üzenet", leave: "Üzenet küldése",
      thanks: "Köszönjük! E-mailben jelentkezünk.", tooBig: "A fájl túl nagy.", badType: "Csak képek és PDF-fájlok küldhetők.",
      failed: "Nem sikerült elküldeni – újra", you: "Ön", close: "Bezárás", open: "Csevegés megnyitása",
      suggested: "Ezek a cikkek segíthetnek", inLang: "Nyelv: {lang}", back: "Vissza", track: "Rendelés követése", article: "Súgócikk" },
    nb: { title: "Chat med oss", online: "Vi er pålogget", offline: "Vi er borte", placeholder: "Skriv en melding…", send: "Send",
      attach: "Legg ved fil", typing: "skriver…", agentTyping: "Kundeservice skriver…", prechat: "Hvordan kan vi nå deg?",
      name: "Navn", email: "E-post", order: "Ordrenummer (valgfritt)", start: "Start chat", needOne: "Skriv inn e-post eller et ordrenummer.",
      offlineIntro: "Ingen er pålogget nå. Legg igjen en melding, så svarer vi på e-post.", message: "Melding", leave: "Send melding",
      thanks: "Takk! Vi svarer deg på e-post.", tooBig: "Filen er for stor.", badType: "Bare bilder og PDF-filer kan sendes.",
      failed: "Ikke sendt – prøv igjen", you: "Du", close: "Lukk", open: "Åpne chat",
      suggested: "Disse artiklene kan hjelpe", inLang: "På {lang}", back: "Tilbake", track: "Spor bestillingen", article: "Hjelpeartikkel" },
    fr: { title: "Discutons", online: "Nous sommes en ligne", offline: "Nous sommes absents", placeholder: "Écrivez un message…", send: "Envoyer",
      attach: "Joindre un fichier", typing: "écrit…", agentTyping: "Le support écrit…", prechat: "Comment pouvons-nous vous joindre ?",
      name: "Nom", email: "E-mail", order: "Numéro de commande (facultatif)", start: "Démarrer", needOne: "Indiquez votre e-mail ou un numéro de commande.",
      offlineIntro: "Personne n'est en ligne. Laissez un message, nous répondrons par e-mail.", message: "Message", leave: "Envoyer le message",
      thanks: "Merci ! Nous vous répondrons par e-mail.", tooBig: "Le fichier est trop volumineux.", badType: "Seuls les images et les PDF peuvent être envoyés.",
      failed: "Non envoyé – réessayer", you: "Vous", close: "Fermer", open: "Ouvrir le chat",
      suggested: "Ces articles peuvent vous aider", inLang: "En {lang}", back: "Retour", track: "Suivre ma commande", article: "Article d'aide" },
    sv: { title: "Chatta med oss", online: "Vi är online", offline: "Vi är borta", placeholder: "Skriv ett meddelande…", send: "Skicka",
      attach: "Bifoga fil", typing: "skriver…", agentTyping: "Kundtjänst skriver…", prechat: "Hur når vi dig?",
      name: "Namn", email: "E-post", order: "Ordernummer (valfritt)", start: "Starta chatten", needOne: "Ange din e-post eller ett ordernummer.",
      offlineIntro: "Ingen är online just nu. Lämna ett meddelande så svarar vi via e-post.", message: "Meddelande", leave: "Skicka meddelande",
      thanks: "Tack! Vi hör av oss via e-post.", tooBig: "Filen är för stor.", badType: "Endast bilder och PDF-filer kan skickas.",
      failed: "Inte skickat – försök igen", you: "Du", close: "Stäng", open: "Öppna chatten",
      suggested: "De här artiklarna kan hjälpa", inLang: "På {lang}", back: "Tillbaka", track: "Spåra min beställning", article: "Hjälpartikel" },
    pl: { title: "Napisz do nas", online: "Jesteśmy dostępni", offline: "Jesteśmy niedostępni", placeholder: "Napisz wiadomość…", send: "Wyślij",
      attach: "Dołącz plik", typing: "pisze…", agentTyping: "Obsługa pisze…", prechat: "Jak możemy się z Tobą skontaktować?",
      name: "Imię", email: "E-mail", order: "Numer zamówienia (opcjonalnie)", start: "Rozpocznij czat", needOne: "Podaj e-mail lub numer zamówienia.",
      offlineIntro: "Nikt nie jest teraz dostępny. Zostaw wiadomość, odpowiemy e-mailem.", message: "Wiadomość", leave: "Wyślij wiadomość",
      thanks: "Dziękujemy! Odpowiemy e-mailem.", tooBig: "Plik jest za duży.", badType: "Można wysyłać tylko obrazy i pliki PDF.",
      failed: "Nie wysłano – ponów", you: "Ty", close: "Zamknij", open: "Otwórz czat",
      suggested: "Te artykuły mogą pomóc", inLang: "Język: {lang}", back: "Wstecz", track: "Śledź zamówienie", article: "Artykuł pomocy" },
    es: { title: "Habla con nosotros", online: "Estamos en línea", offline: "No estamos disponibles", placeholder: "Escribe un mensaje…", send: "Enviar",
      attach: "Adjuntar archivo", typing: "está escribiendo…", agentTyping: "Soporte está escribiendo…", prechat: "¿Cómo podemos contactarte?",
      name: "Nombre", email: "Correo electrónico", order: "Número de pedido (opcional)", start: "Iniciar chat", needOne: "Indica tu correo o un número de pedido.",
      offlineIntro: "No hay nadie conectado. Deja un mensaje y te responderemos por correo.", message: "Mensaje", leave: "Enviar mensaje",
      thanks: "¡Gracias! Te responderemos por correo.", tooBig: "El archivo es demasiado grande.", badType: "Solo se pueden enviar imágenes y PDF.",
      failed: "No enviado – reintentar", you: "Tú", close: "Cerrar", open: "Abrir chat",
      suggested: "Estos artículos pueden ayudarte", inLang: "En {lang}", back: "Volver", track: "Seguir mi pedido", article: "Artículo de ayuda" }
  };
  T.no = T.nn = T.nb;
  var langs = (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"]);
  var LANG = "en";
  for (var li = 0; li < langs.length; li++) { var c = String(langs[li]).toLowerCase().slice(0, 2); if (T[c]) { LANG = c; break; } }
  var t = T[LANG];
  var PAGE_LANG = LANG === "no" || LANG === "nn" ? "nb" : LANG; /* the help center's and tracking page's code */
  var ZONE = ""; try { ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { ZONE = ""; }

  function store(k, v) { try { if (v === undefined) return localStorage.getItem(KEY + k); if (v === null) localStorage.removeItem(KEY + k); else localStorage.setItem(KEY + k, v); } catch (e) { return null; } }
  function uid() { return (window.crypto && crypto.randomUUID ? crypto.randomUUID() : Date.now().toString(36) + Math.random().toString(36).slice(2)).replace(/[^A-Za-z0-9]/g, ""); }
  function el(tag, attrs, kids) {
    var n = document.createElement(tag);
    for (var k in attrs || {}) { if (k === "text") n.textContent = attrs[k]; else if (k.slice(0, 2) === "on") n.addEventListener(k.slice(2), attrs[k]); else n.setAttribute(k, attrs[k]); }
    (kids || []).forEach(function (x) { if (x) n.appendChild(x); });
    return n;
  }
  function icon(d) {
    var ns = "http://www.w3.org/2000/svg", svg = document.createElementNS(ns, "svg"), path = document.createElementNS(ns, "path");
    svg.setAttribute("viewBox", "0 0 24 24"); svg.setAttribute("width", "24"); svg.setAttribute("height", "24"); svg.setAttribute("aria-hidden", "true");
    path.setAttribute("d", d); path.setAttribute("fill", "currentColor"); svg.appendChild(path); return svg;
  }
  var CHAT = "M20 2H4a2 2 0 0 0-2 2v18l4-4h14a2 2 0 0 0 2-2V4a2 2 0 0 0-2-2z";
  var CLIP = "M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6h-1.5z";
  function post(path, body) {
    return fetch(API + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw j; return j; }); });
  }

  var state = { token: store("token"), seen: {}, lastId: 0, unread: +(store("unread") || 0), open: sessionStorage.getItem(KEY + "open") === "1",
    online: true, identified: null, started: false, es: null, max: 5 * 1024 * 1024, typingSent: 0, typingTimer: null, agentTimer: null,
    visitor: null, suggestTimer: null, suggestSeq: 0, suggestLast: "", view: null };

  var host = el("div", { id: "storedesk-widget" });
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.appendChild(el("link", { rel: "stylesheet", href: BASE + "/widget/storedesk.css" }));
  var badge = el("span", { class: "sd-badge", hidden: "" });
  var launcher = el("button", { class: "sd-launcher", type: "button", "aria-label": t.open, onclick: function () { toggle(!state.open); } }, [
    icon(CHAT), badge]);
  var status = el("span", { class: "sd-status" });
  var list = el("ol", { class: "sd-messages", "aria-live": "polite" });
  var typingEl = el("div", { class: "sd-typing", hidden: "", text: t.agentTyping });
  var input = el("textarea", { class: "sd-input", rows: "1", placeholder: t.placeholder, "aria-label": t.placeholder });
  var file = el("input", { type: "file", accept: "image/png,image/jpeg,image/gif,image/webp,application/pdf,.docx,.xlsx,.odt,.ods,application/vnd.openxmlformats-officedocument.wordprocessingml.document,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,application/vnd.oasis.opendocument.text,application/vnd.oasis.opendocument.spreadsheet", hidden: "" });
  var notice = el("div", { class: "sd-notice", hidden: "" });
  var composer = el("form", { class: "sd-composer" }, [
    el("button", { type: "button", class: "sd-attach", title: t.attach, "aria-label": t.attach, onclick: function () { file.click(); } }, [icon(CLIP)]),
    file, input, el("button", { type: "submit", class: "sd-send", text: t.send })]);
  var suggestBox = el("div", { class: "sd-suggest", hidden: "", "aria-live": "polite" });
  var body = el("div", { class: "sd-body" });
  var tools = el("div", { class: "sd-tools" }, [
    el("button", { type: "button", class: "sd-track", text: t.track, onclick: function () { openTracking(); } })]);
  var panel = el("section", { class: "sd-panel", role: "dialog", "aria-label": t.title, hidden: "" }, [
    el("header", { class: "sd-header" }, [el("div", {}, [el("strong", { class: "sd-title", text: t.title }), status]),
      el("button", { type: "button", class: "sd-close", "aria-label": t.close, text: "×", onclick: function () { toggle(false); } })]),
    body, tools, notice]);
  root.appendChild(launcher);
  root.appendChild(panel);

  function showNotice(text) { notice.textContent = text; notice.hidden = !text; if (text) setTimeout(function () { notice.hidden = true; }, 5000); }
  function setBadge() { badge.textContent = state.unread > 9 ? "9+" : String(state.unread); badge.hidden = !state.unread; store("unread", String(state.unread)); }
  function toggle(open) {
    state.open = open; panel.hidden = !open; sessionStorage.setItem(KEY + "open", open ? "1" : "0");
    if (open) { state.unread = 0; setBadge(); render(); setTimeout(function () { (input.isConnected ? input : panel).focus(); list.scrollTop = list.scrollHeight; }, 0); }
  }

  function addMessage(m, pendingNode) {
    if (m.id && state.seen[m.id]) return;
    if (m.id) { state.seen[m.id] = true; state.lastId = Math.max(state.lastId, m.id); }
    var li = pendingNode || el("li");
    li.className = "sd-msg sd-" + m.from;
    li.textContent = "";
    if (m.from === "agent" && m.author) li.appendChild(el("span", { class: "sd-author", text: m.author }));
    if (m.text) li.appendChild(el("p", { text: m.text }));
    (m.attachments || []).forEach(function (a) {
      var href = a.url && a.url.charAt(0) === "/" ? BASE + a.url : a.url;
      if (href && /^image\//.test(a.content_type || "")) li.appendChild(el("a", { href: href, target: "_blank", rel: "noopener" }, [el("img", { src: href, alt: a.filename || "" })]));
      else if (href) li.appendChild(el("a", { class: "sd-file", href: href, target: "_blank", rel: "noopener", text: a.filename || "file" }));
    });
    if (m.buttons && m.buttons.length) li.appendChild(choices(m.buttons));
    if (m.id) li.setAttribute("data-id", m.id);
    if (!pendingNode) list.appendChild(li);
    list.scrollTop = list.scrollHeight;
    if (m.from === "agent" && !state.open && state.started) { state.unread++; setBadge(); }
  }

  function choices(buttons) { // a survey's scores: one tap answers (POST /survey), the answer comes back as a message
    var row = el("div", { class: "sd-choices", role: "group" });
    buttons.forEach(function (b) {
      row.appendChild(el("button", { type: "button", class: "sd-choice", text: b.title, title: b.description || b.title, onclick: function (e) {
        Array.prototype.forEach.call(row.children, function (x) { x.disabled = true; }); e.currentTarget.classList.add("sd-chosen");
        post("/survey", { token: state.token, button_id: b.id }).then(connect).catch(function (err) { showNotice((err.error && err.error.message) || t.failed); });
      } }));
    });
    return row;
  }

  function render() {
    state.view = null; tools.hidden = false;
    body.textContent = "";
    status.textContent = state.online ? t.online : t.offline;
    status.className = "sd-status " + (state.online ? "sd-on" : "sd-off");
    var hasChat = list.childNodes.length > 0 || state.identified;
    if (!state.online && !list.childNodes.length) return body.appendChild(offlineForm());
    if (!hasChat) return body.appendChild(prechatForm());
    body.appendChild(list); body.appendChild(typingEl);
    if (!list.childNodes.length) body.appendChild(suggestBox);
    body.appendChild(composer);
  }

  /* a help article or the tracking page inside the panel (same-origin pages of the desk, ?embed=1) */
  function openFrame(url, title) {
    state.view = url; tools.hidden = true;
    body.textContent = "";
    var frame = el("iframe", { class: "sd-frame", src: url, title: title, referrerpolicy: "strict-origin-when-cross-origin" });
    body.appendChild(el("div", { class: "sd-frame-bar" }, [
      el("button", { type: "button", class: "sd-back", text: "← " + t.back, onclick: function () { render(); input.focus(); } }),
      el("span", { class: "sd-frame-title", text: title })]));
    body.appendChild(frame);
  }

  /* suggested help-center articles while the first message is typed (before a conversation exists) */
  function clearSuggestions() { state.suggestLast = ""; suggestBox.textContent = ""; suggestBox.hidden = true; }
  function showSuggestions(items) {
    suggestBox.textContent = "";
    if (!items.length) { suggestBox.hidden = true; return; }
    suggestBox.appendChild(el("p", { class: "sd-suggest-title", text: t.suggested }));
    var ul = el("ul");
    items.slice(0, 3).forEach(function (a) {
      var b = el("button", { type: "button", class: "sd-article", "data-article": String(a.id), onclick: function () {
        openFrame(a.url + (a.url.indexOf("?") < 0 ? "?" : "&") + "embed=1", a.title); } }, [el("span", { class: "sd-article-title", text: a.title })]);
      if (a.other_language) b.appendChild(el("span", { class: "sd-lang", lang: PAGE_LANG, text: t.inLang.replace("{lang}", a.language_name) }));
      ul.appendChild(el("li", {}, [b]));
    });
    suggestBox.appendChild(ul); suggestBox.hidden = false;
  }
  function suggest() {
    if (list.childNodes.length || !window.fetch) return clearSuggestions();
    var q = input.value.trim();
    if (q.length < 3) return clearSuggestions();
    if (q === state.suggestLast) return;
    state.suggestLast = q;
    var seq = ++state.suggestSeq;
    var url = BASE + "/help/" + encodeURIComponent(SHOP) + "/suggest?limit=3&lang=" + PAGE_LANG + "&q=" + encodeURIComponent(q) +
      (state.visitor ? "&visitor=" + encodeURIComponent(state.visitor) : "");
    fetch(url, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { articles: [] }; })
      .then(function (d) { if (seq === state.suggestSeq && !list.childNodes.length) showSuggestions(d.articles || []); })
      .catch(function () { if (seq === state.suggestSeq) clearSuggestions(); });
  }

  function openTracking() {
    var form = BASE + "/track/" + encodeURIComponent(SHOP) + "?embed=1&lang=" + PAGE_LANG;
    if (!state.token || !state.identified || !state.identified.email || !state.identified.order_number) return openFrame(form, t.track);
    post("/track", { token: state.token, tz: ZONE || null, language: PAGE_LANG })
      .then(function (r) { openFrame(BASE + r.url, t.track); })
      .catch(function () { openFrame(form, t.track); });
  }

  function val(f, n) { var x = f.querySelector("[name=" + n + "]"); return x ? x.value.trim() : ""; }
  function field(label, name, type, required) {
    var id = "sd-" + name;
    return el("label", { for: id }, [el("span", { text: label }), el(type === "textarea" ? "textarea" : "input",
      type === "textarea" ? { id: id, name: name, rows: "4", required: "" } : { id: id, name: name, type: type, autocomplete: name === "email" ? "email" : name === "name" ? "name" : "off" })]);
  }

  function prechatForm() {
    var f = el("form", { class: "sd-form" }, [el("p", { text: t.prechat }), field(t.name, "name", "text"), field(t.email, "email", "email"),
      field(t.order, "order_number", "text"), el("button", { type: "submit", class: "sd-primary", text: t.start })]);
    f.addEventListener("submit", function (e) {
      e.preventDefault();
      var d = { token: state.token, name: val(f, "name") || null, email: val(f, "email") || null, order_number: val(f, "order_number") || null };
      if (!d.email && !d.order_number) return showNotice(t.needOne);
      post("/identify", d).then(function (r) { state.identified = r.identified; render(); input.focus(); }).catch(function (err) { showNotice((err.error && err.error.message) || t.needOne); });
    });
    return f;
  }

  function offlineForm() {
    var f = el("form", { class: "sd-form" }, [el("p", { text: t.offlineIntro }), field(t.name, "name", "text"), field(t.email, "email", "email", true),
      field(t.message, "text", "textarea"), el("button", { type: "submit", class: "sd-primary", text: t.leave })]);
    f.querySelector("[name=email]").required = true;
    f.addEventListener("submit", function (e) {
      e.preventDefault();
      post("/offline", { token: state.token, name: val(f, "name") || null, email: val(f, "email"), text: val(f, "text"), client_id: uid() })
        .then(function () { body.textContent = ""; body.appendChild(el("p", { class: "sd-thanks", text: t.thanks })); })
        .catch(function (err) { showNotice((err.error && err.error.message) || "Error"); });
    });
    return f;
  }

  function send(text, clientId, node) {
    var li = node || el("li", { class: "sd-msg sd-visitor sd-pending" }, [el("p", { text: text })]);
    if (!node) { list.appendChild(li); list.scrollTop = list.scrollHeight; }
    li.classList.remove("sd-failed");
    post("/messages", { token: state.token, text: text, client_id: clientId, page_url: location.href })
      .then(function (r) { li.classList.remove("sd-pending"); if (state.seen[r.message.id]) li.remove(); else addMessage(r.message, li); connect(); })
      .catch(function () { li.classList.add("sd-failed"); li.title = t.failed; li.onclick = function () { li.onclick = null; send(text, clientId, li); }; });
  }

  composer.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = ""; typing(false); clearTimeout(state.suggestTimer); state.suggestSeq++; clearSuggestions(); suggestBox.remove(); send(text, uid());
  });
  input.addEventListener("keydown", function (e) { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); composer.requestSubmit ? composer.requestSubmit() : composer.dispatchEvent(new Event("submit")); } });
  input.addEventListener("input", function () {
    clearTimeout(state.suggestTimer); state.suggestTimer = setTimeout(suggest, 400);
    var now = Date.now();
    if (now - state.typingSent > 3000) { state.typingSent = now; typing(true); }
    clearTimeout(state.typingTimer); state.typingTimer = setTimeout(function () { typing(false); }, 4000);
  });
  function typing(on) { if (!state.token || !state.started) return; if (!on) state.typingSent = 0; post("/typing", { token: state.token, typing: on }).catch(function () {}); }

  file.addEventListener("change", function () {
    var f = file.files && file.files[0]; file.value = "";
    if (!f) return;
    if (f.size > state.max) return showNotice(t.tooBig);
    if (!/^(image\/(png|jpeg|gif|webp)|application\/pdf)$/.test(f.type)) return showNotice(t.badType);
    var li = el("li", { class: "sd-msg sd-visitor sd-pending" }, [el("p", { text: f.name })]);
    list.appendChild(li);
    var fd = new FormData(); fd.append("token", state.token); fd.append("client_id", uid()); fd.append("file", f);
    fetch(API + "/attachments", { method: "POST", body: fd }).then(function (r) { return r.json().then(function (j) { if (!r.ok) throw j; return j; }); })
      .then(function (r) { li.classList.remove("sd-pending"); if (state.seen[r.message.id]) li.remove(); else addMessage(r.message, li); connect(); })
      .catch(function (err) { li.remove(); showNotice((err.error && err.error.message) || t.badType); });
  });

  function connect() {
    if (state.es || !state.token || !window.EventSource) return;
    state.started = true;
    var es = new EventSource(API + "/events?token=" + encodeURIComponent(state.token) + "&after_id=" + state.lastId);
    state.es = es;
    es.addEventListener("message", function (e) { var m = JSON.parse(e.data); addMessage(m); if (m.from === "agent") { typingEl.hidden = true; } });
    es.addEventListener("typing", function (e) {
      var on = JSON.parse(e.data).typing; typingEl.hidden = !on;
      clearTimeout(state.agentTimer); if (on) state.agentTimer = setTimeout(function () { typingEl.hidden = true; }, 6000);
    });
  }

  function boot() {
    document.body.appendChild(host);
    post("/session", { token: state.token, language: LANG }).then(function (s) {
      state.token = s.token; store("token", s.token); state.online = s.online; state.visitor = s.visitor_id || null; state.max = s.max_attachment_bytes || state.max;
      var idf = s.identified || {};
      state.identified = idf.email || idf.order_number ? idf : null;
      (s.messages || []).forEach(function (m) { addMessage(m); });
      if (s.messages && s.messages.length) connect(); else state.started = true;
      setBadge(); render(); if (state.open) toggle(true);
      host.setAttribute("data-ready", "1");
    }).catch(function () { host.setAttribute("data-ready", "error"); });
  }
  if (document.body) boot(); else document.addEventListener("DOMContentLoaded", boot);
})();
