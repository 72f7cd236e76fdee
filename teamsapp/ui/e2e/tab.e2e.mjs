// The MultiLine tab in headless Chromium against the real binary
// (`multiline serve --dev` with a throwaway SQLite database), the consumer played
// through /dev/wechat. It walks the user guide's scenarios, checks accessibility
// with axe-core (no serious or critical violation, en and zh-CN, three themes),
// and leaves screenshots in test-artifacts/tab/.
//
//   node teamsapp/ui/e2e/tab.e2e.mjs
//   MULTILINE_BIN  the binary (default bin/multiline)    CHROMIUM  (default /usr/bin/chromium)
//   ARTIFACTS      default test-artifacts/tab            TAB_E2E_STRICT=1  bridge gaps fail the run
//
// What needs the bridge (see teamsapp/ports.go, Inbox) is checked when the
// server offers it and otherwise reported as PENDING, so the suite stays green
// while the bridge catches up; TAB_E2E_STRICT=1 makes those failures.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const require = createRequire(path.join(root, "node_modules", "noop.js"));
const { chromium } = require("playwright-core");
const { AxeBuilder } = require("@axe-core/playwright");

const bin = process.env.MULTILINE_BIN || path.join(root, "bin/multiline");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
const out = process.env.ARTIFACTS || path.join(root, "test-artifacts/tab");
const strict = process.env.TAB_E2E_STRICT === "1";
const deadline = Date.now() + Number(process.env.TAB_E2E_DEADLINE_S || 420) * 1000;

mkdirSync(out, { recursive: true });
const t0 = Date.now();
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
const results = { passed: [], failed: [], pending: [] };
const figures = {};

function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
    s.on("error", rej);
  });
}

// ---- the archive's journaling mailbox ----
// A real SMTP server (npm smtp-server, AUTH required) that refuses every
// message with 451 until the journaling step lets them in.
const { SMTPServer } = require("smtp-server");
const smtpPass = "pw-" + Math.random().toString(36).slice(2, 10);
const journaled = [];
let smtpRefuses = true;
const smtp = new SMTPServer({
  disabledCommands: ["STARTTLS"],
  allowInsecureAuth: true,
  authMethods: ["PLAIN"],
  logger: false,
  onAuth: (a, _s, cb) => (a.username === "archiver" && a.password === smtpPass ? cb(null, { user: "archiver" }) : cb(new Error("Invalid username or password"))),
  onData(stream, _s, cb) {
    const chunks = [];
    stream.on("data", (c) => chunks.push(c));
    stream.on("end", () => {
      if (smtpRefuses) return cb(Object.assign(new Error("Try again later"), { responseCode: 451 }));
      journaled.push(/^Message-ID:\s*(<[^>]+>)/im.exec(Buffer.concat(chunks).toString("utf8"))?.[1] || "");
      cb();
    });
  },
});
const smtpPort = await new Promise((res) => smtp.listen(0, "127.0.0.1", () => res(smtp.server.address().port)));

// ---- the service ----
const work = mkdtempSync(path.join(os.tmpdir(), "multiline-tab-e2e-"));
const port = await freePort();
const metricsPort = await freePort();
const base = `http://127.0.0.1:${port}`;
const env = {
  ...process.env, MULTILINE_ADDR: `127.0.0.1:${port}`, MULTILINE_DATABASE_URL: `sqlite:${work}/multiline.db`, MULTILINE_METRICS_ADDR: `127.0.0.1:${metricsPort}`,
  MULTILINE_ARCHIVE_SMTP_URL: `smtp://archiver:${smtpPass}@127.0.0.1:${smtpPort}`, MULTILINE_ARCHIVE_JOURNAL_TO: "journal@archive.example",
};
for (const k of ["WECOM_API_BASE", "WECHAT_API_BASE", "MULTILINE_PUBLIC_URL", "WECHAT_MODE"]) delete env[k];
const serviceLog = createWriteStream(path.join(out, "service.log"));
const service = spawn(bin, ["serve", "--dev"], { env, stdio: ["ignore", "pipe", "pipe"] });
service.stdout.pipe(serviceLog);
service.stderr.pipe(serviceLog);
let serviceExit = null;
service.on("exit", (c) => (serviceExit = c));

async function waitReady() {
  for (let i = 0; i < 100; i++) {
    if (serviceExit !== null) throw new Error("the service exited with " + serviceExit + " (see service.log)");
    try {
      if ((await fetch(base + "/readyz")).ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("the service did not answer /readyz within 20 s");
}

const browser = await (async () => {
  await waitReady();
  log("service ready on", base);
  return chromium.launch({
    executablePath: chromiumPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
})();

const pageErrors = [];
async function newContext(opts = {}) {
  const ctx = await browser.newContext({ locale: "en-US", viewport: { width: 1280, height: 800 }, ...opts });
  // Offline by construction: only this machine.
  await ctx.route("**/*", (r) => {
    const h = new URL(r.request().url()).hostname;
    return h === "127.0.0.1" || h === "localhost" ? r.continue() : r.abort();
  });
  ctx.setDefaultTimeout(10000);
  ctx.on("page", (p) => watch(p));
  return ctx;
}
function watch(p) {
  p.on("pageerror", (e) => pageErrors.push("pageerror: " + e.message));
  // Chromium's console line for a failed load names no URL: say which one.
  p.on("response", (r) => {
    if (r.status() >= 400 && !p.__expectErrors) pageErrors.push(`answer ${r.status()}: ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
  p.on("console", (m) => {
    if (m.type() !== "error") return;
    const text = m.text();
    if (/status of (400|404|409|413|422)/.test(text) && p.__expectErrors) return;
    if (/Failed to load resource: net::ERR_FAILED|res\.cdn\.office\.net/.test(text)) return;
    pageErrors.push("console: " + text);
  });
}

async function step(name, fn) {
  if (Date.now() > deadline) throw new Error("deadline passed before: " + name);
  const s = Date.now();
  try {
    await fn();
    results.passed.push(name);
    log("ok  ", name, `(${((Date.now() - s) / 1000).toFixed(1)}s)`);
  } catch (e) {
    results.failed.push(name + ": " + (e.message || e).split("\n")[0]);
    log("FAIL", name, "\n", e.stack || e);
    for (const [i, p] of browser.contexts().flatMap((c) => c.pages()).entries()) await shot(p, `FAILED-${i}`).catch(() => {});
    throw e;
  }
}

/** bridgeCheck runs a check that needs the bridge; without it the check is PENDING. */
async function bridgeCheck(name, need, fn) {
  try {
    await fn();
    results.passed.push(name);
    log("ok  ", name);
  } catch (e) {
    const msg = `${name} (needs the bridge: ${need})`;
    if (strict) {
      results.failed.push(msg);
      throw e;
    }
    results.pending.push(msg);
    log("PENDING", msg, "-", (e.message || String(e)).split("\n")[0]);
  }
}

const shot = (p, name) => p.screenshot({ path: path.join(out, name + ".png") });

/** axe checks a page: no serious or critical violation. */
async function axe(p, label) {
  // Colours are measured at rest, not halfway through a drawer's or dialog's fade-in.
  await p.waitForFunction(() => document.getAnimations().every((a) => a.playState !== "running"), null, { timeout: 5000 }).catch(() => {});
  // Tabster's dummy inputs (<i tabindex=0 aria-hidden data-tabster-dummy>) move
  // focus on at once when reached; axe cannot know that (a known false positive
  // of Fluent UI's focus management), so they are left out.
  const r = await new AxeBuilder({ page: p }).exclude("[data-tabster-dummy]").analyze();
  const bad = r.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  if (bad.length) {
    const detail = bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ") + " " + n.html.slice(0, 120) + " " + (n.any[0]?.message || "")).join(" | ")}`).join("\n  ");
    throw new Error(`axe, ${label}: ${bad.length} serious/critical\n  ${detail}`);
  }
  return r.violations.length;
}

// ---- helpers for the two sides ----
const msgs = (p) => p.locator("[data-testid=messages]");
const myMessage = (p, text) => msgs(p).locator("li[data-from=employee]", { has: p.locator(`[data-testid=text]:text-is(${JSON.stringify(text)})`) });
const statusOf = async (p, text) => (await myMessage(p, text).locator("[data-testid=status]").textContent()).trim();

async function send(p, text) {
  await p.locator("[data-testid=composer-text]").fill(text);
  await p.locator("[data-testid=composer-text]").press("Enter");
  await myMessage(p, text).waitFor();
}

class Consumer {
  constructor(page) {
    this.p = page;
  }
  async add(name) {
    await this.p.click("#new-consumer");
    await this.p.fill("#new-name", name);
    await this.p.click("#add-consumer");
    await this.p.waitForFunction((n) => [...document.querySelectorAll("#consumer option")].some((o) => o.selected && o.textContent === n), name);
    this.id = await this.p.inputValue("#consumer");
    this.name = name;
    return this;
  }
  async use() {
    await this.p.selectOption("#consumer", this.id);
  }
  async say(text) {
    await this.use();
    await this.p.fill("#text", text);
    await this.p.press("#text", "Enter");
    await this.p.locator("#chat li[data-dir=out] .bubble", { hasText: text }).last().waitFor();
  }
  async open(link) {
    await this.use();
    await this.p.fill("#link", link);
    await this.p.click("#open-link");
    await this.p.locator("#chat li[data-kind=event]").last().waitFor();
  }
  async received(text, timeout = 10000) {
    await this.use();
    await this.p.locator("#chat li[data-dir=in] .bubble", { hasText: text }).first().waitFor({ timeout });
  }
  async receivedCount(text) {
    await this.use();
    return this.p.locator("#chat li[data-dir=in] .bubble", { hasText: text }).count();
  }
}

async function advance(dev, by) {
  await dev.click(`[data-advance="${by}"]`);
}

/** threadOf is the list item of a consumer's thread, by nickname or WeChat's short id. */
function threadOf(p, c) {
  return p.locator("[data-testid=thread-list] [data-thread]").filter({ hasText: new RegExp(`${c.name}|${c.id.slice(-6)}`) });
}

async function openThread(p, c) {
  const item = threadOf(p, c);
  await item.waitFor({ timeout: 12000 });
  const id = await item.getAttribute("data-thread");
  await item.click();
  await p.locator(`[data-testid=conversation][data-thread="${id}"]`).waitFor();
  return id;
}

async function signInNew(ctx, name) {
  const p = await ctx.newPage();
  await p.goto(base + "/tab/dev-login");
  await p.fill('input[name="new_name"]', name);
  await p.click(".new-employee button");
  await p.waitForURL(base + "/tab/");
  await p.locator("[data-testid=me-name]").waitFor();
  return p;
}

// ---- the flagged queue end to end, and a reviewer who is not an employee ----
// (issue 12: review; kept in functions of their own so that other steps merge
// around them)

/** flagRuleAndMessage: an admin adds a flag rule on the admin page, and an
 * employee's matching message is delivered as written (the consumer's WeChat
 * shows it). It returns the flagged message. */
async function flagRuleAndMessage(tab, dev, joeLink) {
  const flagged = {};
  await step("flagged queue: an admin adds a flag rule on the admin page; Joe's matching message is delivered to the consumer as written", async () => {
    const p = await tab.context().newPage();
    await p.goto(base + "/tab/admin.html");
    await p.locator("#lexicon-section").waitFor();
    await p.fill("#lx-name", "hot-tip");
    await p.fill("#lx-pattern", "(?i)\\bhot tips?\\b");
    await p.selectOption("#lx-direction", "outbound");
    await p.selectOption("#lx-action", "flag");
    await p.fill("#lx-sample", "A hot tip for you");
    await p.click("[data-testid=test-rule]");
    await p.locator("#lexicon-tested [data-direction=outbound]", { hasText: 'outbound: flag by hot-tip; delivered as "A hot tip for you"' }).waitFor();
    await p.click("[data-testid=add-rule]");
    await p.locator("#lexicon-rules [data-rule=hot-tip]").waitFor();
    await p.close();

    const mei = await new Consumer(dev).add("Mei Flagged");
    await mei.open(joeLink);
    await mei.say("Hello Joe, any ideas for my savings?");
    flagged.thread = await openThread(tab, mei);
    flagged.text = "Here is a hot tip: spread your savings over several funds";
    await send(tab, flagged.text);
    await myMessage(tab, flagged.text).locator("[data-testid=status]", { hasText: "Sent" }).waitFor();
    await mei.received(flagged.text);
    flagged.id = await myMessage(tab, flagged.text).getAttribute("data-id");
    flagged.consumer = mei;
  });
  return flagged;
}

/** reviewerWithoutInbox signs in (dev sign-in) as a compliance reviewer who is
 * not an employee: the tab offers the review page and no composer, and the API
 * refuses their sends. It returns the reviewer's context and page. */
async function reviewerWithoutInbox(flagged) {
  const rctx = await newContext();
  const p = await rctx.newPage();
  await step("a compliance reviewer who is not an employee: the tab shows the way to the review page and no composer; the API refuses their sends", async () => {
    await p.goto(base + "/tab/dev-login");
    await p.fill('input[name="reviewer_name"]', "Rita Review");
    await p.click(".reviewer button");
    await p.waitForURL(base + "/tab/");
    await p.locator("[data-testid=reviewer-landing]").waitFor();
    if (await p.locator("[data-testid=composer-text], [data-testid=new-opt-in], [data-testid=thread-list], [data-testid=admin-link]").count()) {
      throw new Error("the reviewer's tab offers an inbox, a composer or the admin page");
    }
    await shot(p, "reviewer-tab-1280");
    await axe(p, "a reviewer's tab");
    // The API, with the reviewer's session, from the tab's origin (as the page would ask).
    const notEmployee = "Your account is not set up for WeChat in MultiLine";
    const tries = [
      ["POST", `/api/v1/threads/${flagged.thread}/messages`, { text: "from the reviewer" }],
      ["POST", "/api/v1/opt-in", {}],
      ["POST", `/api/v1/threads/${flagged.thread}/leave`, {}],
      ["GET", "/api/v1/threads", undefined],
    ];
    for (const [method, url, data] of tries) {
      const r = await rctx.request.fetch(base + url, { method, data, headers: { Origin: base } });
      const body = await r.text();
      if (r.status() !== 403 || !body.includes(notEmployee)) throw new Error(`${method} ${url} as the reviewer: ${r.status()} ${body}`);
    }
    const admin = await rctx.request.get(base + "/api/v1/admin/policy");
    if (admin.status() !== 403) throw new Error("the reviewer reached the admin API: " + admin.status());
    if ((await flagged.consumer.receivedCount("from the reviewer")) !== 0) throw new Error("the consumer received the reviewer's message");
  });
  return { rctx, p };
}

/** reviewFlagged: the reviewer follows a compliance alert's deep link (the
 * subEntityId the server puts in it) to the review page, finds the message in
 * the flagged queue with the rule's name, and marks it reviewed with a comment:
 * it leaves the queue, and the review is an archive event on the thread. */
async function reviewFlagged({ rctx, p }, flagged) {
  const item = () => p.locator(`#flagged [data-message="${flagged.id}"]`);
  await step("the reviewer opens an alert's deep link: the review page on the message, in the flagged queue with its rule", async () => {
    const sub = `review?message=${encodeURIComponent(flagged.id)}&thread=${encodeURIComponent(flagged.thread)}`;
    await p.goto(base + "/tab/?subEntityId=" + encodeURIComponent(sub));
    await p.waitForURL((u) => u.pathname === "/tab/review.html" && u.searchParams.get("message") === flagged.id);
    await item().waitFor();
    if ((await item().getAttribute("data-focused")) !== "true") throw new Error("the alert's message is not marked in the queue");
    await item().locator(".fui-Badge", { hasText: "hot-tip" }).waitFor();
    await item().getByText(flagged.text).waitFor();
    await p.locator("#record [data-focused=true][data-kind='message.out']", { hasText: flagged.text }).waitFor();
    await p.waitForFunction(() => document.getAnimations().every((a) => a.playState !== "running"), null, { timeout: 5000 }).catch(() => {});
    await shot(p, "review-flagged-1280");
    await axe(p, "the review page on an alert's message");
  });
  await step("the reviewer marks it reviewed with a comment: it leaves the queue, and the review is an archive event", async () => {
    const comment = "Spoke with Joe: general advice, no recommendation.";
    await item().getByRole("textbox", { name: "Comment" }).fill(comment);
    await item().locator(".mark-reviewed").click();
    await item().waitFor({ state: "detached" });
    await p.locator("#record [data-kind=review]", { hasText: comment }).waitFor();
    await shot(p, "review-reviewed-1280");
    const rec = await (await rctx.request.get(base + `/api/v1/review/threads/${flagged.thread}`)).json();
    const lex = rec.events.find((e) => e.kind === "lexicon" && e.body?.message_id === flagged.id);
    if (!lex || lex.body.action !== "flag" || !lex.body.rules.includes("hot-tip")) throw new Error("no flag event for the message: " + JSON.stringify(lex));
    const rev = rec.events.find((e) => e.kind === "review" && e.body?.seq === lex.seq);
    if (!rev || rev.body.comment !== comment || rev.body.reviewer?.name !== "Rita Review" || rev.seq <= lex.seq) {
      throw new Error("the review is not an archive event after the flag: " + JSON.stringify(rev));
    }
    const queue = await (await rctx.request.get(base + "/api/v1/review/flagged")).json();
    if (queue.some((f) => f.decision.message_id === flagged.id)) throw new Error("the reviewed message is still queued");
  });
}

let exitCode = 0;
try {
  const features = await (await fetch(base + "/api/v1/config")).json().then((c) => c.features);
  log("server features", JSON.stringify(features));

  const ctx = await newContext();
  let tab;
  await step("employee signs in with the dev sign-in; time to first render", async () => {
    tab = await signInNew(ctx, "Joe Smith");
    const t = await tab.evaluate(() => ({ first: window.__firstRender, nav: performance.getEntriesByType("navigation")[0]?.domContentLoadedEventEnd }));
    // A cold load of the tab, measured again on a fresh page.
    const fresh = await ctx.newPage();
    await fresh.goto(base + "/tab/");
    await fresh.locator("[data-testid=thread-list]").waitFor();
    const cold = await fresh.evaluate(() => ({ first: window.__firstRender, inbox: performance.now() }));
    await fresh.close();
    figures.firstRenderMs = Math.round(cold.first);
    figures.inboxReadyMs = Math.round(cold.inbox);
    figures.firstRenderAfterSignInMs = Math.round(t.first);
  });

  const dctx = await newContext({ viewport: { width: 390, height: 844 } });
  const dev = await dctx.newPage();
  await dev.goto(base + "/dev/wechat");
  const emiliano = await new Consumer(dev).add("Emiliano Ceballos");

  let joeLink;
  await step("my WeChat link: a QR code and a copyable link", async () => {
    await tab.click("[data-testid=my-link]");
    const dlg = tab.locator("[data-testid=dialog-mine]");
    await dlg.locator("[data-testid=qr]").waitFor();
    joeLink = await dlg.locator("[data-testid=link]").inputValue();
    if (!/^https:\/\/work\.weixin\.qq\.com\/kf\//.test(joeLink)) throw new Error("contact link " + joeLink);
    await shot(tab, "my-link-dialog");
    await tab.keyboard.press("Escape");
    await dlg.waitFor({ state: "detached" });
  });

  let t1, unreadBefore, listedName;
  await step("a consumer starts: through Joe's link, the welcome notice, the thread in Joe's list", async () => {
    await emiliano.open(joeLink);
    await emiliano.say("Joe, what's a nice movie I can go watch and relax");
    await emiliano.received("Thank you! You can now start messaging your contact.");
    const item = threadOf(tab, emiliano);
    await item.waitFor({ timeout: 12000 });
    const preview = await item.locator("[data-testid=preview]").textContent();
    if (!preview.includes("Joe, what's a nice movie")) throw new Error("preview: " + preview);
    await item.locator("[data-testid=needs-answer]").waitFor();
    unreadBefore = await item.getAttribute("data-unread");
    listedName = await item.textContent();
    t1 = await openThread(tab, emiliano);
    await msgs(tab).locator("li[data-from=consumer]", { hasText: "nice movie" }).waitFor();
    await msgs(tab).locator("li[data-from=system][data-notice=consumer_welcome]").waitFor();
    await tab.locator("[data-testid=window]", { hasText: /3 of 5 sends left · closes in 4[78] h/ }).waitFor();
  });
  await bridgeCheck("the employee's welcome notice inline", "employee notices kept in the thread as employee_note", async () => {
    await msgs(tab).locator("li[data-from=employee_note][data-notice=employee_welcome]").waitFor({ timeout: 3000 });
  });
  await bridgeCheck("the kf consumer's WeChat nickname in the list (customer/batchget on the sync_msg path)", "wechat profiles on the pull path", async () => {
    if (!listedName.includes(emiliano.name)) throw new Error("the list shows " + JSON.stringify(listedName));
  });
  await bridgeCheck("unread counts kept per employee: 2 before the thread is opened, none once it is, after a reload too", "Inbox.Unread and MarkRead", async () => {
    if (!features.unread) throw new Error("features.unread is false");
    if (unreadBefore !== "2") throw new Error(`unread before opening = ${unreadBefore}, want 2 (the consumer's message and Joe's welcome note)`);
    await tab.locator(`[data-thread="${t1}"][data-unread="0"]`).waitFor({ timeout: 5000 });
    await tab.reload();
    await tab.locator(`[data-testid=thread-list] [data-thread="${t1}"][data-unread="0"]`).waitFor({ timeout: 10000 });
    if (!(await tab.locator(`[data-testid=conversation][data-thread="${t1}"]`).count())) await openThread(tab, emiliano);
    await msgs(tab).locator("li[data-from=consumer]", { hasText: "nice movie" }).waitFor();
  });

  const three = ["Okay great. You should see - Extraction.", "I enjoyed watching it.", "Tell me what you think!"];
  await step("three replies are sent; the composer says why the next one queues", async () => {
    for (const x of three) await send(tab, x);
    for (const x of three) {
      await myMessage(tab, x).locator("[data-testid=status]", { hasText: "Sent" }).waitFor();
      await emiliano.received(x);
    }
    await tab.locator("[data-testid=composer-hint]", { hasText: "You have reached the maximum limit of three consecutive messages" }).waitFor();
  });
  await bridgeCheck("the limit notice inline", "employee notices kept in the thread (limit_reached)", async () => {
    await msgs(tab).locator("li[data-from=employee_note][data-notice=limit_reached]", { hasText: "You have reached the maximum limit of three consecutive messages" }).waitFor({ timeout: 3000 });
  });

  const fourth = "Are you still there?";
  await step("the fourth is queued, and the consumer's on-hold notice shows inline", async () => {
    await send(tab, fourth);
    await myMessage(tab, fourth).locator("[data-testid=status]", { hasText: "Queued 1 of 5" }).waitFor();
    await msgs(tab).locator("li[data-from=system][data-notice=consumer_on_hold]", { hasText: "Your contact is unable to send you any more messages" }).waitFor();
    await emiliano.received("Your contact is unable to send you any more messages, till you respond.");
    await threadOf(tab, emiliano).locator("[data-testid=queued]", { hasText: "Queued 1" }).waitFor();
    await shot(tab, "conversation-limit-1280");
  });

  await step("the consumer replies and the queue flushes", async () => {
    await emiliano.say("Will check and get back to you");
    await msgs(tab).locator("li[data-from=consumer]", { hasText: "Will check and get back to you" }).waitFor({ timeout: 12000 });
    await myMessage(tab, fourth).locator("[data-testid=status]", { hasText: "Sent" }).waitFor({ timeout: 12000 });
    await emiliano.received(fourth);
  });

  const liwei = await new Consumer(dev).add("Li Wei");
  let optLink, t2;
  await step("an opt-in request: its QR code and link, a queued message, the consumer arriving through it", async () => {
    await tab.click("[data-testid=new-opt-in]");
    const dlg = tab.locator("[data-testid=dialog-optin]");
    await dlg.locator("[data-testid=qr]").waitFor({ timeout: 12000 });
    optLink = await dlg.locator("[data-testid=link]").inputValue();
    await msgs(tab).locator("li[data-from=employee_note][data-notice=opt_in_sent]").count(); // shown when the bridge keeps it
    await shot(tab, "opt-in-dialog-1280");
    await tab.keyboard.press("Escape");
    await dlg.waitFor({ state: "detached" });
    t2 = await tab.locator("[data-testid=conversation]").getAttribute("data-thread");
    await tab.locator("[data-testid=thread-status][data-status=awaiting_opt_in]").waitFor();
    await send(tab, "Hello Li, this is Joe from Contoso.");
    await myMessage(tab, "Hello Li, this is Joe from Contoso.").locator("[data-testid=status]", { hasText: "Queued 1 of 5" }).waitFor();
    await tab.locator("[data-testid=link-optin] [data-testid=queued-list]", { hasText: "Hello Li" }).waitFor();
    await liwei.open(optLink);
    await liwei.say("Hi Joe, I got your request");
    await tab.locator("[data-testid=thread-status][data-status=active]").waitFor({ timeout: 15000 });
    await myMessage(tab, "Hello Li, this is Joe from Contoso.").locator("[data-testid=status]", { hasText: "Sent" }).waitFor({ timeout: 12000 });
    await liwei.received("Hello Li, this is Joe from Contoso.");
  });
  await bridgeCheck("the opt-in notices inline", "employee notices kept in the thread (opt_in_sent, opted_in)", async () => {
    await msgs(tab).locator("li[data-from=employee_note][data-notice=opted_in]", { hasText: "The contact has opted in" }).waitFor({ timeout: 3000 });
  });

  await step("attachments both ways: an image from the consumer, a file from the employee with its preview", async () => {
    const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAKElEQVR42mNkYPjPQAxgHFWIoWHUIMqgQJRBgSiDAlEGBaIMGgUAAJ+CCPGnKzFEAAAAAElFTkSuQmCC", "base64");
    await liwei.use();
    await dev.setInputFiles("#file", { name: "photo.png", mimeType: "image/png", buffer: png });
    await msgs(tab).locator("li[data-from=consumer] img").waitFor({ timeout: 12000 });
    await tab.setInputFiles("[data-testid=file-input]", { name: "brochure.png", mimeType: "image/png", buffer: png });
    await tab.locator("[data-testid=attachment]", { hasText: "brochure.png" }).waitFor();
    await tab.locator("[data-testid=attachment] img").waitFor();
    await tab.click("[data-testid=send]");
    await msgs(tab).locator("li[data-from=employee] img[alt='brochure.png']").waitFor();
    await liwei.p.locator("#chat li[data-dir=in][data-kind=image]").waitFor({ timeout: 12000 });
  });

  await step("deep link: ?subEntityId= opens the tab at that thread", async () => {
    const p = await ctx.newPage();
    await p.goto(`${base}/tab/?subEntityId=${encodeURIComponent(t1)}`);
    await p.locator(`[data-testid=conversation][data-thread="${t1}"]`).waitFor();
    await p.close();
  });

  await step("#LEAVE: the consumer leaves, the thread closes and the composer says why", async () => {
    await tab.locator(`[data-testid=thread-list] [data-thread="${t2}"]`).click();
    await liwei.use();
    await dev.click("#leave");
    await liwei.received("You left the conversation. Send any message to start again.", 12000);
    await tab.locator("[data-testid=thread-status][data-status=closed]").waitFor({ timeout: 12000 });
    await tab.locator("[data-testid=composer-hint]", { hasText: "Your contact left the conversation" }).waitFor();
    if (!(await tab.locator("[data-testid=composer-text]").isDisabled())) throw new Error("the composer is enabled in a closed thread");
    await shot(tab, "conversation-closed-1280");
  });
  await bridgeCheck("the contact-left notice inline", "employee notices kept in the thread (contact_left)", async () => {
    await msgs(tab).locator("li[data-from=employee_note][data-notice=contact_left]").waitFor({ timeout: 3000 });
  });

  await step("the consumer comes back after #LEAVE and the thread reopens", async () => {
    await liwei.say("I'm back: what did you want to tell me?");
    await tab.locator("[data-testid=thread-status][data-status=active]").waitFor({ timeout: 12000 });
  });
  await step("leave with confirmation: both sides are told", async () => {
    await tab.locator(`[data-testid=thread-list] [data-thread="${t2}"]`).click();
    await tab.locator(`[data-testid=conversation][data-thread="${t2}"]`).waitFor();
    await tab.click("[data-testid=message-menu]");
    await tab.click("[data-testid=menu-leave]");
    await tab.locator("[data-testid=leave-dialog]").waitFor();
    await shot(tab, "leave-confirm-1280");
    await tab.getByRole("button", { name: "Cancel" }).click();
    await tab.locator("[data-testid=leave-dialog]").waitFor({ state: "detached" });
    await tab.click("[data-testid=message-menu]");
    await tab.click("[data-testid=menu-leave]");
    // A reload of the thread already on its way when Joe left answers 404, which
    // the tab takes as "not yours any more"; Chromium logs it all the same.
    tab.__expectErrors = true;
    await tab.click("[data-testid=leave-confirm]");
    await tab.locator("[data-testid=info]", { hasText: "You left the conversation." }).waitFor();
    await tab.locator(`[data-testid=thread-list] [data-thread="${t2}"]`).waitFor({ state: "detached" });
    await tab.waitForTimeout(500); // let a reload in flight land while 404 is expected
    tab.__expectErrors = false;
    await liwei.received("Joe Smith left the conversation.", 12000);
  });

  await step("search by contact and by text; the needs-an-answer filter", async () => {
    const search = tab.locator("[data-testid=search]");
    await search.fill("Extraction");
    await threadOf(tab, emiliano).waitFor();
    await search.fill("no such words anywhere");
    await tab.getByText("No conversation matches.").waitFor();
    await search.fill("");
    await threadOf(tab, emiliano).waitFor();
    // Emiliano's "Will check and get back to you" came after Joe's last message: it needs an answer.
    await tab.click("[data-testid=filter-needs-answer]");
    await threadOf(tab, emiliano).locator("[data-testid=needs-answer]").waitFor();
    await shot(tab, "inbox-needs-answer-1280");
    await tab.getByRole("tab", { name: "All" }).click();
    await threadOf(tab, emiliano).waitFor();
  });

  await tab.locator(`[data-testid=thread-list] [data-thread="${t1}"]`).click();
  await tab.locator(`[data-testid=conversation][data-thread="${t1}"]`).waitFor();
  // A colleague, added and removed: the participants change, which the 24 h reminder mentions.
  const lctx = await newContext();
  const lori = await signInNew(lctx, "Lori Santos");
  await step("a colleague is added (the cap shown) and then removed", async () => {
    await tab.click("[data-testid=message-menu]");
    await tab.click("[data-testid=menu-add]");
    const dlg = tab.locator("[data-testid=add-dialog]");
    await dlg.getByText("1 of 5 participants").waitFor();
    await dlg.locator("[data-testid=colleague-search]").fill("Lori");
    await dlg.locator("button", { hasText: "Add" }).first().click();
    await dlg.waitFor({ state: "detached" });
    await tab.locator("[data-testid=details-pane] [data-testid=cap]", { hasText: "2 of 5 participants" }).waitFor();
    await lori.locator(`[data-testid=thread-list] [data-thread="${t1}"]`).waitFor({ timeout: 12000 });
    if (features.unread) {
      // Lori has read nothing of it: what the consumer and Joe wrote, and her note, are unread for her.
      const n = Number(await lori.locator(`[data-testid=thread-list] [data-thread="${t1}"]`).getAttribute("data-unread"));
      if (!(n >= 3)) throw new Error(`Lori's unread = ${n}, want the thread's messages`);
      await lori.locator(`[data-testid=thread-list] [data-thread="${t1}"] [data-testid=unread]`).waitFor();
      await shot(lori, "inbox-unread-1280");
    }
    await shot(tab, "details-two-participants-1280");
    await tab.locator("[data-testid=details-pane] [data-testid=remove]").first().click();
    await tab.locator("[data-testid=details-pane] [data-testid=cap]", { hasText: "1 of 5 participants" }).waitFor();
    await lori.locator(`[data-testid=thread-list] [data-thread="${t1}"]`).waitFor({ state: "detached", timeout: 12000 });
  });

  await step("24 h without a reply, through the simulator's clock: the reminder that names the change", async () => {
    await advance(dev, "24h");
    await emiliano.received("Please note: Other user(s) have been added or removed from this chat.", 15000);
    await msgs(tab).locator("li[data-from=system][data-notice=consumer_reminder_participants_changed]").waitFor({ timeout: 12000 });
  });
  await bridgeCheck("the 24 h notice inline", "employee notices kept in the thread (no_response_24h)", async () => {
    await msgs(tab).locator("li[data-from=employee_note][data-notice=no_response_24h]", { hasText: "Your contact has not responded for 24 hours" }).waitFor({ timeout: 3000 });
  });

  await step("48 h: the thread becomes inactive", async () => {
    await advance(dev, "24h");
    await tab.locator("[data-testid=thread-status][data-status=inactive]").waitFor({ timeout: 15000 });
    await tab.locator("[data-testid=window]", { hasText: "Inactive" }).waitFor();
    await shot(tab, "conversation-inactive-1280");
  });
  await bridgeCheck("the 48 h notice inline", "employee notices kept in the thread (inactive)", async () => {
    await msgs(tab).locator("li[data-from=employee_note][data-notice=inactive]").waitFor({ timeout: 3000 });
  });

  await step("a message past the queue limit is not queued", async () => {
    let n = 0;
    let last = "";
    for (; n < 14; n++) {
      last = `Follow-up ${n + 1}`;
      await send(tab, last);
      await tab.waitForFunction((t) => {
        const li = [...document.querySelectorAll("[data-testid=messages] li[data-from=employee]")].find((x) => x.querySelector("[data-testid=text]")?.textContent === t);
        return li && li.dataset.status && li.dataset.status !== "sending";
      }, last);
      if ((await myMessage(tab, last).getAttribute("data-status")) === "not_queued") break;
    }
    const st = await statusOf(tab, last);
    if (st !== "Not queued: the limit of pending messages has been reached") throw new Error(`status of "${last}": ${st}`);
    await msgs(tab).locator("li[data-from=employee_note][data-notice=not_queued]", { hasText: "Your last message was not queued as the limit of pending messages has been reached" }).waitFor();
    await myMessage(tab, "Follow-up " + n).waitFor();
    const queued5 = await msgs(tab).locator("li[data-status=queued] [data-testid=status]", { hasText: "of 5" }).allTextContents();
    if (!queued5.includes("Queued 5 of 5")) throw new Error("queued: " + queued5.join(", "));
    await tab.locator("[data-testid=composer-hint]", { hasText: "The limit of pending messages (5) has been reached" }).waitFor();
    await shot(tab, "conversation-not-queued-1280");
  });

  // Screens in three themes, two languages, three widths: axe and screenshots.
  const cookies = await ctx.cookies();
  let axeRuns = 0;
  for (const lang of ["en-US", "zh-CN"]) {
    for (const theme of ["default", "dark", "contrast"]) {
      await step(`screens in ${lang}, ${theme} theme: axe finds no serious or critical violation`, async () => {
        const c = await newContext({ locale: lang, viewport: { width: 1280, height: 800 } });
        await c.addCookies(cookies);
        const p = await c.newPage();
        const tag = `${theme}-${lang === "zh-CN" ? "zh" : "en"}`;
        await p.goto(`${base}/tab/?theme=${theme}#thread=${encodeURIComponent(t1)}`);
        await p.locator(`[data-testid=conversation][data-thread="${t1}"] [data-testid=messages] li`).first().waitFor();
        const got = await p.locator("[data-theme]").first().getAttribute("data-theme");
        if (got !== theme) throw new Error("theme " + got);
        await p.waitForTimeout(300);
        await axe(p, "inbox and conversation, 1280");
        axeRuns++;
        await shot(p, `inbox-conversation-1280-${tag}`);
        await p.click("[data-testid=my-link]");
        await p.locator("[data-testid=dialog-mine] [data-testid=qr]").waitFor();
        await axe(p, "my link dialog");
        axeRuns++;
        if (lang === "en-US") await shot(p, `my-link-dialog-${tag}`);
        await p.keyboard.press("Escape");
        await p.setViewportSize({ width: 768, height: 900 });
        await p.click("[data-testid=details]");
        await p.locator("[data-testid=details-pane]").waitFor();
        await axe(p, "details, 768");
        axeRuns++;
        await shot(p, `details-768-${tag}`);
        await p.keyboard.press("Escape");
        // The drawer closes with a motion; the page behind it is inert until then.
        await p.locator("[data-testid=details-pane]").waitFor({ state: "detached" });
        // …and the rest of the page is hidden from assistive technology (aria-hidden on #root) a moment longer.
        await p.waitForFunction(() => !document.getElementById("root")?.hasAttribute("aria-hidden"));
        await p.setViewportSize({ width: 320, height: 640 });
        await p.locator("[data-testid=back]").waitFor();
        const scroll = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        if (scroll > 0) throw new Error(`horizontal scroll of ${scroll}px at 320 (conversation)`);
        await axe(p, "conversation, 320");
        axeRuns++;
        await shot(p, `conversation-320-${tag}`);
        await p.click("[data-testid=back]");
        await p.locator("[data-testid=thread-list]").waitFor();
        const scroll2 = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        if (scroll2 > 0) throw new Error(`horizontal scroll of ${scroll2}px at 320 (list)`);
        await axe(p, "list, 320");
        axeRuns++;
        await shot(p, `inbox-320-${tag}`);
        if (lang === "en-US") {
          await p.setViewportSize({ width: 1280, height: 800 });
          await p.goto(`${base}/tab/admin.html?theme=${theme}`);
          await p.locator("#p-queue_limit").waitFor();
          await axe(p, "admin");
          axeRuns++;
          await shot(p, `admin-${tag}`);
          for (const w of [1280, 320]) {
            await p.setViewportSize({ width: w, height: 800 });
            const sx = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
            if (sx > 0) throw new Error(`admin page scrolls sideways by ${sx}px at ${w}`);
          }
        }
        await c.close();
      });
    }
  }
  figures.axeRuns = axeRuns;

  await step("the system's theme outside Teams: dark and forced colours", async () => {
    const c = await newContext({ colorScheme: "dark" });
    await c.addCookies(cookies);
    const p = await c.newPage();
    await p.goto(base + "/tab/");
    await p.locator("[data-theme=dark]").waitFor();
    await p.emulateMedia({ forcedColors: "active" });
    await p.locator("[data-theme=contrast]").waitFor();
    await p.emulateMedia({ colorScheme: "light", forcedColors: "none" });
    await p.locator("[data-theme=default]").waitFor();
    await c.close();
  });

  await step("keyboard: the list, a thread and the Message menu are reachable, with visible focus", async () => {
    const c = await newContext();
    await c.addCookies(cookies);
    const p = await c.newPage();
    await p.goto(base + "/tab/");
    await p.locator("[data-testid=thread-list] [data-thread]").first().waitFor();
    let reached = false;
    for (let i = 0; i < 25 && !reached; i++) {
      await p.keyboard.press("Tab");
      reached = await p.evaluate(() => !!document.activeElement?.closest("[data-testid=thread-list]"));
    }
    if (!reached) throw new Error("Tab never reached the thread list");
    const outline = await p.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    if (outline === "none") throw new Error("no visible focus on a thread");
    await p.keyboard.press("Enter");
    await p.locator("[data-testid=conversation]").waitFor();
    await p.locator("[data-testid=message-menu]").focus();
    await p.keyboard.press("Enter");
    await p.getByRole("menuitem", { name: "Leave Conversation" }).waitFor();
    await p.keyboard.press("Escape");
    await c.close();
  });

  await step("admin page: policy with validation, and the disabled employee's plain banner", async () => {
    const p = await ctx.newPage();
    p.__expectErrors = true;
    await p.goto(base + "/tab/admin.html");
    await p.locator("#p-queue_limit").waitFor();
    if ((await p.inputValue("#p-queue_limit")) !== "5") throw new Error("queue limit not 5");
    await p.fill("#p-sends_per_window", "6");
    await p.click("[data-testid=save-policy]");
    await p.locator("[data-testid=banner]", { hasText: "sends_per_window must be 1..5" }).waitFor();
    await p.fill("#p-sends_per_window", "5");
    await p.selectOption("#p-consumer_language", "zh-CN");
    await p.click("[data-testid=save-policy]");
    await p.locator("#saved").waitFor();
    await p.locator("#jobs-none, #jobs").first().waitFor();
    await p.getByRole("switch", { name: "WeChat enabled for Lori Santos" }).click();
    await p.waitForTimeout(300);
    await lori.reload();
    await lori.locator("[data-testid=fatal]", { hasText: "WeChat is disabled for you. Ask your admin to enable it." }).waitFor();
    if (await lori.locator("[data-testid=composer-text], [data-testid=new-opt-in]").count()) throw new Error("a disabled employee is offered actions");
    await shot(lori, "disabled-employee-1280");
    await p.close();
  });

  await step("lexicon: rules tested and added on the admin page; a blocked message says so and never reaches WeChat; a redacted one arrives with ***", async () => {
    const p = await ctx.newPage();
    await p.goto(base + "/tab/admin.html");
    await p.locator("#lexicon-section").waitFor();
    const rule = async (name, pattern, direction, action) => {
      await p.fill("#lx-name", name);
      await p.fill("#lx-pattern", pattern);
      await p.selectOption("#lx-direction", direction);
      await p.selectOption("#lx-action", action);
    };
    await rule("guarantee", "(?i)guaranteed returns?", "outbound", "block");
    await p.fill("#lx-sample", "Guaranteed returns!");
    await p.click("[data-testid=test-rule]");
    await p.locator("#lexicon-tested [data-direction=outbound]", { hasText: "outbound: blocked by guarantee; not delivered" }).waitFor();
    await p.click("[data-testid=add-rule]");
    await p.locator("#lexicon-rules [data-rule=guarantee]").waitFor();
    await rule("card-number", "\\b\\d{4}( ?\\d{4}){3}\\b", "both", "redact");
    await p.click("[data-testid=add-rule]");
    await p.locator("#lexicon-rules [data-rule=card-number]").waitFor();
    await shot(p, "admin-lexicon-1280");
    await axe(p, "admin page with lexicon rules");
    await p.close();

    const sofia = await new Consumer(dev).add("Sofia Lexicon");
    await sofia.open(joeLink);
    await sofia.say("Hi Joe, what would you recommend?");
    await openThread(tab, sofia);
    const bad = "We offer guaranteed returns of 12%";
    await send(tab, bad);
    await myMessage(tab, bad).locator("[data-testid=status]", { hasText: "Blocked by policy: guarantee" }).waitFor();
    await msgs(tab).locator("li[data-from=employee_note][data-notice=lexicon_blocked]", { hasText: "Your previous message was not sent because of illegal content." }).waitFor();
    await shot(tab, "conversation-blocked-1280");
    await tab.locator("[data-testid=composer-text]").fill("Your card 4111 1111 1111 1111 is linked");
    await tab.locator("[data-testid=composer-text]").press("Enter");
    const shown = "Your card *** is linked";
    await myMessage(tab, shown).locator("[data-testid=original]", { hasText: "You wrote: Your card 4111 1111 1111 1111 is linked" }).waitFor();
    await sofia.received(shown);
    // Sends of a thread go out in order: had the blocked one gone out, it would be there by now.
    if ((await sofia.receivedCount("guaranteed")) !== 0) throw new Error("the consumer received the blocked message");
    if ((await sofia.receivedCount("4111")) !== 0) throw new Error("the consumer received the card number");
  });

  const flagged = await flagRuleAndMessage(tab, dev, joeLink);
  await reviewFlagged(await reviewerWithoutInbox(flagged), flagged);

  await step("compliance review page: search by text, a thread's record read-only, the flagged queue, axe", async () => {
    const p = await ctx.newPage();
    await p.goto(base + "/tab/");
    await p.locator("[data-testid=review-link]").waitFor(); // everyone is a reviewer in local mode
    await p.goto(base + "/tab/review.html");
    await p.locator("#flagged-none, #flagged").first().waitFor();
    await p.locator("#review-threads [data-thread]").first().waitFor();
    await axe(p, "review");
    await p.fill("#r-q", "nice movie");
    await p.click("#review-search button[type=submit]");
    await p.waitForFunction(() => document.querySelectorAll("#review-threads [data-thread]").length === 1);
    await p.locator("#review-threads .open-record").first().click();
    await p.locator("#record [data-kind='message.in']", { hasText: "Joe, what's a nice movie I can go watch and relax" }).waitFor();
    await axe(p, "review record");
    if (await p.locator("#record textarea, #record input, [data-testid=composer-text]").count()) throw new Error("the review record offers something to write");
    await shot(p, "review-1280");
    await p.fill("#r-q", "no such text anywhere");
    await p.click("#review-search button[type=submit]");
    await p.locator("#review-none").waitFor();
    for (const w of [1280, 320]) {
      await p.setViewportSize({ width: w, height: 800 });
      const sx = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      if (sx > 0) throw new Error(`review page scrolls sideways by ${sx}px at ${w}`);
    }
    await axe(p, "review, 320");
    await p.close();
  });

  await step("admin page: recent policy decisions", async () => {
    const p = await ctx.newPage();
    await p.goto(base + "/tab/admin.html");
    await p.locator("#audit [data-audit]").first().waitFor();
    await p.locator("#audit", { hasText: "ConsumerMessage" }).waitFor();
    await p.locator("#p-retention_days").waitFor();
    if ((await p.inputValue("#p-retention_days")) !== "0") throw new Error("retention is not 'keep for ever' by default");
    await axe(p, "admin, audit");
    await p.locator("#audit-section").screenshot({ path: path.join(out, "admin-audit.png") });
    await p.close();
  });

  await step("admin page: the archive exported, days as a zip of EML and one conversation as JSON Lines; a backwards range refused", async () => {
    const p = await ctx.newPage();
    p.__expectErrors = true;
    await p.goto(base + "/tab/admin.html");
    await p.locator("#export-section").waitFor();
    // The simulator's clock ran two days ahead: the range covers it.
    const day = (d) => new Date(Date.now() + d * 86400000).toISOString().slice(0, 10);
    await p.fill("#ex-from", day(-1));
    await p.fill("#ex-to", day(7));
    const save = async () => {
      const [dl] = await Promise.all([p.waitForEvent("download"), p.click("[data-testid=export]")]);
      const file = path.join(work, dl.suggestedFilename());
      await dl.saveAs(file);
      await p.locator("#export-done", { hasText: dl.suggestedFilename() }).waitFor();
      return file;
    };
    const zip = await save();
    if (!/^archive_\d{4}-\d\d-\d\d_\d{4}-\d\d-\d\d\.zip$/.test(path.basename(zip))) throw new Error("zip named " + path.basename(zip));
    // Python reads the zip and each message in it (the email package, default policy).
    const py = spawnSync("python3", ["-c", `
import email, email.policy, json, sys, zipfile
out = []
with zipfile.ZipFile(sys.argv[1]) as z:
    for n in z.namelist():
        m = email.message_from_bytes(z.read(n), policy=email.policy.default)
        out.append({"name": n, "id": m["Message-ID"], "from": str(m["From"]), "text": m.get_body(preferencelist=("plain",)).get_content()})
print(json.dumps(out))`, zip], { encoding: "utf8" });
    if (py.status !== 0) throw new Error("python could not read the export: " + py.stderr);
    const emls = JSON.parse(py.stdout);
    const movie = emls.find((m) => m.text.includes("Joe, what's a nice movie I can go watch and relax"));
    if (!movie || !/^<ml\.\d{8}\./.test(movie.id) || !movie.from.includes("@wechat.invalid") || !movie.name.endsWith(".eml")) throw new Error("the zip's messages: " + JSON.stringify(emls.map((m) => [m.name, m.id, m.from])));
    figures.exportedEML = emls.length;

    await p.locator("#ex-what input[value=thread]").check();
    await p.fill("#ex-thread", t1);
    await p.locator("#ex-format input[value=jsonl]").check();
    const jsonl = await save();
    const events = readFileSync(jsonl, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    if (!events.length || events.some((e) => e.thread !== t1)) throw new Error("the conversation's JSON Lines hold other threads");
    if (!events.some((e) => e.kind === "message.in" && e.body?.text?.includes("nice movie"))) throw new Error("the JSON Lines lack the consumer's message");
    await axe(p, "admin, export");
    await p.locator("#export-section").screenshot({ path: path.join(out, "admin-export.png") });

    await p.locator("#ex-what input[value=days]").check();
    await p.fill("#ex-from", day(1));
    await p.fill("#ex-to", day(0));
    await p.click("[data-testid=export]");
    await p.locator("[data-testid=banner]", { hasText: "is before from" }).waitFor();
    await p.close();
  });

  await step("admin page: journaling's status, a refused delivery being retried (its error without the password), then delivered", async () => {
    const p = await ctx.newPage();
    await p.goto(base + "/tab/admin.html");
    const card = p.locator("#journal-section");
    await card.locator("#journal-target[data-enabled=true]", { hasText: "journal@archive.example" }).waitFor();
    // The days the simulator's clock closed were handed to journaling, and the mailbox refuses them.
    const refresh = async (what, ok) => {
      for (let i = 0; i < 100 && !(await ok()); i++) {
        await p.click("#journal-refresh");
        await p.waitForTimeout(200);
      }
      if (!(await ok())) throw new Error("journaling never showed " + what + ": " + (await card.textContent()));
    };
    const count = async (id) => Number(await card.locator(`[data-testid=${id}]`).getAttribute("data-count"));
    await refresh("a failure", async () => (await count("journal-failing")) > 0 && (await card.locator("[data-testid=journal-error]").count()) > 0);
    const text = await card.textContent();
    if (!(await card.locator("[data-testid=journal-error]").textContent()).includes("451")) throw new Error("the last error: " + text);
    if (text.includes(smtpPass) || text.includes("archiver:")) throw new Error("the card shows the SMTP credentials: " + text);
    if ((await count("journal-pending")) < 1) throw new Error("nothing pending while deliveries fail: " + text);
    await card.locator("[data-testid=journal-last-success]", { hasText: "none yet" }).waitFor();
    await axe(p, "admin, journaling failing");
    await card.screenshot({ path: path.join(out, "admin-journal-failing.png") });

    // The mailbox takes messages again; the retry's backoff passes on the simulator's clock.
    smtpRefuses = false;
    await advance(dev, "1h");
    await refresh("the deliveries", async () => (await count("journal-pending")) === 0 && (await count("journal-failing")) === 0);
    if (/none yet/.test(await card.locator("[data-testid=journal-last-success]").textContent())) throw new Error("no last success: " + (await card.textContent()));
    if ((await card.locator("[data-testid=journal-error]").count()) !== 0) throw new Error("an error is shown after the deliveries");
    if (!journaled.length || journaled.some((id) => !/^<ml\.\d{8}\./.test(id))) throw new Error("the mailbox got " + JSON.stringify(journaled));
    figures.journaled = journaled.length;
    // /metrics counted the refusals as retried deliveries, then the deliveries, and nothing waits.
    // The stored state is read at most every 5 s: a scrape may show the moment before.
    let prom = "";
    const value = (series) => Number(new RegExp("^" + series.replace(/[{}"]/g, "\\$&") + " (\\S+)$", "m").exec(prom)?.[1]);
    for (let i = 0; i < 50 && value("multiline_archive_journal_pending") !== 0; i++) {
      if (i) await p.waitForTimeout(200);
      prom = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    }
    const retried = value('multiline_archive_journal_deliveries_total{outcome="retried"}');
    const sent = value('multiline_archive_journal_deliveries_total{outcome="sent"}');
    if (!(retried > 0) || !(sent >= journaled.length) || value("multiline_archive_journal_pending") !== 0) throw new Error(`/metrics: retried ${retried}, sent ${sent}, pending ${value("multiline_archive_journal_pending")}`);
    figures.journalRetries = retried;
    await card.screenshot({ path: path.join(out, "admin-journal-ok.png") });
    await p.close();
  });

  await step("the consumer page, phone-sized", async () => {
    await emiliano.use();
    await shot(dev, "dev-wechat-390");
    await axe(dev, "/dev/wechat");
  });

  if (pageErrors.length) {
    results.failed.push("page errors: " + pageErrors.length);
    log("page errors:\n  " + pageErrors.join("\n  "));
  }
} catch (e) {
  exitCode = 1;
  if (!results.failed.length) results.failed.push(String(e.message || e).split("\n")[0]);
} finally {
  await browser.close().catch(() => {});
  service.kill("SIGTERM");
  await new Promise((r) => (serviceExit !== null ? r() : service.on("exit", r)));
  await new Promise((r) => smtp.close(r));
  rmSync(work, { recursive: true, force: true });
}

figures.seconds = Math.round((Date.now() - t0) / 1000);
writeFileSync(path.join(out, "report.json"), JSON.stringify({ ...results, figures }, null, 2));
for (const p of results.pending) console.log("PENDING:", p);
console.log("figures:", JSON.stringify(figures));
if (results.failed.length) exitCode = 1;
console.log(`tab e2e: ${results.passed.length} passed, ${results.failed.length} failed`);
process.exit(exitCode);
