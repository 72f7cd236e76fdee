// Deep links into the tab that are not a thread: a compliance alert in a
// reviewer's activity feed opens the review page on one message. The server
// builds their subEntityId (manifest.ReviewSubEntity): "review?thread=…&message=…".
// Thread ids are [0-9a-zA-Z], so no thread id starts with "review?".

const reviewPrefix = "review?";

/** reviewPageFor is the review page's address for a deep link's subEntityId
 * naming a message to review, or "" when it names something else (a thread). */
export function reviewPageFor(subEntityId: string): string {
  if (!subEntityId.startsWith(reviewPrefix)) return "";
  const q = new URLSearchParams(subEntityId.slice(reviewPrefix.length));
  const out = new URLSearchParams();
  for (const k of ["thread", "message"]) {
    const v = q.get(k);
    if (v) out.set(k, v);
  }
  const s = out.toString();
  return "review.html" + (s ? "?" + s : "");
}

/** reviewFocus is the thread and message the review page was opened on. */
export function reviewFocus(search: string = location.search): { thread: string; message: string } {
  const q = new URLSearchParams(search);
  return { thread: q.get("thread") || "", message: q.get("message") || "" };
}
