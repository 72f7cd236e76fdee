import { cleanup, render, screen } from "@testing-library/react";
import { FluentProvider, teamsLightTheme } from "@fluentui/react-components";
import { afterEach, describe, expect, it } from "vitest";

import { filenameOf } from "../src/api";
import { ExportSection, exportQuery, sizeText, utcToday } from "../src/ExportSection";
import { setLang } from "../src/i18n";

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
