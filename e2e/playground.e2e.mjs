// End-to-end test: the Microsoft 365 Agents Playground in headless Chromium
// against a running `multiline serve --dev` (with its built-in fake WeChat).
//
//   MULTILINE_URL    the bot's base URL            (default http://127.0.0.1:3978)
//   PLAYGROUND_URL   a running playground, if any  (default: start one here)
//   CHROMIUM         browser binary                (default /usr/bin/chromium)
//   ARTIFACTS        screenshot folder             (default test-artifacts/e2e)
//   CONSUMER         fake WeChat consumer id       (default e2e-<time>)
//
// Steps: help, threads, a consumer message arrives as a card, reply with the card's
// Send, the reply reaches the fake WeChat inbox, leave with confirmation.
import { spawn } from "node:child_process";
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
mkdirSync(artifacts, { recursive: true });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let step = 0;
const log = (...a) => console.log(`[e2e ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
const t0 = Date.now();

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
  throw new Error(`timed out waiting for ${what}${last ? ": " + last.message : ""}`);
}

async function startPlayground() {
  if (process.env.PLAYGROUND_URL) return { url: process.env.PLAYGROUND_URL.replace(/\/$/, ""), stop() {} };
  const bin = path.join(root, "node_modules/.bin/agentsplayground");
  if (!existsSync(bin)) throw new Error(`${bin} missing: run npm install`);
  const child = spawn(process.execPath, [bin, "start", "--disable-telemetry", "--channel-id", "msteams", "--port", "56150"], {
    env: { ...process.env, BOT_ENDPOINT: `${bot}/api/messages`, TEAMSAPPTESTER_BROWSER: "none",
      M365_AGENTS_PLAYGROUND_LOGFILE: path.join(artifacts, "playground.log") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const port = await until("playground port", () => (out.match(/Listening on (\d+)/) || [])[1], 30000);
  const url = `http://localhost:${port}`;
  await until("playground ping", async () => (await (await fetch(`${url}/_debug/ping`)).text()).includes("pong"));
  return { url, stop: () => child.kill("SIGTERM") };
}

async function fakeWeChat(method, p, body) {
  const r = await fetch(`${bot}/fake${p}`, { method, headers: { "Content-Type": "application/json" }, body: body && JSON.stringify(body) });
  const j = await r.json();
  if (!r.ok) throw new Error(`fake WeChat ${p}: ${r.status} ${JSON.stringify(j)}`);
  return j;
}

async function main() {
  await until("bot", async () => (await fetch(`${bot}/healthz`)).ok, 10000);
  const pg = await startPlayground();
  const browser = await chromium.launch({
    executablePath: browserPath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.route("**/*", (route) => {
    const h = new URL(route.request().url()).hostname;
    return ["localhost", "127.0.0.1", "[::1]"].includes(h) ? route.continue() : route.abort();
  });
  const shot = async (name) => {
    const file = path.join(artifacts, `${String(++step).padStart(2, "0")}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    log("screenshot", file);
  };
  const chat = page.locator(".fai-OutputCard");
  const box = page.locator('[data-lexical-editor="true"][role="textbox"]');
  const say = async (text) => {
    const before = await chat.count();
    await box.click();
    await page.keyboard.type(text);
    await page.keyboard.press("Enter");
    return before;
  };
  // Waits for a new bot message (after index `after`) containing text.
  const answer = async (after, text, timeout = 20000) =>
    until(`bot answer containing "${text}"`, async () => {
      const n = await chat.count();
      for (let i = after; i < n; i++) if ((await chat.nth(i).innerText()).includes(text)) return chat.nth(i);
      return null;
    }, timeout);

  try {
    await page.goto(pg.url + "/", { waitUntil: "domcontentloaded" });
    await box.waitFor({ timeout: 30000 });
    await answer(0, "Welcome to MultiLine", 30000);
    await shot("welcome");

    let at = await say("help");
    await answer(at, "threads");
    await shot("help");

    at = await say("threads");
    await answer(at, "conversations");
    await shot("threads");

    // A consumer writes on WeChat; the employee (the only local one) gets a card.
    const text = `Hello from WeChat ${consumer}`;
    at = await chat.count();
    await fakeWeChat("POST", "/consumer/send", { consumer, text });
    const card = await answer(at, text, 30000);
    await shot("consumer-card");

    // Reply with the card's Send.
    const reply = `Reply to ${consumer}`;
    await card.locator("textarea, input[type=text]").first().fill(reply);
    await card.locator('.ac-actionSet button[title="Send"], button:has-text("Send")').first().click();
    await until("card updated with the reply", async () => (await chat.allInnerTexts()).some((t) => t.includes(reply)));
    await shot("replied");
    await until("reply in the fake WeChat inbox", async () => {
      const inbox = await fakeWeChat("GET", `/consumer/inbox?consumer=${encodeURIComponent(consumer)}`);
      return inbox.messages.some((m) => (m.text || "").includes(reply));
    }, 30000);
    log("reply reached the fake WeChat server");

    // Leave, with confirmation.
    at = await say("leave");
    const confirm = await answer(at, "Leave the conversation", 20000);
    await shot("leave-confirm");
    await confirm.locator('button:has-text("Leave")').first().click();
    await until("left", async () => (await chat.allInnerTexts()).some((t) => t.includes("You left the conversation")));
    await shot("left");
    log("PASS");
  } catch (e) {
    await shot("failure").catch(() => {});
    throw e;
  } finally {
    await browser.close();
    pg.stop();
  }
}

main().catch((e) => {
  console.error("[e2e] FAIL:", e.message);
  process.exit(1);
});
