import { cleanup, render, screen, waitFor } from "@testing-library/react";
import { FluentProvider, teamsLightTheme } from "@fluentui/react-components";
import { afterEach, describe, expect, it, vi } from "vitest";

import { filenameOf } from "../src/api";
import { ExportSection, exportQuery, sizeText, utcToday } from "../src/ExportSection";
import { setLang } from "../src/i18n";
import { JournalSection, utcTime } from "../src/JournalSection";

afterEach(() => {
  cleanup();
  setLang("en");
});

describe("the admin page's archive export", () => {
  it("asks for days or for one conversation, and names what it saved", () => {
    expect(exportQuery("days", "2026-03-02", "2026-03-03", "ignored", "eml")).toBe("format=eml&from=2026-03-02&to=2026-03-03");
    expect(exportQuery("thread", "2026-03-02", "", " t1 ", "jsonl")).toBe("format=jsonl&thread=t1");
    expect(utcToday(new Date("2026-03-02T23:30:00-05:00"))).toBe("2026-03-03");
    expect(sizeText(812)).toBe("812 B");
    expect(sizeText(14 * 1024)).toBe("14 KB");
    expect(sizeText(3.2 * 1024 * 1024)).toBe("3.2 MB");
    expect(filenameOf("attachment; filename=archive_2026-03-02_2026-03-02.zip")).toBe("archive_2026-03-02_2026-03-02.zip");
    expect(filenameOf('attachment; filename="a b.jsonl"')).toBe("a b.jsonl");
    expect(filenameOf(null)).toBe("");
  });

  it("is localized: Simplified Chinese", () => {
    setLang("zh-CN");
    render(
      <FluentProvider theme={teamsLightTheme}>
        <ExportSection onError={() => {}} />
      </FluentProvider>,
    );
    expect(screen.getByRole("heading", { name: "导出存档" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "导出" })).toBeTruthy();
  });
});

describe("the admin page's journaling card", () => {
  it("shows the last success, what waits, the failures and the last error, in Simplified Chinese too", async () => {
    expect(utcTime("2026-03-02T09:01:00.123Z")).toBe("2026-03-02 09:01:00 UTC");
    const status = {
      enabled: true, server: "mail.example:587", mailbox: "journal@archive.example", last_success: "2026-03-02T09:01:00Z",
      pending: 2, oldest_pending_seconds: 3900, failing: 1, dead: 0, last_error: "journal: send to mail.example:587: 451 try again",
    };
    globalThis.fetch = vi.fn(async () => new Response(JSON.stringify(status), { status: 200, headers: { "Content-Type": "application/json" } })) as typeof fetch;
    setLang("zh-CN");
    render(
      <FluentProvider theme={teamsLightTheme}>
        <JournalSection />
      </FluentProvider>,
    );
    await waitFor(() => expect(screen.getByTestId("journal-error").textContent).toBe(status.last_error));
    expect(screen.getByRole("heading", { name: "日志归档" })).toBeTruthy();
    expect(screen.getByTestId("journal-last-success").textContent).toBe("2026-03-02 09:01:00 UTC");
    expect(screen.getByTestId("journal-pending").textContent).toBe("2 · 最早的已等待 1 小时 5 分钟");
    expect(screen.getByTestId("journal-failing").textContent).toBe("1");
    expect(document.getElementById("journal-target")!.textContent).toBe("通过 mail.example:587 发送到邮箱 journal@archive.example");
  });
});
