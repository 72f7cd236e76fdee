// End-to-end test: the Microsoft 365 Agents Playground in headless Chromium
// against a running `multiline serve --dev` (with its built-in fake WeChat).
//
//   MULTILINE_URL      the service's base URL          (default http://127.0.0.1:3978)
//   PLAYGROUND_URL     a running playground, if any    (default: start one here)
//   PLAYGROUND_CONFIG  playground context file         (default e2e/playground.yml)
//   CHROMIUM           browser binary                  (default /usr/bin/chromium)
//   ARTIFACTS          screenshot folder               (default test-artifacts/e2e)
//   CONSUMER           fake WeChat consumer id         (default e2e-<time>)
//   E2E_DEADLINE_S     give up after this many seconds (default 150)
//
// The playground must be talking to a bot with no other history in its personal
// chat: the test reads the chat from top to bottom.
//
//   MULTILINE_BIN, MULTILINE_DATABASE_URL  the binary and the service's database,
//                      for `multiline admin lexicon add` (run.sh sets both)
//
// Steps: welcome, help, threads, a consumer message arrives as a card, reply with
// the card's Send, the reply reaches the fake WeChat inbox; lexicon rules added
// with the command: a blocked reply's card says "Blocked by policy: …" and the
// consumer never gets it, a redacted one reaches WeChat with ***; threads lists
// the conversation, leave with the card's Leave and the confirmation, and the
// consumer is told. A screenshot is taken after each step, and on failure.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(path.join(root, "package.json"));
const { chromium } = require("playwright-core");

const bot = (process.env.MULTILINE_URL || "http://127.0.0.1:3978").replace(/\/$/, "");
const artifacts = path.resolve(root, process.env.ARTIFACTS || "test-artifacts/e2e");
const consumer = process.env.CONSUMER || `e2e-${Date.now()}`;
const browserPath = process.env.CHROMIUM || "/usr/bin/chromium";
const playgroundConfig = path.resolve(root, process.env.PLAYGROUND_CONFIG || "e2e/playground.yml");
const deadline = Number(process.env.E2E_DEADLINE_S || 150) * 1000;
mkdirSync(artifacts, { recursive: true });

const t0 = Date.now();
const log = (...a) => console.log(`[e2e ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// until polls fn until it returns something truthy; every wait in this file is bounded.
async function until(what, fn, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? ": " + last.message : ""}`);
}

function check(cond, what) {
  if (!cond) throw new Error(what);
}

async function startPlayground() {
  if (process.env.PLAYGROUND_URL) return { url: process.env.PLAYGROUND_URL.replace(/\/$/, ""), stop() {} };
  const bin = path.join(root, "node_modules/.bin/agentsplayground");
  if (!existsSync(bin)) throw new Error(`${bin} missing: run npm install`);
  const child = spawn(process.execPath, [bin, "start", "--disable-telemetry", "--channel-id", "msteams", "--port", "56150"], {
    env: { ...process.env, BOT_ENDPOINT: `${bot}/api/messages`, TEAMSAPPTESTER_BROWSER: "none",
      M365_AGENTS_PLAYGROUND_CONFIG_PATH: playgroundConfig,
      M365_AGENTS_PLAYGROUND_LOGFILE: path.join(artifacts, "playground.log") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const stop = () => child.kill("SIGTERM");
  try {
    // The playground prints "Listening on <port>" and picks another port silently
    // when 56150 is busy; a bad config file only shows in its log, so ping it.
    const port = await until("playground port", () => (out.match(/Listening on (\d+)/) || [])[1], 30000);
    const url = `http://localhost:${port}`;
    await until("playground ping (see playground.log)", async () => (await (await fetch(`${url}/_debug/ping`)).text()).includes("pong"), 15000);
    return { url, stop };
  } catch (e) {
    stop();
    throw e;
  }
}

async function fakeWeChat(method, p, body) {
  const r = await fetch(`${bot}/fake${p}`, { method, headers: { "Content-Type": "application/json" }, body: body && JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) throw new Error(`fake WeChat ${method} ${p}: ${r.status} ${text}`);
  return JSON.parse(text);
}

const inbox = async () => (await fakeWeChat("GET", `/consumer/inbox?consumer=${encodeURIComponent(consumer)}`)).messages || [];

async function main() {
  await until("the service's /readyz", async () => (await fetch(`${bot}/readyz`)).ok, 15000);
  const pg = await startPlayground();
  log("playground at", pg.url);
  const browser = await chromium.launch({
    executablePath: browserPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  // Offline: the UI's CDN fonts would only slow it down.
  await page.route("**/*", (route) => {
    const h = new URL(route.request().url()).hostname;
    return ["localhost", "127.0.0.1", "[::1]"].includes(h) ? route.continue() : route.abort();
  });
  let step = 0;
  // shot saves the page; with `at`, the chat is first scrolled to that message.
  const shot = async (name, at) => {
    if (at !== undefined) await chat.nth(at).scrollIntoViewIfNeeded().catch(() => {});
    const file = path.join(artifacts, `${String(++step).padStart(2, "0")}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    log("screenshot", path.relative(root, file));
  };
  // Bot messages. The log panel repeats texts, so search only the chat's cards.
  const chat = page.locator(".fai-OutputCard");
  const box = page.locator('[data-lexical-editor="true"][role="textbox"]');
  const say = async (text) => {
    const before = await chat.count();
    await box.click();
    await page.keyboard.type(text);
    await page.keyboard.press("Enter");
    return before;
  };
  // answer waits for a bot message after index `after` whose text contains `text`
  // and returns its index: cards are updated in place, so the index stays valid
  // while the text changes.
  const answer = async (after, text, timeout = 20000) =>
    until(`a bot message containing "${text}"`, async () => {
      const n = await chat.count();
      for (let i = after; i < n; i++) if ((await chat.nth(i).innerText()).includes(text)) return i + 1;
      return 0;
    }, timeout).then((i) => i - 1);
  const shows = (i, text, timeout = 20000) =>
    until(`message ${i} to show "${text}"`, async () => (await chat.nth(i).innerText()).includes(text), timeout);
  const button = (i, title) => chat.nth(i).locator(`.ac-adaptiveCard .ac-actionSet button[title="${title}"]`);

  try {
    await page.goto(pg.url + "/", { waitUntil: "domcontentloaded" });
    await box.waitFor({ timeout: 30000 });
    const welcome = await answer(0, "Welcome to MultiLine", 30000);
    check(await chat.nth(welcome).locator(".ac-adaptiveCard").count(), "the welcome is not an Adaptive Card");
    await shot("welcome");

    let at = await say("help");
    const help = await answer(at, "Commands");
    for (const cmd of ["threads", "leave", "help"]) await shows(help, cmd, 1000);
    await shot("help");

    at = await say("threads");
    await answer(at, "no open conversations");
    await shot("threads-empty");

    // A consumer writes on WeChat; the only local employee gets the thread's card.
    const text = `Hello from WeChat ${consumer}`;
    at = await chat.count();
    await fakeWeChat("POST", "/consumer/send", { consumer, text });
    const card = await answer(at, text, 30000);
    await button(card, "Send").waitFor({ timeout: 5000 });
    await button(card, "Leave conversation").waitFor({ timeout: 5000 });
    const consumerName = (await chat.nth(card).locator(".ac-textBlock").first().innerText()).trim();
    log("consumer card from", JSON.stringify(consumerName));
    await shot("consumer-card", card);

    // Reply with the card's reply box and Send (Action.Execute): the invoke response
    // replaces the card, and the delivery later updates it to "Delivered".
    const reply = `Reply to ${consumer}`;
    await chat.nth(card).locator(".ac-adaptiveCard textarea, .ac-adaptiveCard input[type=text]").first().fill(reply);
    await button(card, "Send").click();
    await shows(card, reply);
    await until("the reply in the fake WeChat inbox", async () => (await inbox()).some((m) => m.text === reply), 30000);
    log("the reply reached the fake WeChat server");
    await shows(card, "Delivered");
    await shows(card, text, 1000); // the consumer's message stays on the rebuilt card
    await shot("replied", card);

    // Lexicon rules, added with the real command while the service runs: they
    // apply to the next message.
    if (!process.env.MULTILINE_BIN || !process.env.MULTILINE_DATABASE_URL) throw new Error("MULTILINE_BIN and MULTILINE_DATABASE_URL are needed for the lexicon steps");
    const lexicon = (...args) => {
      const r = spawnSync(process.env.MULTILINE_BIN, ["admin", "lexicon", ...args], { env: process.env, encoding: "utf8", timeout: 30000 });
      if (r.status !== 0) throw new Error(`multiline admin lexicon ${args.join(" ")}: exit ${r.status}: ${r.stderr}`);
      return r.stdout;
    };
    lexicon("add", "--name", "guarantee", "--pattern", "(?i)guaranteed returns?", "--direction", "outbound", "--action", "block");
    lexicon("add", "--name", "card-number", "--pattern", "\\b\\d{4}( ?\\d{4}){3}\\b", "--direction", "both", "--action", "redact");
    const replyBox = () => chat.nth(card).locator(".ac-adaptiveCard textarea, .ac-adaptiveCard input[type=text]").first();
    const blocked = `We offer guaranteed returns ${consumer}`;
    at = await chat.count();
    await replyBox().fill(blocked);
    await button(card, "Send").click();
    await shows(card, "Blocked by policy: guarantee");
    await answer(at, "Your previous message was not sent because of illegal content.");
    await shot("blocked", card);
    const redacted = `Card *** linked ${consumer}`;
    await replyBox().fill(`Card 4111 1111 1111 1111 linked ${consumer}`);
    await button(card, "Send").click();
    await shows(card, redacted);
    await until("the redacted reply in the fake WeChat inbox", async () => (await inbox()).some((m) => m.text === redacted), 30000);
    // Sends of a thread go out in order: had the blocked reply been sent, it would be there by now.
    const leaked = (await inbox()).filter((m) => /guaranteed|4111/.test(m.text || ""));
    check(!leaked.length, `the consumer received what the rules stop: ${JSON.stringify(leaked)}`);
    log("blocked reply kept from WeChat; redacted reply delivered as", JSON.stringify(redacted));
    await shot("redacted", card);

    at = await say("threads");
    const list = await answer(at, "Your conversations");
    await shows(list, consumerName, 1000);
    await shot("threads");

    // Leave from the card, with confirmation.
    await button(card, "Leave conversation").click();
    await shows(card, "Leave the conversation with");
    await button(card, "Cancel").waitFor({ timeout: 5000 });
    await shot("leave-confirm", card);
    const before = (await inbox()).length;
    await button(card, "Leave").click();
    await shows(card, "You left the conversation");
    await shot("left", card);
    const notice = await until("the consumer's leave notice", async () => (await inbox()).slice(before).find((m) => /left/i.test(m.text || "")), 20000);
    log("consumer told:", JSON.stringify(notice.text));
    check(notice.text.includes("Alex Wilber"), `the consumer's leave notice does not name the employee: ${JSON.stringify(notice.text)}`);

    at = await say("threads");
    await answer(at, "no open conversations");
    await shot("threads-after-leave");
    log("PASS");
  } catch (e) {
    await shot("failure").catch(() => {});
    throw e;
  } finally {
    await browser.close().catch(() => {});
    pg.stop();
  }
}

const timer = setTimeout(() => {
  console.error(`[e2e] FAIL: not done within ${deadline / 1000}s`);
  process.exit(1);
}, deadline);
main().then(
  () => clearTimeout(timer),
  (e) => {
    console.error("[e2e] FAIL:", e.message);
    process.exit(1);
  },
);
