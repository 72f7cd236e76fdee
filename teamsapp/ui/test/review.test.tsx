import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { FluentProvider, teamsLightTheme } from "@fluentui/react-components";
import { afterEach, describe, expect, it, vi } from "vitest";

vi.mock("../src/teams", () => ({
  teams: { inTeams: async () => true, token: async () => "sso-token", context: async () => null, onThemeChange: async () => {}, loaded: async () => {} },
}));

import { actionNames } from "../src/AuditSection";
import { eventLine, Review, utc } from "../src/ReviewPage";

const thread = { id: "t1", consumer: "wmEmil", consumer_name: "Emiliano Ceballos", employees: ["Ann Lee"], first: "2026-03-02T09:00:00Z", last: "2026-03-02T09:01:00.5Z", events: 5 };
const flag = {
  thread: "t1", consumer_name: "Emiliano Ceballos", seq: 5, at: "2026-03-02T09:01:00Z",
  decision: { message_id: "t1-4", direction: "outbound", action: "flag", rules: ["guarantee"], original: "It is guaranteed to double", result: "It is guaranteed to double" },
};
const events = [
  { seq: 1, time: "2026-03-02T09:00:00Z", kind: "message.in", body: { message_id: "t1-1", author: { role: "consumer", id: "wmEmil", name: "Emiliano Ceballos" }, text: "Is the fund guaranteed?" } },
  { seq: 2, time: "2026-03-02T09:00:00Z", kind: "message.out", body: null },
  { seq: 5, time: "2026-03-02T09:01:00Z", kind: "lexicon", body: flag.decision },
];

afterEach(cleanup);

describe("the review page", () => {
  it("says what each archive event records, and marks purged bodies", () => {
    expect(eventLine(events[0])).toEqual({ who: "Emiliano Ceballos", what: "Is the fund guaranteed?" });
    expect(eventLine(events[1]).what).toMatch(/removed by retention/);
    expect(eventLine(events[2]).what).toBe("flag by guarantee: It is guaranteed to double");
    expect(eventLine({ seq: 6, time: "", kind: "review", body: { reviewer: { role: "reviewer", id: "oid", name: "Rita" }, seq: 5, comment: "coached" } })).toEqual({ who: "Rita", what: "reviewed event 5: coached" });
    expect(utc("2026-03-02T09:01:00.5Z")).toBe("2026-03-02 09:01:00");
    expect(actionNames([{ type: "RecordMessage" }, { type: "Send" }, { type: "RecordMessage" }])).toBe("RecordMessage, Send");
  });

  it("searches, opens a record read-only, and marks a flag reviewed with a comment", async () => {
    const calls: string[] = [];
    let reviewed = false;
    globalThis.fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input);
      calls.push((init?.method || "GET") + " " + url + (init?.body ? " " + String(init.body) : ""));
      const json = (v: unknown, status = 200) => new Response(JSON.stringify(v), { status, headers: { "Content-Type": "application/json" } });
      if (url === "/api/v1/config") return json({ dev: false, sso: true, features: { unread: true, search: "full" } });
      if (url.startsWith("/api/v1/review/threads/t1/events/5/review")) {
        reviewed = true;
        return new Response(null, { status: 204 });
      }
      if (url === "/api/v1/review/threads/t1") return json({ thread: "t1", events });
      if (url.startsWith("/api/v1/review/threads")) return json([thread]);
      if (url === "/api/v1/review/flagged") return json(reviewed ? [] : [flag]);
      return json({ error: "not found" }, 404);
    }) as typeof fetch;
    render(
      <FluentProvider theme={teamsLightTheme}>
        <Review />
      </FluentProvider>,
    );
    await screen.findByText("It is guaranteed to double");
    expect(screen.getByRole("row", { name: /Emiliano Ceballos Ann Lee/ })).toBeTruthy();

    fireEvent.change(document.getElementById("r-q")!, { target: { value: "fund" } });
    fireEvent.change(document.getElementById("r-from")!, { target: { value: "2026-03-01" } });
    fireEvent.submit(document.getElementById("review-search")!);
    await waitFor(() => expect(calls).toContain("GET /api/v1/review/threads?q=fund&from=2026-03-01"));

    fireEvent.click(screen.getByRole("button", { name: "Open the record of Emiliano Ceballos" }));
    await screen.findByText("Record of Emiliano Ceballos");
    expect(screen.getByText("Is the fund guaranteed?")).toBeTruthy();
    expect(screen.getByText(/removed by retention/)).toBeTruthy();
    expect(screen.queryByRole("textbox", { name: /message/i })).toBeNull(); // nothing to send with

    fireEvent.change(screen.getByRole("textbox", { name: "Comment" }), { target: { value: "Coached Ann." } });
    fireEvent.click(screen.getByRole("button", { name: "Mark reviewed" }));
    await screen.findByText("Nothing is waiting for review.");
    expect(calls).toContain('POST /api/v1/review/threads/t1/events/5/review {"comment":"Coached Ann."}');
  });

  it("opens on the message a compliance alert names: its record, and its item in the queue marked", async () => {
    history.replaceState(null, "", "/tab/review.html?thread=t1&message=t1-4");
    Element.prototype.scrollIntoView = vi.fn();
    globalThis.fetch = vi.fn(async (input: RequestInfo | URL) => {
      const url = String(input);
      const json = (v: unknown) => new Response(JSON.stringify(v), { status: 200, headers: { "Content-Type": "application/json" } });
      if (url === "/api/v1/config") return json({ dev: false, sso: true, features: { unread: true, search: "full" } });
      if (url === "/api/v1/review/threads/t1") return json({ thread: "t1", events });
      if (url.startsWith("/api/v1/review/threads")) return json([thread]);
      if (url === "/api/v1/review/flagged") return json([flag, { ...flag, seq: 9, decision: { ...flag.decision, message_id: "t1-8", original: "another" } }]);
      return json({});
    }) as typeof fetch;
    render(
      <FluentProvider theme={teamsLightTheme}>
        <Review />
      </FluentProvider>,
    );
    await screen.findByText("Record of Emiliano Ceballos");
    expect([...document.querySelectorAll("[data-focused=true]")].map((e) => e.getAttribute("data-flag") || e.getAttribute("data-seq"))).toEqual(["t1/5", "5"]);
    await waitFor(() => expect(Element.prototype.scrollIntoView).toHaveBeenCalled());
    expect(document.getElementById("focus-not-queued")).toBeNull();
    history.replaceState(null, "", "/");
  });

  it("tells a person who is not a reviewer so", async () => {
    globalThis.fetch = vi.fn(async (input: RequestInfo | URL) => {
      const url = String(input);
      if (url === "/api/v1/config") return new Response(JSON.stringify({ dev: false, sso: true, features: { unread: true, search: "full" } }));
      return new Response(JSON.stringify({ error: "Only compliance reviewers may read the archive." }), { status: 403 });
    }) as typeof fetch;
    render(
      <FluentProvider theme={teamsLightTheme}>
        <Review />
      </FluentProvider>,
    );
    expect((await screen.findByRole("alert")).textContent).toBe("Only compliance reviewers may read the archive.");
  });
});
