// Drives the tab in headless Chromium: dev sign-in, open a thread, send messages,
// see their status, leave with confirmation. Usage: node browser.mjs <base-url> <out-dir>
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
const step = (s) => console.log("step:", s);
try {
  const ctx = await browser.newContext({ locale: "en-US", viewport: { width: 1100, height: 720 } });
  await ctx.route("**/*", (route) => {
    const host = new URL(route.request().url()).hostname;
    return host === "127.0.0.1" || host === "localhost" ? route.continue() : route.abort();
  });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => errors.push("pageerror: " + e.message));
  // The Teams SDK asks res.cdn.office.net for its valid domains; offline, that is
  // aborted on purpose and the SDK carries on.
  page.on("console", (m) => {
    if (m.type() !== "error" || /res\.cdn\.office\.net|net::ERR_FAILED/.test(m.text())) return;
    if (expect400 && /status of 400/.test(m.text())) return;
    errors.push("console: " + m.text());
  });
  // Name the resource behind a "Failed to load resource" console error.
  page.on("response", (r) => {
    if (r.status() === 404) errors.push("404: " + r.url());
  });
  page.setDefaultTimeout(10000);

  step("dev sign-in");
  await page.goto(base + "/tab/dev-login");
  await page.click('button[data-employee="alice"]');
  await page.waitForURL(base + "/tab/");
  await page.waitForSelector("#me-name:text('Alice Chen')");

  step("open thread");
  await page.click('.thread-item[data-thread="t1"]');
  await page.waitForSelector("#thread-name:text('Emiliano Ceballos')");
  await page.waitForSelector(".msg.auto:has-text('Thank you! You can now start messaging')");

  step("send four messages: three sent, the fourth queued");
  const texts = ["Okay great. You should see - Extraction.", "I enjoyed watching it.", "Tell me what you think!", "Are you still there?"];
  for (const t of texts) {
    await page.fill("#text", t);
    await page.press("#text", "Enter");
    await page.waitForSelector(`.msg.ours:has-text("${t}")`);
  }
  const status = async (t) => (await page.locator(`.msg.ours:has-text("${t}") .status`).textContent()).trim();
  for (const t of texts.slice(0, 3)) if ((await status(t)) !== "Sent") throw new Error(`"${t}" status ${await status(t)}`);
  if ((await status(texts[3])) !== "Queued 1 of 5") throw new Error("4th status " + (await status(texts[3])));
  await page.waitForSelector(".thread-item[data-thread='t1'] .badge.queued:text('1 queued')");

  step("live update from the consumer side");
  await fetch(base + "/test/consumer-writes?thread=t1&text=" + encodeURIComponent("Will check and get back to you"), { method: "POST" });
  await page.waitForSelector(".msg.theirs:has-text('Will check and get back to you')", { timeout: 8000 });
  await page.screenshot({ path: path.join(outDir, "tab-thread.png") });

  step("leave with confirmation");
  await page.click("#menu-btn");
  await page.click("#menu-leave");
  await page.waitForSelector("#confirm-leave[open]");
  await page.screenshot({ path: path.join(outDir, "tab-leave-confirm.png") });
  await page.click("#leave-ok");
  await page.waitForSelector("#placeholder:visible");
  await page.waitForSelector(".thread-item[data-thread='t1']", { state: "detached" });

  step("admin page");
  await page.goto(base + "/tab/admin.html");
  await page.waitForSelector("#p-queue_limit");
  if ((await page.inputValue("#p-queue_limit")) !== "5") throw new Error("queue limit not 5");
  expect400 = true;
  await page.fill("#p-sends_per_window", "6");
  await page.click("#policy-form button[type=submit]");
  await page.waitForSelector("#banner:has-text('sends_per_window must be 1..5')");
  await page.fill("#p-sends_per_window", "5");
  await page.fill("#p-queue_limit", "4");
  await page.click("#policy-form button[type=submit]");
  await page.waitForSelector("#saved:visible");
  expect400 = false;
  await page.screenshot({ path: path.join(outDir, "tab-admin.png") });

  step("failed jobs: retry one, discard another");
  await page.waitForSelector("#jobs tr[data-job='7'] td:has-text('errcode 95018')");
  await page.waitForSelector("#jobs tr[data-job='8'] td:has-text('400 BadArgument')");
  await page.locator("#jobs-section").screenshot({ path: path.join(outDir, "tab-admin-jobs.png") });
  await page.locator("#languages").screenshot({ path: path.join(outDir, "tab-admin-languages.png") });
  await page.click("#jobs tr[data-job='7'] button.retry");
  await page.waitForSelector("#jobs tr[data-job='7']", { state: "detached" });
  await page.click("#jobs tr[data-job='8'] button.discard");
  await page.waitForSelector("#jobs-none:visible");

  step("disabled employee sees it plainly");
  const off = await browser.newContext({ locale: "en-US", viewport: { width: 1100, height: 720 } });
  await off.route("**/*", (r) => (new URL(r.request().url()).hostname === "127.0.0.1" ? r.continue() : r.abort()));
  const op = await off.newPage();
  op.on("pageerror", (e) => errors.push("pageerror: " + e.message));
  await op.goto(base + "/tab/dev-login");
  await op.click('button[data-employee="carol"]');
  await op.waitForURL(base + "/tab/");
  await op.waitForSelector("#banner:visible:has-text('WeChat is disabled for you. Ask your admin to enable it.')");
  if (await op.isVisible("#optin-btn")) throw new Error("a disabled employee is offered an opt-in request");
  if (await op.isVisible("#composer")) throw new Error("a disabled employee is offered the composer");
  await op.screenshot({ path: path.join(outDir, "tab-disabled.png") });

  step("simplified chinese");
  const zh = await browser.newContext({ locale: "zh-CN", viewport: { width: 1100, height: 720 } });
  await zh.route("**/*", (r) => (new URL(r.request().url()).hostname === "127.0.0.1" ? r.continue() : r.abort()));
  await zh.addCookies(await ctx.cookies());
  const zp = await zh.newPage();
  await zp.goto(base + "/tab/");
  await zp.waitForSelector("#optin-btn:text('新的加入请求')");
  await zp.screenshot({ path: path.join(outDir, "tab-zh.png") });

  if (errors.length) throw new Error("page errors:\n" + errors.join("\n"));
  console.log("ok");
} finally {
  await browser.close();
}
