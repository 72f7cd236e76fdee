// The consumer's side: pick or add a consumer, write, send files, open links,
// send #LEAVE, fast-forward the simulator's clock. What the consumer received
// shows as it arrives (the page asks every second).
"use strict";

const $ = (id) => document.getElementById(id);
const api = "/dev/wechat/api";
let current = localStorage.getItem("devwechat.consumer") || "";
let lastChat = "";

async function call(method, path, body) {
  const opts = { method, headers: {} };
  if (body instanceof FormData) opts.body = body;
  else if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  const res = await fetch(api + path, opts);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

function showError(msg) {
  $("error").textContent = msg || "";
  $("error").hidden = !msg;
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}

const fmt = (iso) => new Date(iso).toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

function entry(m) {
  const cls = m.kind === "event" ? "event" : m.dir;
  let body;
  if (m.kind === "event") body = "You opened " + m.text;
  else if (m.kind === "image" && m.media) body = el("img", { src: m.media, alt: m.file_name || "Image" });
  else if (m.kind === "video" && m.media) body = el("video", { src: m.media, controls: true, preload: "metadata" });
  else if (m.media) body = el("a", { href: m.media, download: m.file_name || "" }, (m.kind === "voice" ? "Voice message" : "File") + (m.file_name ? ": " + m.file_name : ""));
  else body = m.text;
  return el("li", { class: cls, "data-dir": m.dir, "data-kind": m.kind },
    el("div", { class: "bubble" }, body, m.kind === "image" && m.text ? el("div", {}, m.text) : null),
    m.note ? el("span", { class: "note" }, m.note) : null,
    el("time", { datetime: m.at }, fmt(m.at)));
}

async function refresh() {
  let st;
  try { st = await call("GET", "/state?consumer=" + encodeURIComponent(current)); } catch (e) { showError(e.message); return; }
  $("clock").textContent = "Simulator time " + fmt(st.now);
  $("clock").dataset.now = st.now;
  const sel = $("consumer");
  const ids = st.consumers.map((c) => c.id).join(",");
  if (sel.dataset.ids !== ids) {
    sel.replaceChildren(...(st.consumers.length ? st.consumers.map((c) => el("option", { value: c.id }, c.name)) : [el("option", { value: "" }, "— none yet —")]));
    sel.dataset.ids = ids;
  }
  if (!st.consumers.some((c) => c.id === current)) current = st.consumers.length ? st.consumers[st.consumers.length - 1].id : "";
  sel.value = current;
  $("links-count").textContent = String(st.links.length);
  const links = JSON.stringify(st.links);
  if ($("links").dataset.v !== links) {
    $("links").dataset.v = links;
    $("links").replaceChildren(...st.links.map((l) => el("li", {}, el("button", { type: "button", onclick: () => { $("link").value = l.url; $("link").focus(); } }, l.url))));
  }
  const chat = JSON.stringify(st.chat);
  if (chat !== lastChat) {
    lastChat = chat;
    const box = document.querySelector(".chat-wrap");
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
    $("chat").replaceChildren(...st.chat.map(entry));
    if (atBottom) box.scrollTop = box.scrollHeight;
  }
  $("empty").hidden = st.chat.length > 0;
  const none = !current;
  for (const id of ["text", "send", "file", "leave", "open-link"]) $(id).disabled = none;
}

async function act(fn) {
  try { await fn(); showError(""); } catch (e) { showError(e.message); }
  await refresh();
}

function wire() {
  $("consumer").addEventListener("change", (e) => { current = e.target.value; localStorage.setItem("devwechat.consumer", current); lastChat = ""; refresh(); });
  $("new-consumer").addEventListener("click", () => {
    const f = $("new-form");
    f.hidden = !f.hidden;
    $("new-consumer").setAttribute("aria-expanded", String(!f.hidden));
    if (!f.hidden) $("new-name").focus();
  });
  $("new-form").addEventListener("submit", (e) => {
    e.preventDefault();
    act(async () => {
      const c = await call("POST", "/consumers", { name: $("new-name").value, language: $("new-lang").value });
      current = c.id; localStorage.setItem("devwechat.consumer", current);
      $("new-name").value = ""; $("new-form").hidden = true; $("new-consumer").setAttribute("aria-expanded", "false");
      $("text").focus();
    });
  });
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("text").value;
    if (!text.trim()) return;
    act(async () => { await call("POST", "/send", { consumer: current, text }); $("text").value = ""; });
  });
  $("file").addEventListener("change", () => {
    const f = $("file").files[0];
    if (!f) return;
    const fd = new FormData();
    fd.append("consumer", current);
    fd.append("file", f);
    act(async () => { await call("POST", "/send", fd); $("file").value = ""; });
  });
  $("leave").addEventListener("click", () => act(() => call("POST", "/send", { consumer: current, text: "#LEAVE" })));
  $("arrive-form").addEventListener("submit", (e) => {
    e.preventDefault();
    act(async () => { await call("POST", "/arrive", { consumer: current, link: $("link").value }); $("link").value = ""; });
  });
  for (const b of document.querySelectorAll("[data-advance]")) {
    b.addEventListener("click", () => act(() => call("POST", "/advance", { by: b.dataset.advance })));
  }
}

wire();
refresh();
setInterval(() => { if (!document.hidden) refresh(); }, 1000);
