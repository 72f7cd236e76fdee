// The tab's REST API (/api/v1) and sign-in: the Teams SSO token inside Teams,
// the dev session cookie in local mode. Types mirror teamsapp's JSON.

import { teams } from "./teams";

export type Party = "consumer" | "employee" | "system" | "employee_note";
export type ThreadStatus = "" | "awaiting_opt_in" | "active" | "inactive" | "closed" | "unrouted";
export type MessageStatus = "" | "received" | "queued" | "sending" | "sent" | "failed" | "not_queued" | "blocked";

export interface Media {
  kind: "image" | "voice" | "video" | "file" | string;
  file_name?: string;
  url: string;
}

export interface Message {
  id: string;
  thread: string;
  from: Party;
  /** author is the employee who wrote it (or for whom a note is kept): "mine" goes by it, not by name. */
  author?: string;
  author_name?: string;
  text: string;
  media?: Media;
  notice?: string;
  status: MessageStatus;
  reason?: string;
  position?: number;
  at: string;
  /** original is what the author wrote when a lexicon rule redacted what was sent (text). */
  original?: string;
}

export interface Preview {
  from: Party;
  mine: boolean;
  author_name?: string;
  text: string;
  media_kind?: string;
  file_name?: string;
  at: string;
}

export interface ThreadSummary {
  id: string;
  consumer_name: string;
  /** consumer_avatar_url is the consumer's WeChat avatar, when WeChat reported one. */
  consumer_avatar_url?: string;
  status: ThreadStatus;
  participants: string[] | null;
  last_message: string;
  last_at: string;
  queued: number;
  queue_limit: number;
  sends_left: number;
  window_end?: string;
  opt_in_link?: string;
  unread: number;
  preview?: Preview;
  needs_answer: boolean;
}

export interface Person {
  id?: string;
  name: string;
  me?: boolean;
}

export interface ThreadDetail extends ThreadSummary {
  messages?: Message[];
  people: Person[];
  max_participants: number;
  sends_per_window: number;
  employee_limit: number;
  opt_in_qr?: string;
  now: string;
}

export interface Me {
  id: string;
  name: string;
  locale?: string;
  contact_link?: string;
  contact_link_error?: string;
  contact_qr?: string;
  admin: boolean;
  /** compliance_reviewer may open the review page (review.html). */
  compliance_reviewer?: boolean;
  /** not_employee: a compliance reviewer who is not an employee; the tab offers
   * them the review page and nothing to send with. */
  not_employee?: boolean;
  dev: boolean;
  disabled?: boolean;
  disabled_message?: string;
  unreachable?: string;
}

export interface Config {
  dev: boolean;
  app_id?: string;
  sso: boolean;
  features: { unread: boolean; search: "full" | "recent" };
}

export interface Colleague {
  id: string;
  name: string;
}

/** ApiError carries the server's {"error": …} message, its code and the HTTP status. */
export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public code = "",
  ) {
    super(message);
  }
}

let token: string | null = null;
let config: Config | null = null;

/** signIn learns how to sign in: Teams SSO inside Teams, the dev cookie in local mode. */
export async function signIn(): Promise<Config> {
  config = (await (await fetch("/api/v1/config")).json()) as Config;
  if (await teams.inTeams()) {
    token = await teams.token();
  } else if (!config.dev) {
    throw new ApiError(401, "notInTeams", "not_in_teams");
  }
  return config;
}

export function currentConfig(): Config | null {
  return config;
}

/** api calls the REST API and returns the parsed JSON (null for 204). */
export async function api<T = unknown>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = "Bearer " + token;
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const res = await fetch("/api/v1" + path, { method, headers, body: payload, credentials: "same-origin" });
  if (res.status === 401) {
    if (token && !retried) {
      token = await teams.token();
      return api<T>(method, path, body, true);
    }
    if (config?.dev) {
      location.href = "/tab/dev-login";
    }
  }
  if (res.status === 204) return null as T;
  let data: { error?: string; code?: string } | null = null;
  try {
    data = await res.json();
  } catch {
    /* not JSON */
  }
  if (!res.ok) throw new ApiError(res.status, data?.error || res.statusText, data?.code);
  return data as T;
}

/** filenameOf reads the file name of a Content-Disposition header. */
export function filenameOf(disposition: string | null): string {
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition || "");
  return m ? decodeURIComponent(m[1]) : "";
}

/** download GETs a file from the API, signed in as api() is, and hands it to
 * the browser as a download named as the server says; it returns that name and
 * the size. A refusal throws ApiError with the server's message. */
export async function download(path: string, retried = false): Promise<{ name: string; size: number }> {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = "Bearer " + token;
  const res = await fetch("/api/v1" + path, { headers, credentials: "same-origin" });
  if (res.status === 401 && token && !retried) {
    token = await teams.token();
    return download(path, true);
  }
  if (!res.ok) {
    let data: { error?: string; code?: string } | null = null;
    try {
      data = await res.json();
    } catch {
      /* not JSON */
    }
    throw new ApiError(res.status, data?.error || res.statusText, data?.code);
  }
  const name = filenameOf(res.headers.get("Content-Disposition")) || "export";
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  // The browser has taken the file by the time a person could look for it.
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  return { name, size: blob.size };
}

const enc = encodeURIComponent;

export const Api = {
  me: () => api<Me>("GET", "/me"),
  threads: (q = "", needsAnswer = false) => {
    const p = new URLSearchParams();
    if (q.trim()) p.set("q", q.trim());
    if (needsAnswer) p.set("filter", "needs_answer");
    const s = p.toString();
    return api<ThreadSummary[]>("GET", "/threads" + (s ? "?" + s : ""));
  },
  thread: (id: string) => api<ThreadDetail>("GET", "/threads/" + enc(id)),
  send: (id: string, text: string) => api<Message & { queue_limit: number }>("POST", "/threads/" + enc(id) + "/messages", { text }),
  upload: (id: string, file: File, caption: string) => {
    const fd = new FormData();
    fd.append("text", caption); // first: the server checks the caption before it reads the file
    fd.append("file", file);
    return api<Message & { queue_limit: number }>("POST", "/threads/" + enc(id) + "/media", fd);
  },
  read: (id: string, upTo: string) => api<null>("POST", "/threads/" + enc(id) + "/read", { up_to: upTo }),
  leave: (id: string) => api<null>("POST", "/threads/" + enc(id) + "/leave"),
  addColleague: (id: string, employee: string) => api<null>("POST", "/threads/" + enc(id) + "/participants", { employee }),
  removeColleague: (id: string, employee: string) => api<null>("DELETE", "/threads/" + enc(id) + "/participants/" + enc(employee)),
  colleagues: (q: string) => api<Colleague[]>("GET", "/colleagues?q=" + enc(q)),
  optIn: () => api<{ thread: string }>("POST", "/opt-in"),
  ticket: () => api<{ ticket: string }>("POST", "/events/ticket"),
};
