// What the tab says about messages and threads: pure functions of the data and
// the clock, unit-tested in test/format.test.ts.

import type { Message, Preview, ThreadDetail, ThreadStatus, ThreadSummary } from "./api";
import { currentLang, has, t } from "./i18n";

/** reasonText says in words why a message was not delivered. */
export function reasonText(reason: string | undefined): string {
  if (!reason) return "";
  const k = "r_" + reason;
  return has(k) ? t(k) : reason;
}

/** messageStatus is the line under an employee's message: always with the reason
 * when it was not delivered. */
export function messageStatus(m: Pick<Message, "status" | "reason" | "position">, queueLimit: number): string {
  switch (m.status) {
    case "sent":
      return t("m_sent");
    case "sending":
      return t("m_sending");
    case "queued":
      return t("m_queued", { n: m.position || "?", N: queueLimit || "?" });
    case "not_queued":
      return t("m_not_queued", { r: reasonText(m.reason) });
    case "failed":
      return t("m_failed", { r: reasonText(m.reason) });
    case "blocked":
      // The bridge's reason is "Blocked by policy: <rules>"; say it in the tab's language.
      return t("m_blocked", { r: (m.reason || "").replace(/^Blocked by policy: /, "") });
  }
  return "";
}

/** durationText is "47 h 12 min", or "12 min" under an hour. */
export function durationText(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 60000));
  const h = Math.floor(total / 60);
  const m = total % 60;
  return h > 0 ? t("hoursMinutes", { h, m }) : t("minutes", { m });
}

export interface Countdown {
  text: string;
  /** urgent: the window closes within 2 hours (shown in red). */
  urgent: boolean;
  closed: boolean;
}

const URGENT_MS = 2 * 3600 * 1000;

/** countdown is "3 of 5 sends left · closes in 47 h 12 min" for an active thread
 * at server time nowMs; null when the thread has no open window. */
export function countdown(th: Pick<ThreadDetail, "status" | "window_end" | "sends_left" | "sends_per_window">, nowMs: number): Countdown | null {
  if (th.status !== "active" || !th.window_end) return null;
  const left = Date.parse(th.window_end) - nowMs;
  if (left <= 0) return { text: t("windowClosed"), urgent: true, closed: true };
  const sends = t("sendsLeft", { n: th.sends_left, N: th.sends_per_window || 5 });
  return { text: sends + " · " + t("closesIn", { t: durationText(left) }), urgent: left <= URGENT_MS, closed: false };
}

export interface ComposerState {
  /** hint says why messages queue or cannot be sent; "" when they go out now. */
  hint: string;
  intent: "info" | "warning" | "error";
  /** disabled: nothing can be sent at all. */
  disabled: boolean;
  /** noFiles: a file would be refused (it could never be sent). */
  noFiles: boolean;
}

/** composerState says what happens to a message sent now, and why. */
export function composerState(th: Pick<ThreadDetail, "status" | "sends_left" | "queued" | "queue_limit" | "window_end">, nowMs: number): ComposerState {
  const N = th.queue_limit || 5;
  const q = Math.min(th.queued + 1, N);
  const ok: ComposerState = { hint: "", intent: "info", disabled: false, noFiles: false };
  switch (th.status) {
    case "closed":
      return { hint: t("c_closed"), intent: "error", disabled: true, noFiles: true };
    case "unrouted":
      return { hint: t("c_unrouted"), intent: "error", disabled: true, noFiles: true };
  }
  if (th.queued >= N) return { hint: t("c_full", { N }), intent: "error", disabled: false, noFiles: true };
  switch (th.status) {
    case "awaiting_opt_in":
      return { ...ok, hint: t("c_awaiting", { q, N }) };
    case "inactive":
      return { ...ok, hint: t("c_inactive", { q, N }), intent: "warning" };
    case "active": {
      const open = th.window_end && Date.parse(th.window_end) > nowMs;
      if (!open) return { ...ok, hint: t("c_inactive", { q, N }), intent: "warning" };
      if (th.sends_left <= 0 || th.queued > 0) return { ...ok, hint: t("c_limit", { q, N }), intent: "warning" };
      return ok;
    }
  }
  return ok;
}

/** mediaLabel names an attachment kind. */
export function mediaLabel(kind: string | undefined): string {
  switch (kind) {
    case "image":
      return t("image");
    case "voice":
      return t("voice");
    case "video":
      return t("video");
  }
  return t("file");
}

/** previewText is the list's line: the last message a person wrote, "You: " for
 * the employee's own. */
export function previewText(p: Preview | undefined, fallback = ""): string {
  if (!p) return fallback;
  const body = p.text || (p.media_kind ? mediaLabel(p.media_kind) + (p.file_name ? " · " + p.file_name : "") : "");
  return (p.mine ? t("youPrefix") : "") + body;
}

/** timeLabel is the time for today, else the date, in the UI's language. */
export function timeLabel(iso: string | undefined, now = new Date()): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d.getTime())) return "";
  const loc = currentLang();
  if (d.toDateString() === now.toDateString()) return d.toLocaleTimeString(loc, { hour: "numeric", minute: "2-digit" });
  return d.toLocaleDateString(loc, { month: "2-digit", day: "2-digit" });
}

/** fullTime is a message's date and time, for its tooltip and screen readers. */
export function fullTime(iso: string): string {
  const d = new Date(iso);
  return isNaN(d.getTime()) ? "" : d.toLocaleString(currentLang(), { dateStyle: "medium", timeStyle: "short" });
}

export type BadgeColor = "success" | "informative" | "warning" | "danger" | "subtle" | "brand";

/** statusBadge is the badge of a thread status. */
export function statusBadge(s: ThreadStatus): { label: string; color: BadgeColor } {
  switch (s) {
    case "active":
      return { label: t("st_active"), color: "success" };
    case "inactive":
      return { label: t("st_inactive"), color: "subtle" };
    case "awaiting_opt_in":
      return { label: t("st_awaiting_opt_in"), color: "warning" };
    case "closed":
      return { label: t("st_closed"), color: "danger" };
    case "unrouted":
      return { label: t("st_unrouted"), color: "subtle" };
  }
  return { label: t("st_active"), color: "success" };
}

/** queuedMessages are the thread's messages waiting to be delivered, in order. */
export function queuedMessages(th: Pick<ThreadDetail, "messages">): Message[] {
  return (th.messages || []).filter((m) => m.status === "queued").sort((a, b) => (a.position || 0) - (b.position || 0));
}

/** withSyntheticNotes adds, after a message kept as not queued, the employee's
 * notice that says so, unless the server already keeps that note in the thread. */
export function withSyntheticNotes(msgs: Message[]): Message[] {
  const out: Message[] = [];
  msgs.forEach((m, i) => {
    out.push(m);
    if (m.from === "employee" && m.status === "not_queued" && m.reason === "queue_full") {
      const next = msgs.slice(i + 1, i + 3);
      if (!next.some((n) => n.from === "employee_note" && n.notice === "not_queued")) {
        out.push({ id: m.id + "~note", thread: m.thread, from: "employee_note", notice: "not_queued", text: t("n_not_queued"), status: "", at: m.at });
      }
    }
  });
  return out;
}

/** sortThreads keeps the list's order: most recent first. */
export function sortThreads(ts: ThreadSummary[]): ThreadSummary[] {
  return [...ts].sort((a, b) => Date.parse(b.last_at) - Date.parse(a.last_at));
}

/** avatarImage is the Avatar's image for a consumer's WeChat avatar: WeChat's
 * image hosts (*.qlogo.cn) by https only, which the tab's CSP allows and a
 * Teams page (https) may show; anything else is left to the initials. */
export function avatarImage(url: string | undefined): { src: string } | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    if (!/(^|\.)qlogo\.cn$/.test(u.hostname) || (u.protocol !== "https:" && u.protocol !== "http:")) return undefined;
    u.protocol = "https:";
    return { src: u.toString() };
  } catch {
    return undefined;
  }
}
