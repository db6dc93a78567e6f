/* storedesk agent workspace: small progressive enhancements on top of htmx (our own code). */
(function () {
  "use strict";

  var body = document.body;
  function csrf() {
    try { return JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || ""; }
    catch (e) { return ""; }
  }
  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function typingInField(ev) {
    var t = ev.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  /* --- toasts ------------------------------------------------------------------------------------- */
  var toastTimer = null;
  function toast(message, isError) {
    var el = $("#toast");
    if (!el) return;
    el.textContent = message;
    el.classList.toggle("error", !!isError);
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.hidden = true; }, isError ? 7000 : 3500);
  }
  window.storedeskToast = toast;

  document.addEventListener("htmx:responseError", function (ev) {
    var xhr = ev.detail.xhr;
    var header = xhr.getResponseHeader("X-Storedesk-Error");
    var message = header ? decodeURIComponent(header) : "";
    if (!message && xhr.status === 413) message = body.dataset.lang === "de"
      ? "Die Datei ist zu groß." : "The file is too large.";
    if (!message) message = (body.dataset.lang === "de" ? "Fehler " : "Error ") + xhr.status;
    toast(message, true);
  });
  document.addEventListener("htmx:sendError", function () {
    toast(body.dataset.lang === "de" ? "Keine Verbindung zum Server." : "The server cannot be reached.", true);
  });

  /* --- auto-submitting selects --------------------------------------------------------------------- */
  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (!(t instanceof HTMLSelectElement)) return;
    if (t.hasAttribute("data-autosubmit") || (t.form && t.form.hasAttribute("data-autosubmit-form"))) {
      t.form.requestSubmit ? t.form.requestSubmit() : t.form.submit();
    }
  });

  /* --- live updates: after the event stream reconnects, re-fetch everything it feeds ---------------- */
  var sseOpened = false;
  document.addEventListener("htmx:sseOpen", function () {
    if (sseOpened) {
      $$("[hx-trigger*='resync']").forEach(function (el) { htmx.trigger(el, "resync"); });
    }
    sseOpened = true;
    body.classList.remove("offline");
  });
  document.addEventListener("htmx:sseError", function () { body.classList.add("offline"); });

  /* --- timeline: stay at the newest message ---------------------------------------------------------- */
  function scroller() { return $("[data-timeline-scroll]"); }
  var stickToBottom = true;
  function nearBottom(el) { return el.scrollHeight - el.scrollTop - el.clientHeight < 120; }
  function toBottom() { var s = scroller(); if (s) s.scrollTop = s.scrollHeight; }
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var target = ev.detail.target;
    if (target && target.id === "timeline") { var s = scroller(); stickToBottom = !s || nearBottom(s); }
    if (target && target.id === "inbox-list") {
      target._checked = $$(".row-check:checked", target).map(function (c) { return c.value; });
      var focused = $(".conv-row.kb-focus", target);
      target._focused = focused ? focused.dataset.id : null;
    }
  });
  document.addEventListener("htmx:afterSwap", function (ev) {
    var target = ev.detail.target;
    if (target && (target.id === "timeline" || (target.closest && target.closest("[data-timeline-scroll]")))) {
      if (stickToBottom) toBottom();
    }
    if (target && target.id === "inbox-list") {
      (target._checked || []).forEach(function (id) {
        var box = $(".row-check[value='" + id + "']", target);
        if (box) box.checked = true;
      });
      if (target._focused) {
        var row = $(".conv-row[data-id='" + target._focused + "']", target);
        if (row) row.classList.add("kb-focus");
      }
      updateBulk();
    }
    if (target && target.id === "composer") {
      setupComposer();
      var ta = $("#c-text");
      if (ta && ev.detail.xhr && ev.detail.xhr.status < 300) { ta.focus(); }
    }
  });

  /* --- timeline: the live tail (only what is new or changed; the timeline shown is never re-rendered) --- */
  var FINAL_DELIVERY = { read: 1, failed: 1, received: 1 };
  document.addEventListener("htmx:configRequest", function (ev) {
    var elt = ev.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-timeline-tail")) return;
    var tl = $("#timeline");
    if (!tl) return;
    var after = 0, afterEvent = 0, watch = [];
    $$("[data-message-id]", tl).forEach(function (m) { after = Math.max(after, +m.dataset.messageId); });
    $$("[data-event-id]", tl).forEach(function (e) { afterEvent = Math.max(afterEvent, +e.dataset.eventId); });
    $$("article[data-message]", tl).slice(-30).forEach(function (m) {
      if (m.dataset.direction === "inbound") {
        var next = m.nextElementSibling;
        var turn = next && next.classList.contains("ai-turn") ? next.dataset.turnStatus : "-";
        if (turn === "-" || turn === "started") watch.push(m.dataset.message + ":" + turn);
      } else if (m.dataset.direction === "outbound" && !FINAL_DELIVERY[m.dataset.delivery]) {
        watch.push(m.dataset.message + ":" + m.dataset.delivery);
      }
    });
    ev.detail.parameters.after = after;
    ev.detail.parameters.after_event = afterEvent;
    ev.detail.parameters.watch = watch.join(",");
    var s = scroller();
    stickToBottom = !s || nearBottom(s);
  });
  document.addEventListener("htmx:oobAfterSwap", function () {
    var tl = $("#timeline");
    if (!tl) return;
    var seen = {};
    $$("[data-message-id], [data-event-id]", tl).forEach(function (el) {  /* two refreshes crossed: keep one */
      var key = el.dataset.messageId ? "m" + el.dataset.messageId : "e" + el.dataset.eventId;
      if (seen[key]) el.remove(); else seen[key] = true;
    });
    if (stickToBottom) toBottom();
  });

  /* --- customer sidebar: a live refresh never throws away an order-action form being filled in, nor the
     result the agent has just been shown (it stays for a few seconds) ------------------------------------ */
  var sidebarQuietUntil = 0;
  document.addEventListener("htmx:afterSettle", function () {
    if ($("#sidebar .action-result")) sidebarQuietUntil = Date.now() + 8000;
  });
  document.addEventListener("htmx:beforeRequest", function (ev) {
    var elt = ev.detail.elt;
    if (!elt || elt.id !== "sidebar" || !elt.hasAttribute("data-live-sidebar")) return;
    if ($(".action-panel", elt) || Date.now() < sidebarQuietUntil) {
      ev.preventDefault();
      elt._missed = true;
    }
  });
  document.addEventListener("htmx:afterSwap", function (ev) {  /* keyboard: focus the opened form */
    var target = ev.detail.target;
    if (!target || !target.id || target.id.indexOf("oa-") !== 0) return;
    var first = $(".error", target) ? $("[aria-invalid=true]", target) : null;
    first = first || $("[data-confirm]", target) || $("input:not([type=hidden]), select, textarea", target);
    if (first) first.focus();
  });
  setInterval(function () {  /* catch up on what was held back once the form is closed */
    var elt = $("#sidebar[data-live-sidebar]");
    if (elt && elt._missed && !$(".action-panel", elt) && Date.now() >= sidebarQuietUntil) {
      elt._missed = false;
      htmx.trigger(elt, "resync");
    }
  }, 2000);

  /* --- inbox selection and bulk actions ---------------------------------------------------------------- */
  function updateBulk() {
    var bar = $("[data-bulk]");
    if (!bar) return;
    var checked = $$(".row-check:checked");
    bar.hidden = checked.length === 0;
    var count = $("[data-selected-count]", bar);
    if (count) count.textContent = String(checked.length);
    var all = $("[data-select-all]", bar);
    if (all) all.checked = checked.length > 0 && checked.length === $$(".row-check").length;
  }
  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t.classList && t.classList.contains("row-check")) updateBulk();
    if (t.hasAttribute && t.hasAttribute("data-select-all")) {
      $$(".row-check").forEach(function (c) { c.checked = t.checked; });
      updateBulk();
    }
  });

  /* --- keyboard shortcuts ------------------------------------------------------------------------------- */
  function rows() { return $$("[data-list] .conv-row"); }
  function focusedIndex(list) {
    for (var i = 0; i < list.length; i++) if (list[i].classList.contains("kb-focus")) return i;
    for (var j = 0; j < list.length; j++) if (list[j].classList.contains("current")) return j;
    return -1;
  }
  function moveFocus(delta) {
    var list = rows();
    if (!list.length) return;
    var pane = $("[data-conv-pane]");
    var i = focusedIndex(list);
    var next = Math.max(0, Math.min(list.length - 1, i + delta));
    if (i === -1) next = delta > 0 ? 0 : list.length - 1;
    if (pane) {  // in a conversation: j/k open the next/previous one
      var link = $(".conv-link", list[next]);
      if (link && next !== i) window.location.href = link.href;
      return;
    }
    list.forEach(function (r) { r.classList.remove("kb-focus"); });
    list[next].classList.add("kb-focus");
    var a = $(".conv-link", list[next]);
    if (a) a.focus({ preventScroll: false });
  }
  function setKind(kind) {
    var radio = $("input[data-kind][value='" + kind + "']");
    if (radio) { radio.checked = true; radio.dispatchEvent(new Event("change", { bubbles: true })); }
    var ta = $("#c-text");
    if (ta) ta.focus();
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") {
      var dlg = $("#help");
      if (dlg && dlg.open) return;
      if (typingInField(ev)) { ev.target.blur(); }
      $$("details[open].me, details[open].bell").forEach(function (d) { d.open = false; });
      return;
    }
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "Enter" && ev.target.id === "c-text") {
      ev.preventDefault();
      var form = ev.target.form;
      if (form) form.requestSubmit ? form.requestSubmit() : form.submit();
      return;
    }
    if (typingInField(ev) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var key = ev.key;
    if (key === "j" || key === "ArrowDown" && !$("[data-conv-pane]")) { ev.preventDefault(); moveFocus(1); }
    else if (key === "k" || key === "ArrowUp" && !$("[data-conv-pane]")) { ev.preventDefault(); moveFocus(-1); }
    else if (key === "x") {
      var focused = $(".conv-row.kb-focus .row-check");
      if (focused) { focused.checked = !focused.checked; updateBulk(); }
    }
    else if (key === "Enter" || key === "o") {
      var row = $(".conv-row.kb-focus .conv-link");
      if (row) { ev.preventDefault(); window.location.href = row.href; }
    }
    else if (key === "r") { if ($("#c-text")) { ev.preventDefault(); setKind("reply"); } }
    else if (key === "n") { if ($("#c-text")) { ev.preventDefault(); setKind("note"); } }
    else if (key === "e") { var resolve = $("[data-shortcut='e']"); if (resolve) { ev.preventDefault(); resolve.click(); } }
    else if (key === "a") {
      var sel = $("select[data-assign-me]");
      if (sel) { ev.preventDefault(); sel.value = sel.dataset.assignMe; sel.dispatchEvent(new Event("change", { bubbles: true })); }
    }
    else if (key === "/") { var s = $("[data-search]"); if (s) { ev.preventDefault(); s.focus(); } else { window.location.href = "/app/search"; } }
    else if (key === "?") { ev.preventDefault(); openHelp(); }
  });
  function openHelp() { var d = $("#help"); if (d && d.showModal && !d.open) d.showModal(); }
  document.addEventListener("click", function (ev) {
    var t = ev.target.closest && ev.target.closest("[data-action='help']");
    if (t) openHelp();
  });

  /* --- notifications bell: load the list when opened -------------------------------------------------- */
  document.addEventListener("toggle", function (ev) {
    var d = ev.target;
    if (!(d instanceof HTMLDetailsElement) || !d.hasAttribute("data-bell")) return;
    if (d.open && !d.dataset.loaded && window.htmx) {
      d.dataset.loaded = "1";
      htmx.ajax("GET", "/app/notifications?open=1", { target: "#bell", swap: "innerHTML" });
    }
  }, true);

  /* --- composer: reply/note, macros, attachments, @mentions, typing presence -------------------------- */
  var lastTyping = 0;
  function conversationId() { var p = $("[data-conv-pane]"); return p ? p.dataset.conversation : null; }
  function beat(state) {
    var id = conversationId();
    if (!id) return;
    var data = new FormData();
    data.append("csrf_token", csrf());
    data.append("state", state);
    if (state === "left" && navigator.sendBeacon) { navigator.sendBeacon("/app/c/" + id + "/presence", data); return; }
    fetch("/app/c/" + id + "/presence", { method: "POST", body: data, headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin" })
      .catch(function () {});
  }
  function insertAtCaret(ta, text) {
    var start = ta.selectionStart || 0, end = ta.selectionEnd || 0;
    ta.value = ta.value.slice(0, start) + text + ta.value.slice(end);
    ta.selectionStart = ta.selectionEnd = start + text.length;
    ta.dispatchEvent(new Event("input", { bubbles: true }));
  }
  // a macro's text (variables filled for this conversation) at the caret; the select and the suggested
  // macros above the composer both insert through here
  function insertMacro(form, url) {
    var ta = $("#c-text", form);
    var warn = $("[data-macro-warning]", form);
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        insertAtCaret(ta, data.text);
        ta.focus();
        if (warn) {
          warn.hidden = !data.missing.length;
          warn.textContent = data.missing.length
            ? (body.dataset.lang === "de" ? "Ohne Wert geblieben: " : "No value for: ") + data.missing.map(function (m) { return "{{" + m + "}}"; }).join(", ")
            : "";
        }
      })
      .catch(function () { toast(body.dataset.lang === "de" ? "Das Makro konnte nicht geladen werden." : "The macro could not be loaded.", true); });
  }
  document.addEventListener("click", function (ev) {
    var button = ev.target.closest && ev.target.closest("[data-macro-insert]");
    if (!button) return;
    var form = $("[data-composer]");
    if (!form) return;
    ev.preventDefault();
    insertMacro(form, button.dataset.url);
  });
  function setupComposer() {
    var form = $("[data-composer]");
    if (!form || form.dataset.ready) return;
    form.dataset.ready = "1";
    var section = $("#composer");
    var ta = $("#c-text", form);
    var label = $("[data-send-label]", form);
    function applyKind() {
      var kind = ($("input[data-kind]:checked", form) || {}).value || "reply";
      section.classList.toggle("kind-note", kind === "note");
      section.classList.toggle("kind-reply", kind !== "note");
      ta.placeholder = kind === "note" ? ta.dataset.notePlaceholder : ta.dataset.replyPlaceholder;
      if (label) label.textContent = kind === "note" ? label.dataset.note : label.dataset.reply;
    }
    $$("input[data-kind]", form).forEach(function (r) { r.addEventListener("change", applyKind); });
    applyKind();

    var macro = $("[data-macro]", form);
    if (macro) macro.addEventListener("change", function () {
      if (!macro.value) return;
      insertMacro(form, macro.dataset.url + macro.value).finally(function () { macro.value = ""; });
    });

    var files = $("[data-files]", form);
    var names = $("[data-file-names]", form);
    if (files) files.addEventListener("change", function () {
      var max = parseInt(form.dataset.maxBytes || "0", 10);
      var list = Array.prototype.slice.call(files.files || []);
      var big = list.filter(function (f) { return max && f.size > max; });
      if (big.length) {
        toast((body.dataset.lang === "de" ? "Zu groß: " : "Too large: ") + big.map(function (f) { return f.name; }).join(", "), true);
        files.value = "";
        list = [];
      }
      if (names) names.textContent = list.map(function (f) { return f.name; }).join(", ");
    });

    var mentions = $("[data-mention-list]", form);
    ta.addEventListener("input", function () {
      var now = Date.now();
      if (now - lastTyping > 3000 && ta.value.trim()) { lastTyping = now; beat("typing"); }
      if (!mentions) return;
      var before = ta.value.slice(0, ta.selectionStart || 0);
      var m = /(^|\s)@([\w.+-]*)$/.exec(before);
      var isNote = section.classList.contains("kind-note");
      if (!m || !isNote) { mentions.hidden = true; return; }
      var q = m[2].toLowerCase();
      var any = false;
      $$("button", mentions).forEach(function (b) {
        var show = b.dataset.handle.toLowerCase().indexOf(q) === 0 || b.textContent.toLowerCase().indexOf(q) >= 0;
        b.hidden = !show; any = any || show;
      });
      mentions.hidden = !any;
    });
    if (mentions) mentions.addEventListener("click", function (ev) {
      var b = ev.target.closest("button[data-handle]");
      if (!b) return;
      var pos = ta.selectionStart || 0;
      var before = ta.value.slice(0, pos).replace(/@([\w.+-]*)$/, "@" + b.dataset.handle + " ");
      ta.value = before + ta.value.slice(pos);
      ta.selectionStart = ta.selectionEnd = before.length;
      mentions.hidden = true;
      ta.focus();
    });
  }

  function init() {
    setupComposer();
    toBottom();
    if (conversationId()) {
      beat("viewing");
      setInterval(function () { if (!document.hidden) beat("viewing"); }, 20000);
      window.addEventListener("pagehide", function () { beat("left"); });
    }
    var flash = $(".flash");
    if (flash) setTimeout(function () { flash.hidden = true; }, 8000);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
