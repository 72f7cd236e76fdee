import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { FluentProvider, teamsLightTheme } from "@fluentui/react-components";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ThreadDetail, ThreadSummary } from "../src/api";
import { setLang } from "../src/i18n";

// The Teams SDK, as Teams would answer: in Teams, dark, a deep link to t1.
const teamsState = vi.hoisted(() => ({ inTeams: true, theme: "dark", sub: "t1" as string | undefined, handler: null as null | ((t: string) => void) }));
vi.mock("../src/teams", () => ({
  teams: {
    inTeams: async () => teamsState.inTeams,
    token: async () => "sso-token",
    context: async () => (teamsState.inTeams ? { theme: teamsState.theme, locale: "en-us", subPageId: teamsState.sub, pageId: "multiline" } : null),
    onThemeChange: async (h: (t: string) => void) => {
      teamsState.handler = h;
    },
    loaded: async () => {},
  },
}));

import { App, wantedThread } from "../src/App";
import { reviewFocus, reviewPageFor } from "../src/deeplink";
import { Conversation } from "../src/Conversation";
import { Inbox } from "../src/Inbox";
import { useMinuteTick } from "../src/hooks";
import { useTeamsTheme } from "../src/theme";

const at = "2025-06-02T10:15:00Z";
const summary: ThreadSummary = {
  id: "t1", consumer_name: "Emiliano Ceballos", status: "active", participants: ["Joe Smith"], last_message: "", last_at: at,
  queued: 1, queue_limit: 5, sends_left: 0, window_end: "2025-06-04T09:27:00Z", unread: 2, needs_answer: false,
  preview: { from: "employee", mine: true, text: "Will check and get back to you", at },
};
const detail: ThreadDetail = {
  ...summary, max_participants: 5, sends_per_window: 5, employee_limit: 3, now: "2025-06-02T10:15:00Z",
  people: [{ id: "joe", name: "Joe Smith", me: true }],
  messages: [
    { id: "t1-1", thread: "t1", from: "consumer", text: "Joe, what's a nice movie I can go watch and relax", status: "received", at },
    { id: "t1-2", thread: "t1", from: "system", notice: "consumer_welcome", text: "Thank you! You can now start messaging your contact.", status: "sent", at },
    { id: "t1-3", thread: "t1", from: "employee", author: "joe", author_name: "Joe Smith", text: "Okay great. You should see - Extraction.", status: "sent", at },
    { id: "t1-4", thread: "t1", from: "employee_note", author: "joe", author_name: "Joe Smith", notice: "limit_reached", text: "You have reached the maximum limit of three consecutive messages without a response from your contact.", status: "", at },
    { id: "t1-5", thread: "t1", from: "employee", author: "joe", author_name: "Joe Smith", text: "Will check and get back to you", status: "queued", position: 2, at },
  ],
};

function mockFetch() {
  const calls: string[] = [];
  globalThis.fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    calls.push((init?.method || "GET") + " " + url + " " + ((init?.headers as Record<string, string>)?.Authorization || ""));
    const json = (v: unknown, status = 200) => new Response(v === null ? null : JSON.stringify(v), { status, headers: { "Content-Type": "application/json" } });
    if (url === "/api/v1/config") return json({ dev: false, sso: true, features: { unread: true, search: "full" } });
    if (url === "/api/v1/me") return json({ id: "joe", name: "Joe Smith", admin: false, dev: false, contact_link: "https://work.weixin.qq.com/kf/kfc1" });
    if (url.startsWith("/api/v1/threads/t1/read")) return new Response(null, { status: 204 });
    if (url.startsWith("/api/v1/threads/t1")) return json(detail);
    if (url.startsWith("/api/v1/threads")) return json([summary]);
    if (url === "/api/v1/events/ticket") return json({ ticket: "x" });
    return json({ error: "not found" }, 404);
  }) as typeof fetch;
  return calls;
}

describe("the tab", () => {
  beforeEach(() => {
    setLang("en");
    teamsState.inTeams = true;
    teamsState.sub = "t1";
  });
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it("signs in with the Teams token and opens the thread a deep link names", async () => {
    const calls = mockFetch();
    render(
      <FluentProvider theme={teamsLightTheme}>
        <App deepLink={async () => teamsState.sub} />
      </FluentProvider>,
    );
    await screen.findByTestId("conversation");
    expect(screen.getByTestId("thread-name").textContent).toBe("Emiliano Ceballos");
    expect(calls.some((c) => c.startsWith("GET /api/v1/threads/t1 Bearer sso-token"))).toBe(true);
    // Both sides' bubbles, the automatic messages to the contact and to the employee, each message's status.
    expect(document.querySelector('li[data-from="consumer"]')?.textContent).toContain("nice movie");
    expect(document.querySelector('li[data-from="system"]')?.textContent).toContain("Automatic message to the contact");
    expect(document.querySelector('li[data-from="employee_note"]')?.textContent).toContain("Automatic message to you");
    expect([...document.querySelectorAll("[data-testid=status]")].map((e) => e.textContent)).toEqual(["Sent", "Queued 2 of 5"]);
    expect(screen.getByTestId("composer-hint").textContent).toContain("queued (2 of 5)");
    // Seen: the read mark moves to the last message.
    await waitFor(() => expect(calls.some((c) => c.startsWith("POST /api/v1/threads/t1/read"))).toBe(true));
  });

  it("shows a reviewer who is not an employee the way to the review page, and nothing to send with", async () => {
    const calls = mockFetch();
    const employeeFetch = globalThis.fetch;
    globalThis.fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      if (String(input) === "/api/v1/me") return new Response(JSON.stringify({ id: "", name: "Rita Review", admin: false, dev: false, compliance_reviewer: true, not_employee: true }));
      return employeeFetch(input, init);
    }) as typeof fetch;
    render(
      <FluentProvider theme={teamsLightTheme}>
        <App deepLink={async () => undefined} />
      </FluentProvider>,
    );
    await screen.findByTestId("reviewer-landing");
    expect(screen.getByTestId("open-review").getAttribute("href")).toBe("review.html");
    expect(document.querySelector("[data-testid=composer-text], [data-testid=new-opt-in], [data-testid=thread-list]")).toBeNull();
    expect(calls.some((c) => c.startsWith("GET /api/v1/threads"))).toBe(false);
  });

  it("sends a compliance alert's deep link to the review page on its message", () => {
    expect(reviewPageFor("review?message=aB3dE5-12&thread=aB3dE5")).toBe("review.html?thread=aB3dE5&message=aB3dE5-12");
    expect(reviewPageFor("review?thread=aB3dE5")).toBe("review.html?thread=aB3dE5");
    expect(reviewPageFor("review?evil=1")).toBe("review.html");
    expect(reviewPageFor("aB3dE5")).toBe("");
    expect(reviewPageFor(wantedThread(undefined, { search: "?subEntityId=" + encodeURIComponent("review?message=m1&thread=t1"), hash: "" }))).toBe(
      "review.html?thread=t1&message=m1",
    );
    expect(reviewFocus("?thread=t1&message=t1-4")).toEqual({ thread: "t1", message: "t1-4" });
  });

  it("reads the thread from ?subEntityId= or #thread= outside Teams", () => {
    expect(wantedThread(undefined, { search: "?subEntityId=t9", hash: "" })).toBe("t9");
    expect(wantedThread(undefined, { search: "", hash: "#thread=t7" })).toBe("t7");
    expect(wantedThread("t3", { search: "?subEntityId=t9", hash: "" })).toBe("t3");
  });

  it("lists threads with the preview, You:, unread count and badges", () => {
    render(
      <FluentProvider theme={teamsLightTheme}>
        <Inbox threads={[summary, { ...summary, id: "t2", consumer_name: "Li Wei", status: "awaiting_opt_in", queued: 0, unread: 0, preview: undefined }]} current="t1" query="" needsAnswer={false} unreadKept recentSearch={false} onQuery={() => {}} onNeedsAnswer={() => {}} onOpen={() => {}} />
      </FluentProvider>,
    );
    const items = document.querySelectorAll("[data-thread]");
    expect(items[0].querySelector("[data-testid=preview]")?.textContent).toBe("You: Will check and get back to you");
    expect(items[0].textContent).toContain("2 unread");
    expect(items[0].querySelector("[data-testid=queued]")?.textContent).toBe("Queued 1");
    expect(items[1].textContent).toContain("Waiting for opt-in");
    expect(items[0].querySelector("svg[aria-label=WeChat]")).not.toBeNull();
  });

  it("counts the window down every minute", async () => {
    vi.useFakeTimers({ now: Date.parse("2025-06-02T10:15:00Z") });
    function Live() {
      const tick = useMinuteTick();
      return <Conversation th={{ ...detail, sends_left: 3, queued: 0 }} meId="joe" serverOffset={0} tick={tick} narrow={false} showDetailsButton onBack={() => {}} onDetails={() => {}} onAddColleague={() => {}} onLeave={() => {}} onSend={async () => true} onSeen={() => {}} />;
    }
    render(
      <FluentProvider theme={teamsLightTheme}>
        <Live />
      </FluentProvider>,
    );
    expect(screen.getByTestId("window").textContent).toBe("3 of 5 sends left · closes in 47 h 12 min");
    await act(async () => {
      vi.advanceTimersByTime(60000);
    });
    expect(screen.getByTestId("window").textContent).toBe("3 of 5 sends left · closes in 47 h 11 min");
    await act(async () => {
      vi.advanceTimersByTime(45 * 3600 * 1000 + 11 * 60000);
    });
    expect(screen.getByTestId("window").querySelector("[data-urgent]")).not.toBeNull();
  });

  it("tells my messages by id, not by name: a colleague may share it", () => {
    const namesake = { id: "t1-6", thread: "t1", from: "employee" as const, author: "joe2", author_name: "Joe Smith", text: "I am the other Joe", status: "sent" as const, at };
    render(
      <FluentProvider theme={teamsLightTheme}>
        <Conversation th={{ ...detail, messages: [...detail.messages!, namesake] }} meId="joe" serverOffset={0} tick={Date.now()} narrow={false} showDetailsButton onBack={() => {}} onDetails={() => {}} onAddColleague={() => {}} onLeave={() => {}} onSend={async () => true} onSeen={() => {}} />
      </FluentProvider>,
    );
    const row = (id: string) => document.querySelector(`li[data-id="${id}"]`)!;
    expect(row("t1-3").getAttribute("data-mine")).toBe("true");
    expect(row("t1-3").textContent).toContain("You");
    expect(row("t1-6").getAttribute("data-mine")).toBeNull();
    expect(row("t1-6").textContent).toContain("Joe Smith");
  });

  it("asks before leaving, from the Message menu", async () => {
    const onLeave = vi.fn();
    render(
      <FluentProvider theme={teamsLightTheme}>
        <Conversation th={detail} meId="joe" serverOffset={0} tick={Date.now()} narrow={false} showDetailsButton onBack={() => {}} onDetails={() => {}} onAddColleague={() => {}} onLeave={onLeave} onSend={async () => true} onSeen={() => {}} />
      </FluentProvider>,
    );
    fireEvent.click(screen.getByRole("button", { name: "Message menu" }));
    fireEvent.click(await screen.findByRole("menuitem", { name: "Leave Conversation" }));
    expect(onLeave).toHaveBeenCalledOnce();
  });

  it("follows Teams' theme and its changes", async () => {
    teamsState.theme = "dark";
    function Probe() {
      return <span data-testid="theme">{useTeamsTheme()}</span>;
    }
    render(<Probe />);
    await waitFor(() => expect(screen.getByTestId("theme").textContent).toBe("dark"));
    await act(async () => teamsState.handler?.("contrast"));
    expect(screen.getByTestId("theme").textContent).toBe("contrast");
  });

  it("follows the system outside Teams", async () => {
    teamsState.inTeams = false;
    const { setMedia } = await import("./setup");
    setMedia("(prefers-color-scheme: dark)", true);
    function Probe() {
      return <span data-testid="theme">{useTeamsTheme()}</span>;
    }
    render(<Probe />);
    expect(screen.getByTestId("theme").textContent).toBe("dark");
    setMedia("(prefers-color-scheme: dark)", false);
  });
});
