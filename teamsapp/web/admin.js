// The admin page: company policy, languages and notice texts, which employees may
// use WeChat, and the jobs that failed for good.
"use strict";

const FIELDS = [
  ["sends_per_window", "Messages per consumer message (WeChat: at most 5)"],
  ["window_hours", "Window in hours (WeChat: at most 48)"],
  ["reminder_after_hours", "Reminder after hours"],
  ["employee_limit", "Consecutive employee messages before queueing"],
  ["queue_limit", "Queued messages per thread"],
  ["reserve", "Sends kept for mandatory notices"],
  ["max_participants", "Employees per thread"],
];
let settings = null;

async function load() {
  try {
    await Auth.init();
    settings = await api("GET", "/admin/policy");
    renderPolicy();
    await loadEmployees();
    await loadJobs();
  } catch (e) { showBanner(e.message); }
}

function renderPolicy() {
  $a("p-consumer_language").value = settings.policy.consumer_language || "auto";
  $a("p-language").value = settings.language || "en";
  $a("policy").replaceChildren(...FIELDS.map(([k, label]) => h("tr", {},
    h("th", {}, h("label", { for: "p-" + k }, label)),
    h("td", {}, h("input", { type: "number", id: "p-" + k, name: k, step: k.endsWith("hours") ? "any" : "1", value: settings.policy[k] })),
    h("td", { class: "default" }, "default " + settings.defaults[k]))));
  const langs = settings.languages;
  $a("notices").replaceChildren(
    h("tr", {}, h("th", {}, "Notice"), ...langs.map((l) => h("th", {}, l))),
    ...settings.notices.map((n) => h("tr", {},
      h("td", {}, h("code", {}, n.kind), h("div", { class: "default" }, n.for_consumer ? "to the consumer (counts as a send)" : "to employees")),
      ...langs.map((l) => h("td", {},
        h("textarea", { "data-kind": n.kind, "data-lang": l, "aria-label": n.kind + " " + l }, ((settings.overrides[n.kind] || {})[l]) || ""),
        h("div", { class: "default" }, n.defaults[l]))))));
}

async function save(ev) {
  ev.preventDefault();
  const policy = {};
  for (const [k] of FIELDS) policy[k] = Number($a("p-" + k).value);
  policy.consumer_language = $a("p-consumer_language").value;
  const language = $a("p-language").value;
  const overrides = {};
  for (const ta of document.querySelectorAll("#notices textarea")) {
    if (!ta.value.trim()) continue;
    (overrides[ta.dataset.kind] ||= {})[ta.dataset.lang] = ta.value;
  }
  try {
    settings = await api("PUT", "/admin/policy", { policy, overrides, language });
    showBanner("");
    renderPolicy();
    $a("saved").hidden = false;
    setTimeout(() => { $a("saved").hidden = true; }, 3000);
  } catch (e) { showBanner(e.message); }
}

async function loadEmployees() {
  const list = await api("GET", "/admin/employees");
  document.querySelector("#employees tbody").replaceChildren(...list.map((e) => h("tr", {},
    h("td", {}, e.name || e.id),
    h("td", {}, h("input", { type: "checkbox", checked: e.enabled, "aria-label": "WeChat enabled for " + e.name, onchange: (ev) => setEnabled(e.id, ev.target) })),
    h("td", {}, e.installed ? "yes" : "no"),
    h("td", {}, e.blocked ? "blocked" + (e.blocked_reason ? ": " + e.blocked_reason : "") : "ok"))));
}

async function setEnabled(id, box) {
  try {
    const e = await api("PUT", "/admin/employees/" + encodeURIComponent(id), { enabled: box.checked });
    box.checked = e.enabled;
    showBanner("");
  } catch (err) { box.checked = !box.checked; showBanner(err.message); }
}

async function searchDirectory(ev) {
  ev.preventDefault();
  try {
    const people = await api("GET", "/admin/directory?q=" + encodeURIComponent($a("directory-q").value));
    $a("directory").replaceChildren(...people.map((p) => h("li", {},
      h("span", {}, p.name + (p.mail ? " <" + p.mail + ">" : "")), " ",
      h("button", { type: "button", onclick: () => addPerson(p) }, "Add and enable"))));
    showBanner("");
  } catch (err) { showBanner(err.message); }
}

async function addPerson(p) {
  try {
    await api("POST", "/admin/employees", { aad_object_id: p.aad_object_id, name: p.name });
    $a("directory").replaceChildren();
    await loadEmployees();
  } catch (err) { showBanner(err.message); }
}

// loadJobs lists the dead jobs, with Retry and Discard.
async function loadJobs() {
  let jobs;
  try {
    jobs = await api("GET", "/admin/jobs?dead=true");
  } catch (e) {
    if (e.status !== 501) throw e;
    $a("jobs").hidden = true;
    $a("jobs-off").textContent = e.message;
    $a("jobs-off").hidden = false;
    return;
  }
  $a("jobs-none").hidden = jobs.length > 0;
  $a("jobs").hidden = jobs.length === 0;
  document.querySelector("#jobs tbody").replaceChildren(...jobs.map((j) => h("tr", { dataset: { job: j.id } },
    h("td", {}, h("code", {}, j.kind)),
    h("td", {}, h("code", {}, j.lane)),
    h("td", {}, String(j.attempts)),
    h("td", { title: j.created }, age(j.age_seconds)),
    h("td", { class: "error-text" }, j.last_error || ""),
    h("td", {},
      h("button", { type: "button", class: "retry", onclick: () => jobAction(j.id, "retry") }, "Retry"),
      h("button", { type: "button", class: "discard", onclick: () => jobAction(j.id, "discard") }, "Discard")))));
}

async function jobAction(id, action) {
  try {
    await api("POST", "/admin/jobs/" + id + "/" + action);
    showBanner("");
    await loadJobs();
  } catch (e) { showBanner(e.message); }
}

// age says how long ago, roughly: 45 s, 12 min, 5 h, 3 d.
function age(s) {
  if (s < 60) return s + " s";
  if (s < 3600) return Math.floor(s / 60) + " min";
  if (s < 86400) return Math.floor(s / 3600) + " h";
  return Math.floor(s / 86400) + " d";
}

function $a(id) { return document.getElementById(id); }

document.getElementById("policy-form").addEventListener("submit", save);
document.getElementById("directory-form").addEventListener("submit", searchDirectory);
load();
