// smsgw: live refresh, SMS length preview and the demo's phone panel. No inline scripts (strict CSP);
// text from messages is always set with textContent, never as HTML.
"use strict";

(function () {
  const csrf = document.body.dataset.csrf || "";
  const lang = document.body.dataset.lang || "ru";
  const words = {
    ru: { chars: "символов", parts: "частей SMS", recipients: "получателей", total: "всего частей", ucs2: "кириллица/эмодзи", gsm: "латиница", left: "осталось в части", sent: "Отправлено", failed: "Ошибка" },
    en: { chars: "characters", parts: "SMS parts", recipients: "recipients", total: "total parts", ucs2: "Cyrillic/emoji", gsm: "Latin", left: "left in this part", sent: "Sent", failed: "Error" },
  }[lang === "en" ? "en" : "ru"];

  // The menu is open on wide screens and folds away on a phone until tapped.
  const menu = document.querySelector("details.menu");
  if (menu && window.matchMedia("(max-width: 899px)").matches) { menu.removeAttribute("open"); }

  function post(url, fields) {
    const body = new URLSearchParams(fields);
    return fetch(url, { method: "POST", body: body, credentials: "same-origin",
                        headers: { "X-CSRF-Token": csrf } });
  }

  // Live refresh of a server-rendered fragment (already escaped by the server's templates).
  document.querySelectorAll("[data-refresh]").forEach(function (box) {
    const every = parseInt(box.dataset.every || "5000", 10);
    async function refresh() {
      try {
        const resp = await fetch(box.dataset.refresh, { credentials: "same-origin" });
        if (resp.ok) { box.innerHTML = await resp.text(); }
        else if (resp.status === 401) { window.location.reload(); return; }
      } catch (e) { /* the gateway restarts: try again later */ }
      setTimeout(refresh, every);
    }
    setTimeout(refresh, every);
  });

  // SMS length preview under any form marked data-preview.
  document.querySelectorAll("form[data-preview]").forEach(function (form) {
    const text = form.querySelector("textarea[name=text]");
    const numbers = form.querySelector("textarea[name=numbers]");
    const line = form.querySelector(".preview-line");
    const mirror = form.querySelector(".preview-text");
    if (!text || !line) { return; }
    let timer = null;
    async function update() {
      if (mirror) { mirror.textContent = text.value; }
      const fields = { text: text.value, numbers: numbers ? numbers.value : "" };
      try {
        const resp = await post("/ui/preview", fields);
        if (!resp.ok) { return; }
        const p = await resp.json();
        let out = p.chars + " " + words.chars + " · " + p.parts + " " + words.parts;
        if (p.encoding) { out += " (" + (p.encoding.toLowerCase().indexOf("ucs") >= 0 ? words.ucs2 : words.gsm) + ", " + words.left + ": " + p.units_left + ")"; }
        if (numbers) { out += " · " + p.recipients + " " + words.recipients + " · " + p.total_parts + " " + words.total; }
        line.textContent = out;
      } catch (e) { /* offline: no preview */ }
    }
    function later() { clearTimeout(timer); timer = setTimeout(update, 250); }
    text.addEventListener("input", later);
    if (numbers) { numbers.addEventListener("input", later); }
    update();
  });

  // Recipient count of a segment on the compose page.
  document.querySelectorAll("form[data-segment]").forEach(function (form) {
    const line = form.querySelector(".segment-line");
    async function count() {
      const fields = {};
      new FormData(form).forEach(function (v, k) { if (k !== "csrf" && typeof v === "string") { fields[k] = v; } });
      try {
        const resp = await post("/ui/segment-count", fields);
        const data = await resp.json();
        line.textContent = resp.ok ? data.recipients + " " + words.recipients : (data.error || "");
      } catch (e) { /* offline */ }
    }
    form.addEventListener("change", count);
    count();
  });

  // The demo's phone panel.
  const panel = document.getElementById("phone-panel");
  if (panel) {
    const pick = document.getElementById("phone-pick");
    const other = document.getElementById("phone-other");
    const to = document.getElementById("phone-to");
    const inbox = document.getElementById("phone-inbox");
    const status = document.getElementById("phone-status");
    const current = document.getElementById("phone-current");
    const form = document.getElementById("phone-send");
    const textBox = document.getElementById("phone-text");
    let shown = "";
    function phone() { return (other.value || "").trim() || pick.value; }
    async function load() {
      const number = phone();
      current.textContent = number;
      try {
        const resp = await fetch("/phones/api/" + encodeURIComponent(number) + "/inbox", { credentials: "same-origin" });
        if (!resp.ok) { return; }
        const messages = await resp.json();
        const key = number + ":" + messages.length;
        if (key === shown) { return; }
        shown = key;
        inbox.replaceChildren();
        messages.forEach(function (m) {
          const li = document.createElement("li");
          li.className = "msg in";
          const bubble = document.createElement("div");
          bubble.className = "bubble";
          const p = document.createElement("p");
          p.className = "body";
          p.textContent = m.text;
          const meta = document.createElement("span");
          meta.className = "small muted";
          meta.textContent = (m.from || "") + (m.received_at ? " · " + new Date(m.received_at * 1000).toLocaleTimeString() : "");
          bubble.append(p, meta);
          li.append(bubble);
          inbox.append(li);
        });
      } catch (e) { /* simulator away */ }
    }
    pick.addEventListener("change", function () { other.value = ""; load(); });
    other.addEventListener("change", load);
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      status.textContent = "…";
      try {
        const resp = await post("/phones/api/" + encodeURIComponent(phone()) + "/send", { to: to.value, text: textBox.value });
        const data = await resp.json();
        status.textContent = resp.ok ? words.sent + " (" + data.parts + ")" : words.failed + ": " + (data.error || resp.status);
        if (resp.ok) { textBox.value = ""; }
      } catch (e) { status.textContent = words.failed; }
    });
    load();
    setInterval(load, 1500);
  }
})();
