// Sign-in and calls to /api/v1, shared by the tab and the admin page.
"use strict";

const Auth = {
  token: null,
  inTeams: false,
  config: null,

  // init learns how to sign in: the Teams SSO token inside Teams, the dev session
  // cookie in local mode.
  async init() {
    this.config = await (await fetch("/api/v1/config")).json();
    const framed = window.parent !== window;
    if (framed && window.microsoftTeams) {
      try {
        await withTimeout(microsoftTeams.app.initialize(), 5000);
        this.inTeams = true;
      } catch (e) { /* not hosted by Teams */ }
    }
    if (this.inTeams) {
      await this.refresh();
    } else if (!this.config.dev) {
      throw new Error(t("notInTeams"));
    }
  },

  async refresh() {
    // Teams caches the token and renews it when it is about to expire.
    this.token = await microsoftTeams.authentication.getAuthToken();
  },

  headers() {
    return this.token ? { Authorization: "Bearer " + this.token } : {};
  },
};

function withTimeout(p, ms) {
  return Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error("timeout")), ms))]);
}

// ApiError carries the server's {"error": …} message, its code and the HTTP status.
// A disabled employee is told in their own language.
class ApiError extends Error {
  constructor(status, message, code) {
    super(code === "employee_disabled" ? t("disabled") : message);
    this.status = status; this.code = code || "";
  }
}

// api calls the REST API and returns the parsed JSON (null for 204).
async function api(method, path, body, retried) {
  const headers = Auth.headers();
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  const res = await fetch("/api/v1" + path, { method, headers, body: payload, credentials: "same-origin" });
  if (res.status === 401) {
    if (Auth.inTeams && !retried) { await Auth.refresh(); return api(method, path, body, true); }
    if (Auth.config && Auth.config.dev) { location.href = "/tab/dev-login"; }
  }
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch (e) { /* not JSON */ }
  if (!res.ok) throw new ApiError(res.status, (data && data.error) || res.statusText, data && data.code);
  return data;
}

// h builds an element; strings become text nodes, so nothing is ever parsed as HTML.
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

function showBanner(msg) {
  const b = document.getElementById("banner");
  if (!b) return;
  b.textContent = msg || "";
  b.hidden = !msg;
}
