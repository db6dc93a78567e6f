// storedesk self-service pages: live search suggestions, the tracking page's time zone, quantity boxes.
// Everything works without JavaScript; this only adds comfort.
(function () {
  "use strict";

  // live suggestions under the help-center search box
  var input = document.querySelector("[data-suggest]");
  if (input && window.fetch) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var timer = null;
    var last = "";
    var render = function (items) {
      list.innerHTML = "";
      items.forEach(function (item, i) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.id = "sugg-" + i;
        var a = document.createElement("a");
        a.href = item.url;
        a.textContent = item.title;
        if (item.other_language) {
          var tag = document.createElement("span");
          tag.className = "lang-tag";
          tag.textContent = item.language_name;
          a.appendChild(tag);
        }
        li.appendChild(a);
        list.appendChild(li);
      });
      list.hidden = items.length === 0;
      input.setAttribute("aria-expanded", items.length ? "true" : "false");
    };
    input.addEventListener("input", function () {
      var q = input.value.trim();
      clearTimeout(timer);
      if (q.length < 2) { render([]); return; }
      timer = setTimeout(function () {
        if (q === last) { return; }
        last = q;
        var url = input.getAttribute("data-suggest") + "?lang=" + encodeURIComponent(input.getAttribute("data-lang")) + "&q=" + encodeURIComponent(q);
        fetch(url, { headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : { articles: [] }; })
          .then(function (data) { if (input.value.trim() === q) { render(data.articles || []); } })
          .catch(function () { render([]); });
      }, 120);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { render([]); }
      if (e.key === "ArrowDown" && !list.hidden) {
        var first = list.querySelector("a");
        if (first) { e.preventDefault(); first.focus(); }
      }
    });
    list.addEventListener("keydown", function (e) {
      var links = Array.prototype.slice.call(list.querySelectorAll("a"));
      var at = links.indexOf(document.activeElement);
      if (e.key === "ArrowDown" && at < links.length - 1) { e.preventDefault(); links[at + 1].focus(); }
      if (e.key === "ArrowUp") { e.preventDefault(); (at > 0 ? links[at - 1] : input).focus(); }
      if (e.key === "Escape") { render([]); input.focus(); }
    });
    document.addEventListener("click", function (e) { if (!list.contains(e.target) && e.target !== input) { render([]); } });
  }

  // forms that submit on change (the language menu's fallback)
  document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });

  // tracking page: show times in the browser's time zone (the server renders the shop's or the
  // delivery country's zone until it knows)
  var tzTarget = document.querySelector("[data-tz]");
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  document.querySelectorAll("input[name=tz]").forEach(function (el) { el.value = zone; });
  if (tzTarget && zone && tzTarget.getAttribute("data-tz") !== zone && !/[?&]tz=/.test(location.search)) {
    var sep = location.search ? "&" : "?";
    location.replace(location.pathname + location.search + sep + "tz=" + encodeURIComponent(zone) + location.hash);
  }

  // returns: a line's controls are only active when it is ticked
  document.querySelectorAll("[data-line]").forEach(function (box) {
    var ctrls = document.getElementById(box.getAttribute("data-line"));
    var sync = function () {
      if (!ctrls) { return; }
      ctrls.querySelectorAll("select, input").forEach(function (c) { c.disabled = !box.checked; });
    };
    box.addEventListener("change", sync);
    sync();
  });
  document.querySelectorAll("input[name=method]").forEach(function (radio) {
    var sync = function () {
      var exchange = document.querySelector("input[name=method][value=exchange]");
      document.querySelectorAll("[data-exchange]").forEach(function (el) { el.hidden = !(exchange && exchange.checked); });
    };
    radio.addEventListener("change", sync);
    sync();
  });
})();
