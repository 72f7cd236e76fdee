// Drives the tab in headless Chromium over the in-memory bridge, which keeps
// what the real bridge does not yet (read marks, notes for one employee): dev
// sign-in, unread counts, open a thread, send messages and see their status and
// the limit notice inline, a live update, leave with confirmation, the admin
// page's policy and failed jobs, a disabled employee.
// Usage: node browser.mjs <base-url> <out-dir> <node_modules>
import { createRequire } from "node:module";
import path from "node:path";

const [base, outDir, modules] = process.argv.slice(2);
const require = createRequire(path.join(modules, "noop.js"));
const { chromium } = require("playwright-core");

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const errors = [];
let expect400 = false; // Chromium logs an expected 400 answer as a console error
// A reload of the thread already on its way when the employee left it answers 404,
// which the tab takes as "not yours any more": expected once they left.
let left = false;
const step = (s) => console.log("step:", s);
const local = (r) => (["127.0.0.1", "localhost"].includes(new URL(r.request().url()).hostname) ? r.continue() : r.abort());
try {
  const ctx = await browser.newContext({ locale: "en-US", viewport: { width: 1280, height: 800 } });
  await ctx.route("**/*", local);
  const page = await ctx.newPage();
  page.on("pageerror", (e) => errors.push("pageerror: " + e.message));
  page.on("console", (m) => {
    if (m.type() !== "error" || /res\.cdn\.office\.net|net::ERR_FAILED/.test(m.text())) return;
    if (expect400 && /status of 400/.test(m.text())) return;
    if (left && /status of 404/.test(m.text())) return;
    errors.push("console: " + m.text());
  });
  page.on("response", (r) => {
    if (r.status() === 404 && !(left && r.url().includes("/api/v1/threads/t1"))) errors.push("404: " + r.url());
  });
  page.setDefaultTimeout(10000);

  step("dev sign-in; the unread count of a thread not opened yet");
  await page.goto(base + "/tab/dev-login");
  await page.click('button[data-employee="alice"]');
  await page.waitForURL(base + "/tab/");
  await page.waitForSelector("[data-testid=me-name]:text('Alice Chen')");
  await page.waitForSelector("[data-thread='t1'][data-unread='1']");

  step("open thread: the unread count goes");
  await page.click("[data-thread='t1']");
  await page.waitForSelector("[data-testid=thread-name]:text('Emiliano Ceballos')");
  await page.waitForSelector("li[data-from=system]:has-text('Thank you! You can now start messaging')");
  await page.waitForSelector("[data-thread='t1'][data-unread='0']");

  step("send four messages: three sent and the limit notice inline, the fourth queued");
  const texts = ["Okay great. You should see - Extraction.", "I enjoyed watching it.", "Tell me what you think!", "Are you still there?"];
  for (const t of texts) {
    await page.fill("[data-testid=composer-text]", t);
    await page.press("[data-testid=composer-text]", "Enter");
    await page.waitForSelector(`li[data-from=employee]:has-text("${t}")`);
  }
  const status = async (t) => (await page.locator(`li[data-from=employee]:has-text("${t}") [data-testid=status]`).textContent()).trim();
  for (const t of texts.slice(0, 3)) if ((await status(t)) !== "Sent") throw new Error(`"${t}" status ${await status(t)}`);
  if ((await status(texts[3])) !== "Queued 1 of 5") throw new Error("4th status " + (await status(texts[3])));
  await page.waitForSelector("li[data-from=employee_note][data-notice=limit_reached]:has-text('You have reached the maximum limit of three consecutive messages')");
  await page.waitForSelector("[data-thread='t1'] [data-testid=queued]:text('Queued 1')");
  await page.waitForSelector("[data-thread='t1'] [data-testid=preview]:text('You: Are you still there?')");

  step("live update from the consumer side");
  await fetch(base + "/test/consumer-writes?thread=t1&text=" + encodeURIComponent("Will check and get back to you"), { method: "POST" });
  await page.waitForSelector("li[data-from=consumer]:has-text('Will check and get back to you')", { timeout: 8000 });
  await page.screenshot({ path: path.join(outDir, "tab-thread.png") });

  step("leave with confirmation");
  await page.click("[data-testid=message-menu]");
  await page.click("[data-testid=menu-leave]");
  await page.waitForSelector("[data-testid=leave-dialog]");
  await page.screenshot({ path: path.join(outDir, "tab-leave-confirm.png") });
  left = true;
  await page.click("[data-testid=leave-confirm]");
  await page.waitForSelector("[data-testid=info]:has-text('You left the conversation.')");
  await page.waitForSelector("[data-thread='t1']", { state: "detached" });

  step("admin page");
  await page.goto(base + "/tab/admin.html");
  await page.waitForSelector("#p-queue_limit");
  if ((await page.inputValue("#p-queue_limit")) !== "5") throw new Error("queue limit not 5");
  expect400 = true;
  await page.fill("#p-sends_per_window", "6");
  await page.click("[data-testid=save-policy]");
  await page.waitForSelector("[data-testid=banner]:has-text('sends_per_window must be 1..5')");
  await page.fill("#p-sends_per_window", "5");
  await page.fill("#p-queue_limit", "4");
  await page.click("[data-testid=save-policy]");
  await page.waitForSelector("#saved");
  expect400 = false;
  await page.screenshot({ path: path.join(outDir, "tab-admin.png") });

  step("failed jobs: retry one, discard another");
  await page.waitForSelector("#jobs tr[data-job='7'] td:has-text('errcode 95018')");
  await page.waitForSelector("#jobs tr[data-job='8'] td:has-text('400 BadArgument')");
  await page.locator("#jobs-section").screenshot({ path: path.join(outDir, "tab-admin-jobs.png") });
  await page.click("#jobs tr[data-job='7'] button.retry");
  await page.waitForSelector("#jobs tr[data-job='7']", { state: "detached" });
  await page.click("#jobs tr[data-job='8'] button.discard");
  await page.waitForSelector("#jobs-none");

  step("disabled employee sees it plainly");
  const off = await browser.newContext({ locale: "en-US", viewport: { width: 1280, height: 800 } });
  await off.route("**/*", local);
  const op = await off.newPage();
  op.on("pageerror", (e) => errors.push("pageerror: " + e.message));
  await op.goto(base + "/tab/dev-login");
  await op.click('button[data-employee="carol"]');
  await op.waitForURL(base + "/tab/");
  await op.waitForSelector("[data-testid=fatal]:has-text('WeChat is disabled for you. Ask your admin to enable it.')");
  if (await op.locator("[data-testid=new-opt-in], [data-testid=composer-text]").count()) throw new Error("a disabled employee is offered actions");
  await op.screenshot({ path: path.join(outDir, "tab-disabled.png") });

  step("simplified chinese");
  const zh = await browser.newContext({ locale: "zh-CN", viewport: { width: 1280, height: 800 } });
  await zh.route("**/*", local);
  await zh.addCookies(await ctx.cookies());
  const zp = await zh.newPage();
  await zp.goto(base + "/tab/");
  await zp.waitForSelector("[data-testid=new-opt-in]:has-text('新的加入请求')");
  await zp.screenshot({ path: path.join(outDir, "tab-zh.png") });

  if (errors.length) throw new Error("page errors:\n" + errors.join("\n"));
  console.log("ok");
} finally {
  await browser.close();
}
