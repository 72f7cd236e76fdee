import { beforeEach, describe, expect, it } from "vitest";
import type { Message } from "../src/api";
import { avatarImage, composerState, countdown, durationText, messageStatus, previewText, withSyntheticNotes } from "../src/format";
import { langOf, setLang } from "../src/i18n";

const now = Date.parse("2025-06-02T10:00:00Z");
const h = 3600 * 1000;

describe("what the tab says", () => {
  beforeEach(() => setLang("en"));

  it("gives every employee message its status, with the reason", () => {
    expect(messageStatus({ status: "sent" }, 5)).toBe("Sent");
    expect(messageStatus({ status: "queued", position: 2 }, 5)).toBe("Queued 2 of 5");
    expect(messageStatus({ status: "not_queued", reason: "queue_full" }, 5)).toBe("Not queued: the limit of pending messages has been reached");
    expect(messageStatus({ status: "failed", reason: "window_closed" }, 5)).toBe("Failed: WeChat's 48-hour window had closed");
    expect(messageStatus({ status: "failed", reason: "something new" }, 5)).toBe("Failed: something new");
    expect(messageStatus({ status: "blocked", reason: "lexicon" }, 5)).toBe("Blocked by policy: lexicon");
    expect(messageStatus({ status: "blocked", reason: "Blocked by policy: guarantee" }, 5)).toBe("Blocked by policy: guarantee");
    setLang("zh-CN");
    expect(messageStatus({ status: "queued", position: 2 }, 5)).toBe("排队中（第 2 条，共 5 条）");
  });

  it("counts the window down, red in the last 2 hours", () => {
    const th = { status: "active" as const, sends_left: 3, sends_per_window: 5, window_end: new Date(now + 47 * h + 12 * 60000).toISOString() };
    expect(countdown(th, now)).toEqual({ text: "3 of 5 sends left · closes in 47 h 12 min", urgent: false, closed: false });
    expect(countdown(th, now + 45 * h + 13 * 60000)?.urgent).toBe(true);
    expect(countdown(th, now + 47 * h)?.text).toBe("3 of 5 sends left · closes in 12 min");
    expect(countdown(th, now + 48 * h)?.closed).toBe(true);
    expect(countdown({ ...th, status: "inactive" }, now)).toBeNull();
    expect(durationText(-5)).toBe("0 min");
    setLang("zh-CN");
    expect(countdown(th, now)?.text).toBe("还可发送 3/5 条 · 47 小时 12 分钟后关闭");
  });

  it("says why the composer queues or is disabled", () => {
    const open = { status: "active" as const, sends_left: 2, queued: 0, queue_limit: 5, window_end: new Date(now + h).toISOString() };
    expect(composerState(open, now)).toMatchObject({ hint: "", disabled: false });
    expect(composerState({ ...open, sends_left: 0 }, now).hint).toMatch(/^You have reached the maximum limit of three consecutive messages.*queued \(1 of 5\)/);
    expect(composerState({ ...open, status: "inactive" }, now)).toMatchObject({ intent: "warning", disabled: false });
    expect(composerState({ ...open, queued: 5 }, now)).toMatchObject({ noFiles: true, disabled: false, intent: "error" });
    expect(composerState({ ...open, status: "closed" }, now)).toMatchObject({ disabled: true });
    expect(composerState({ ...open, status: "awaiting_opt_in", queued: 1 }, now).hint).toContain("queued (2 of 5)");
  });

  it("previews what a person wrote, with You: for one's own", () => {
    expect(previewText({ from: "employee", mine: true, text: "Meeting in 45min", at: "" })).toBe("You: Meeting in 45min");
    expect(previewText({ from: "consumer", mine: false, text: "Could you call me", at: "" })).toBe("Could you call me");
    expect(previewText({ from: "consumer", mine: false, text: "", media_kind: "image", file_name: "a.png", at: "" })).toBe("Image · a.png");
    expect(previewText(undefined, "fallback")).toBe("fallback");
  });

  it("shows the not-queued notice once, after its message", () => {
    const m = (id: string, extra: Partial<Message>): Message => ({ id, thread: "t", from: "employee", text: id, status: "sent", at: "", ...extra });
    const shown = withSyntheticNotes([m("a", {}), m("b", { status: "not_queued", reason: "queue_full" })]);
    expect(shown.map((x) => x.from + ":" + (x.notice || ""))).toEqual(["employee:", "employee:", "employee_note:not_queued"]);
    const kept = withSyntheticNotes([m("b", { status: "not_queued", reason: "queue_full" }), m("n", { from: "employee_note", notice: "not_queued" })]);
    expect(kept).toHaveLength(2);
  });

  it("shows WeChat's avatars by https only, and nothing else", () => {
    expect(avatarImage("http://wx.qlogo.cn/mmhead/abc/0")).toEqual({ src: "https://wx.qlogo.cn/mmhead/abc/0" });
    expect(avatarImage("https://thirdwx.qlogo.cn/x/132")).toEqual({ src: "https://thirdwx.qlogo.cn/x/132" });
    expect(avatarImage("https://evil.example/qlogo.cn.png")).toBeUndefined();
    expect(avatarImage("javascript:alert(1)")).toBeUndefined();
    expect(avatarImage("")).toBeUndefined();
    expect(avatarImage(undefined)).toBeUndefined();
  });

  it("maps Teams' and browsers' languages", () => {
    expect(langOf("zh-cn")).toBe("zh-CN");
    expect(langOf("zh_CN")).toBe("zh-CN");
    expect(langOf("zh-Hans")).toBe("zh-CN");
    expect(langOf("en-GB")).toBe("en");
    expect(langOf(undefined)).toBe("en");
  });
});
