// Live updates: trade the sign-in for a ticket, then listen to
// /api/v1/events (Server-Sent Events) for changes to the list and the open thread.

import { Api, ApiError } from "./api";

export interface LiveHandlers {
  thread: string | null;
  onThreads(): void;
  onThread(): void;
  onDisabled(): void;
  /** onState says whether updates flow (false while reconnecting). */
  onState(ok: boolean): void;
}

/** connectLive opens the stream and returns a function that closes it. */
export function connectLive(h: LiveHandlers): () => void {
  let es: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let failures = 0;

  const connect = async () => {
    if (closed) return;
    let ticket: string;
    try {
      ({ ticket } = await Api.ticket());
    } catch (e) {
      if (e instanceof ApiError && e.code === "employee_disabled") {
        h.onDisabled();
        return;
      }
      retry();
      return;
    }
    if (closed) return;
    const q = new URLSearchParams({ ticket });
    if (h.thread) q.set("thread", h.thread);
    es = new EventSource("/api/v1/events?" + q.toString());
    es.addEventListener("ready", () => {
      failures = 0;
      h.onState(true);
      // What changed between the last load and this stream's first look is not
      // an event of the stream: load once more.
      h.onThreads();
      if (h.thread) h.onThread();
    });
    es.addEventListener("threads", () => h.onThreads());
    es.addEventListener("thread", () => h.onThread());
    es.onerror = () => {
      // The ticket expires in a minute: reconnect with a new one.
      es?.close();
      es = null;
      retry();
    };
  };
  const retry = () => {
    if (closed) return;
    failures++;
    if (failures > 1) h.onState(false);
    timer = setTimeout(connect, Math.min(3000 * failures, 15000));
  };
  void connect();
  return () => {
    closed = true;
    clearTimeout(timer);
    es?.close();
  };
}
