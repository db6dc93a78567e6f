/* storedesk agent workspace: the assistant's suggested reply (Use / Dismiss) and the tone check of a draft
   reply (as the agent types, and once more on send: a flagged draft needs a second click). Our own code. */
(function () {
  "use strict";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || ""; }
    catch (e) { return ""; }
  }
  function conversationId() { var p = $("[data-conv-pane]"); return p ? p.dataset.conversation : null; }
  function isReply(form) {
    var checked = $("input[data-kind]:checked", form);
    return !checked || checked.value !== "note";
  }

  /* --- suggested reply ------------------------------------------------------------------------------- */
  function dismissedKey() { return "storedesk-ai-dismissed-" + conversationId(); }
  function applyDismissed() {
    var box = $("[data-ai-suggestion]");
    if (!box) return;
    var dismissed = null;
    try { dismissed = window.sessionStorage.getItem(dismissedKey()); } catch (e) { /* private mode */ }
    box.hidden = dismissed === box.dataset.key;
  }
  document.addEventListener("click", function (ev) {
    var use = ev.target.closest && ev.target.closest("[data-ai-use]");
    var dismiss = ev.target.closest && ev.target.closest("[data-ai-dismiss]");
    if (!use && !dismiss) return;
    var box = (use || dismiss).closest("[data-ai-suggestion]");
    if (!box) return;
    if (use) {
      var ta = $("#c-text");
      if (!ta) return;
      var reply = $("input[data-kind][value='reply']");
      if (reply && !reply.checked) { reply.checked = true; reply.dispatchEvent(new Event("change", { bubbles: true })); }
      ta.value = $("[data-ai-text]", box).textContent;
      ta.dispatchEvent(new Event("input", { bubbles: true }));
      ta.focus();
      ta.selectionStart = ta.selectionEnd = ta.value.length;
    }
    try { window.sessionStorage.setItem(dismissedKey(), box.dataset.key); } catch (e) { /* private mode */ }
    box.hidden = true;
  });
  document.addEventListener("htmx:afterSwap", function (ev) {
    if (ev.detail.target && ev.detail.target.id === "ai-suggestion") applyDismissed();
  });
  // "u" (outside text fields): use the suggested reply
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "u" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var t = ev.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    var use = $("[data-ai-suggestion]:not([hidden]) [data-ai-use]");
    if (use) { ev.preventDefault(); use.click(); }
  });

  /* --- assistant turns in the timeline: stay open across live refreshes ------------------------------- */
  var openTurns = {};
  document.addEventListener("toggle", function (ev) {
    var d = ev.target;
    if (!(d instanceof HTMLDetailsElement) || !d.hasAttribute("data-turn")) return;
    if (d.open) openTurns[d.dataset.turn] = true; else delete openTurns[d.dataset.turn];
  }, true);
  document.addEventListener("htmx:afterSwap", function (ev) {
    if (!ev.detail.target || ev.detail.target.id !== "timeline") return;
    Object.keys(openTurns).forEach(function (id) {
      var d = document.getElementById("turn-" + id);
      if (d) d.open = true;
    });
  });

  /* --- tone check ------------------------------------------------------------------------------------ */
  var timer = null;
  var checked = { text: null, count: 0 };   // the last text the server looked at, and its number of flags
  var acknowledged = null;                  // a flagged text the agent chose to send anyway

  function sendLabel(form, anyway) {
    var label = $("[data-send-label]", form);
    var tone = $("[data-tone]", form);
    if (!label || !tone) return;
    if (anyway) { label.textContent = tone.dataset.sendAnyway; }
    else { label.textContent = isReply(form) ? label.dataset.reply : label.dataset.note; }
  }
  function clearTone(form) {
    var tone = $("[data-tone]", form);
    if (tone) tone.innerHTML = "";
    checked = { text: null, count: 0 };
    sendLabel(form, false);
  }
  function runCheck(form) {
    var tone = $("[data-tone]", form);
    var ta = $("#c-text", form);
    if (!tone || !ta) return Promise.resolve(0);
    var text = ta.value;
    if (!isReply(form) || !text.trim()) { clearTone(form); return Promise.resolve(0); }
    if (checked.text === text) return Promise.resolve(checked.count);
    var data = new FormData();
    data.append("csrf_token", csrf());
    data.append("text", text);
    return fetch(tone.dataset.url, {
      method: "POST", body: data, credentials: "same-origin", headers: { "X-CSRF-Token": csrf() }
    }).then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.text(); })
      .then(function (html) {
        if (ta.value !== text) return 0;  // typed on meanwhile: the next check will tell
        tone.innerHTML = html;
        var result = tone.firstElementChild;
        var count = result ? parseInt(result.getAttribute("data-tone-count") || "0", 10) : 0;
        checked = { text: text, count: count };
        if (!count) sendLabel(form, false);
        return count;
      })
      .catch(function () { return 0; });  // the check never stands in the way of sending
  }

  document.addEventListener("input", function (ev) {
    if (ev.target.id !== "c-text" || !ev.target.form) return;
    var form = ev.target.form;
    if (acknowledged !== null && acknowledged !== ev.target.value) { acknowledged = null; sendLabel(form, false); }
    clearTimeout(timer);
    timer = setTimeout(function () { runCheck(form); }, 700);
  });
  document.addEventListener("change", function (ev) {
    if (ev.target.hasAttribute && ev.target.hasAttribute("data-kind") && ev.target.form) {
      var form = ev.target.form;
      acknowledged = null;
      if (isReply(form)) runCheck(form); else clearTone(form);
    }
  });

  // on send: a reply whose draft has flags is held once; the button then says "Send anyway"
  document.addEventListener("htmx:confirm", function (ev) {
    var form = ev.detail.elt;
    if (!form || !form.hasAttribute || !form.hasAttribute("data-composer")) return;
    var ta = $("#c-text", form);
    if (!ta || !isReply(form) || !ta.value.trim()) return;
    if (acknowledged === ta.value) return;
    ev.preventDefault();
    clearTimeout(timer);
    var text = ta.value;
    runCheck(form).then(function (count) {
      if (count > 0) {
        acknowledged = text;
        sendLabel(form, true);
        var tone = $("[data-tone]", form);
        if (tone) tone.classList.add("tone-held");
        return;
      }
      acknowledged = text;
      ev.detail.issueRequest(true);
    });
  });
  document.addEventListener("htmx:afterSwap", function (ev) {
    if (ev.detail.target && ev.detail.target.id === "composer") { acknowledged = null; checked = { text: null, count: 0 }; }
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", applyDismissed); else applyDismissed();
})();
