// The MultiLine tab: thread list, thread view, composer, message menu, live updates.
"use strict";

const state = { me: null, threads: [], current: null, thread: null, events: null, pendingOptIn: null };
const $ = (id) => document.getElementById(id);

function fmtTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const now = new Date();
  const loc = LANG === "zh" ? "zh-CN" : undefined;
  if (d.toDateString() === now.toDateString()) return d.toLocaleTimeString(loc, { hour: "numeric", minute: "2-digit" });
  return d.toLocaleDateString(loc, { month: "2-digit", day: "2-digit" });
}

function statusLabel(s) { return t("st_" + (s || "active")); }

// messageStatus says where an employee's message stands, always with the reason
// when it was not delivered.
function messageStatus(m, queueLimit) {
  const reason = m.reason ? t("r_" + m.reason) : "";
  switch (m.status) {
    case "sent": return t("m_sent");
    case "sending": return t("m_sending");
    case "queued": return t("m_queued", { n: m.position || "?", N: queueLimit || "?" });
    case "not_queued": return t("m_not_queued", { r: reason.startsWith("r_") ? m.reason : reason });
    case "failed": return t("m_failed", { r: reason.startsWith("r_") ? m.reason : reason });
  }
  return "";
}

async function start() {
  translatePage();
  try {
    await Auth.init();
    state.me = await api("GET", "/me");
  } catch (e) {
    showBanner(e instanceof ApiError ? e.message : t("signInFailed", { e: e.message }));
    return;
  }
  $("me-name").textContent = state.me.name;
  $("admin-link").hidden = !state.me.admin;
  $("logout").hidden = !state.me.dev;
  if (state.me.disabled) { showDisabled(); return; }
  $("contact-link-btn").hidden = !state.me.contact_link;
  if (state.me.unreachable) showBanner(t("unreachable", { e: state.me.unreachable }));
  wire();
  await loadThreads();
  const wanted = new URLSearchParams(location.hash.slice(1)).get("thread");
  if (wanted) await openThread(wanted);
  connectEvents();
}

// showDisabled says plainly that an admin disabled WeChat for this employee, and
// offers nothing that would be refused.
function showDisabled() {
  state.disabled = true;
  if (state.events) { state.events.close(); state.events = null; }
  clearTimeout(reconnectTimer);
  showBanner(t("disabled"));
  $("banner").classList.add("disabled");
  $("optin-btn").hidden = true;
  $("contact-link-btn").hidden = true;
  document.querySelector("main.layout").hidden = true;
  $("thread-list").replaceChildren();
}

// failed shows an API error; a disabled employee's refusal switches the tab off.
function failed(e) {
  if (e && e.code === "employee_disabled") showDisabled();
  else showBanner(e.message);
}

async function loadThreads() {
  if (state.disabled) return;
  try {
    state.threads = await api("GET", "/threads");
  } catch (e) { failed(e); return; }
  renderThreads();
}

function renderThreads() {
  const ul = $("thread-list");
  ul.replaceChildren(...state.threads.map((th) => h("li", { class: th.id === state.current ? "selected" : "" },
    h("button", { type: "button", class: "thread-item", dataset: { thread: th.id }, onclick: () => openThread(th.id) },
      h("span", { class: "wechat-mark", title: "WeChat", "aria-label": "WeChat" }),
      h("span", { class: "who" }, th.consumer_name),
      h("time", { class: "when" }, fmtTime(th.last_at)),
      h("span", { class: "last" }, th.last_message || ""),
      h("span", { class: "badges" },
        h("span", { class: "badge st-" + (th.status || "active") }, statusLabel(th.status)),
        th.queued ? h("span", { class: "badge queued" }, t("queuedCount", { n: th.queued })) : null)))));
  $("no-threads").hidden = state.threads.length > 0;
}

async function openThread(id) {
  if (state.current !== id) { state.current = id; connectEvents(); }
  history.replaceState(null, "", "#thread=" + encodeURIComponent(id));
  await reloadThread();
  renderThreads();
}

async function reloadThread() {
  // While leaving, the thread's own change would trigger a reload that can only 404.
  if (!state.current || state.current === state.leaving) return;
  try {
    state.thread = await api("GET", "/threads/" + encodeURIComponent(state.current));
  } catch (e) {
    if (e.code === "employee_disabled") { failed(e); return; }
    if (e.status === 404 || e.status === 403) { closeThread(); return; }
    showBanner(e.message); return;
  }
  renderThread();
  if (state.pendingOptIn === state.current && state.thread.opt_in_link) showOptInLink(state.thread.opt_in_link);
}

function closeThread() {
  state.current = null; state.thread = null;
  $("thread").hidden = true; $("placeholder").hidden = false;
  history.replaceState(null, "", "#");
  connectEvents();
  renderThreads();
}

function renderThread() {
  const th = state.thread;
  $("thread").hidden = false; $("placeholder").hidden = true;
  $("thread-name").textContent = th.consumer_name;
  const badge = $("thread-status");
  badge.textContent = statusLabel(th.status);
  badge.className = "badge st-" + (th.status || "active");
  $("thread-people").textContent = (th.participants || []).join(", ");
  $("thread-window").textContent = th.status === "active" && th.window_end
    ? "· " + t("sendsLeft", { n: th.sends_left }) + " " + t("until", { t: fmtTime(th.window_end) }) : "";
  const link = $("optin-link");
  link.hidden = !(th.status === "awaiting_opt_in");
  link.replaceChildren(h("p", { class: "auto" }, t("n_opt_in_sent")),
    th.opt_in_link ? h("a", { href: th.opt_in_link, target: "_blank", rel: "noopener" }, th.opt_in_link) : h("span", { class: "muted" }, t("optInWaiting")));

  const ol = $("messages");
  const atBottom = ol.scrollHeight - ol.scrollTop - ol.clientHeight < 40;
  ol.replaceChildren(...(th.messages || []).flatMap((m) => renderMessage(m, th)));
  if (atBottom || !ol.dataset.thread || ol.dataset.thread !== th.id) ol.scrollTop = ol.scrollHeight;
  ol.dataset.thread = th.id;
}

function renderMessage(m, th) {
  const mine = m.from === "employee" && m.author_name === state.me.name;
  const note = m.from === "employee_note"; // kept for this employee alone
  const cls = m.from === "system" ? "msg auto" : note ? "msg auto note" : m.from === "consumer" ? "msg theirs" : "msg ours" + (mine ? " mine" : "");
  const author = m.from === "system" ? t("autoMessage") : note ? t("noteForYou") : m.from === "consumer" ? th.consumer_name : (mine ? t("you") : m.author_name);
  const media = m.media ? renderMedia(m.media) : null;
  const status = m.from === "employee" ? messageStatus(m, th.queue_limit) : "";
  const out = [h("li", { class: cls, dataset: { id: m.id, status: m.status } },
    h("div", { class: "meta" }, h("span", { class: "author" }, author), " ", h("time", {}, fmtTime(m.at))),
    media,
    m.text ? h("div", { class: "text" }, m.text) : null,
    status ? h("div", { class: "status s-" + m.status }, status) : null)];
  // The employee's notice for a full queue goes to the bot chat; the guide shows it
  // in the thread too, right after the message it concerns.
  if (m.status === "not_queued" && m.reason === "queue_full") {
    out.push(h("li", { class: "msg auto notice" }, h("div", { class: "text" }, t("n_not_queued"))));
  }
  return out;
}

// renderMedia shows an attachment: images and video inline, voice as a player
// (browsers play MP3, not AMR: the download link stays), anything else as a link.
function renderMedia(md) {
  const link = (label) => h("a", { href: md.url, download: md.file_name || "" }, md.file_name || label);
  switch (md.kind) {
    case "image": return h("img", { src: md.url, alt: md.file_name || t("mediaImage"), loading: "lazy" });
    case "voice": return h("div", { class: "media voice" }, h("audio", { src: md.url, controls: true, preload: "none" }), link(t("mediaVoice")));
    case "video": return h("div", { class: "media video" }, h("video", { src: md.url, controls: true, preload: "metadata" }), link(t("mediaVideo")));
  }
  return h("div", { class: "media file" }, link(t("mediaFile")));
}

async function send(ev) {
  ev.preventDefault();
  if (!state.current) return;
  const text = $("text").value;
  const file = $("file").files[0];
  if (!text.trim() && !file) return;
  $("send").disabled = true;
  try {
    if (file) {
      const fd = new FormData();
      fd.append("text", text); // first: the server checks the caption before it reads the file
      fd.append("file", file);
      await api("POST", "/threads/" + encodeURIComponent(state.current) + "/media", fd);
      $("file").value = ""; showFileName();
    } else {
      await api("POST", "/threads/" + encodeURIComponent(state.current) + "/messages", { text });
    }
    $("text").value = "";
    showBanner("");
    await reloadThread();
    await loadThreads();
  } catch (e) {
    failed(e);
  } finally {
    $("send").disabled = false;
  }
}

async function leave() {
  const id = state.current;
  state.leaving = id;
  try {
    await api("POST", "/threads/" + encodeURIComponent(id) + "/leave");
  } catch (e) { failed(e); return; } finally { state.leaving = null; }
  closeThread();
  await loadThreads();
}

let searchTimer = null;
async function searchColleagues() {
  const q = $("colleague-q").value;
  let list = [];
  try { list = await api("GET", "/colleagues?q=" + encodeURIComponent(q)); } catch (e) { failed(e); }
  const inThread = new Set((state.thread && state.thread.participants) || []);
  const items = list.filter((c) => !inThread.has(c.name)).map((c) => h("li", {},
    h("button", { type: "button", dataset: { employee: c.id }, onclick: () => addColleague(c.id) }, c.name)));
  $("colleague-list").replaceChildren(...(items.length ? items : [h("li", { class: "muted" }, t("noColleagues"))]));
}

async function addColleague(id) {
  try {
    await api("POST", "/threads/" + encodeURIComponent(state.current) + "/participants", { employee: id });
    $("add-dialog").close();
    showBanner("");
  } catch (e) { $("add-dialog").close(); failed(e); }
  await reloadThread();
}

async function newOptIn() {
  try {
    const { thread } = await api("POST", "/opt-in");
    state.pendingOptIn = thread;
    showLinkDialog(t("optInTitle"), t("optInWaiting"), "");
    await loadThreads();
    await openThread(thread);
  } catch (e) { failed(e); }
}

function showOptInLink(url) {
  if (!$("link-dialog").open) return;
  showLinkDialog(t("optInTitle"), t("optInReady"), url);
  state.pendingOptIn = null;
}

function showLinkDialog(title, text, url) {
  $("link-title").textContent = title;
  $("link-text").textContent = text;
  const a = $("link-url");
  a.textContent = url; a.href = url || "#"; a.hidden = !url;
  if (!$("link-dialog").open) $("link-dialog").showModal();
}

// connectEvents opens the live-update stream for the list and the open thread.
let reconnectTimer = null;
async function connectEvents() {
  if (state.events) { state.events.close(); state.events = null; }
  clearTimeout(reconnectTimer);
  if (state.disabled) return;
  let ticket;
  try { ({ ticket } = await api("POST", "/events/ticket")); } catch (e) {
    if (e.code === "employee_disabled") { failed(e); return; }
    reconnectTimer = setTimeout(connectEvents, 5000); return;
  }
  const q = new URLSearchParams({ ticket });
  if (state.current) q.set("thread", state.current);
  const es = new EventSource("/api/v1/events?" + q);
  state.events = es;
  es.addEventListener("ready", () => showBanner(""));
  es.addEventListener("threads", () => loadThreads());
  es.addEventListener("thread", () => reloadThread());
  es.onerror = () => {
    // The ticket is single-use in spirit (it expires in a minute): get a new one.
    if (state.events !== es) return;
    es.close(); state.events = null;
    reconnectTimer = setTimeout(connectEvents, 3000);
  };
}

// showFileName puts the chosen file's name on the attach button.
function showFileName() {
  const f = $("file").files[0];
  $("file-label").textContent = f ? f.name : t("attachFile");
}

function wire() {
  $("composer").addEventListener("submit", send);
  $("file").addEventListener("change", showFileName);
  $("text").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("composer").requestSubmit(); }
  });
  $("menu-btn").addEventListener("click", (e) => { e.stopPropagation(); $("menu").hidden = !$("menu").hidden; });
  document.addEventListener("click", () => { $("menu").hidden = true; });
  $("menu-leave").addEventListener("click", () => { $("menu").hidden = true; $("confirm-leave").showModal(); });
  $("confirm-leave").addEventListener("close", () => { if ($("confirm-leave").returnValue === "ok") leave(); });
  $("menu-add").addEventListener("click", () => {
    $("menu").hidden = true; $("colleague-q").value = ""; $("add-dialog").showModal(); searchColleagues();
  });
  $("colleague-q").addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(searchColleagues, 200); });
  $("optin-btn").addEventListener("click", newOptIn);
  $("contact-link-btn").addEventListener("click", () => showLinkDialog(t("linkTitle"), t("linkText"), state.me.contact_link));
}

start();
