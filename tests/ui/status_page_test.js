// The ops status page (GET /ui/) in a real browser: Debian's headless
// Chromium driven by puppeteer-core (pinned in package-lock.json).
//   node status_page_test.js CRMHUB_BINARY SOURCE_DIR OUT_DIR
// Starts the Wildberries simulator (`crmhub sim wildberries`) and `crmhub
// run` with a Wildberries adapter pulling from it, a webhook adapter and an
// admin token; posts one good form and one with a blank id (a dead letter:
// the rules require an id), opens the page, enters the token, and checks
// that the adapter rows (the simulator's orders received and delivered),
// their counts and the dead letter appear. Then the rules learn to skip blank
// forms (a reload), the test clicks Replay, and the letter leaves the list
// for good. Saves OUT_DIR/status-page.png (before the replay) as an
// artefact. Exit 0 on success; any failure throws (exit 1).
"use strict";

const { spawn } = require("child_process");
const fs = require("fs");
const http = require("http");
const os = require("os");
const path = require("path");
const puppeteer = require("puppeteer-core");

const [binary, sourceDir, outDir] = process.argv.slice(2);
if (!binary || !sourceDir || !outDir) throw new Error("usage: CRMHUB_BINARY SOURCE_DIR OUT_DIR");
const TOKEN = "ui-test-token-0123456789";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

function request(port, method, urlPath, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path: urlPath,
      headers: { "Content-Type": "application/json" } }, (res) => {
      let data = "";
      res.on("data", (c) => (data += c));
      res.on("end", () => resolve({ status: res.statusCode, body: data }));
    });
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

function check(cond, what) { if (!cond) throw new Error("check failed: " + what); }

async function main() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (scripts/bootstrap.sh installs chromium)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "crmhub-ui-"));
  fs.mkdirSync(path.join(dir, "mappings"));
  const rules = fs.readFileSync(path.join(sourceDir, "config/mappings/site-lead.toml"), "utf8");
  fs.writeFileSync(path.join(dir, "mappings/site-lead.toml"), rules);
  fs.writeFileSync(path.join(dir, "mappings/wildberries-orders.toml"),
    fs.readFileSync(path.join(sourceDir, "config/mappings/wildberries-orders.toml"), "utf8"));
  fs.writeFileSync(path.join(dir, "admin-token"), TOKEN, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, "wb-token"), "sim-token", { mode: 0o600 });
  // The simulator: 20 FBS orders over a second; it says where it listens.
  const sim = spawn(binary, ["sim", "wildberries", "--listen", "127.0.0.1:0", "--orders", "20",
    "--arrival", "1s", "--lifetime", "1s"], { stdio: ["ignore", "pipe", "pipe"] });
  let simLog = "";
  sim.stdout.on("data", (d) => (simLog += d));
  sim.stderr.on("data", (d) => (simLog += d));
  let simUrl = "";
  for (let i = 0; i < 300 && !simUrl; i++) {
    const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(simLog);
    if (m) simUrl = m[1]; else await new Promise((r) => setTimeout(r, 100));
  }
  if (!simUrl) { sim.kill("SIGTERM"); throw new Error("the simulator did not start:\n" + simLog); }
  const config = path.join(dir, "crmhub.toml");
  fs.writeFileSync(config, `[daemon]
data_dir = "data"
[http]
listen = ["127.0.0.1:0"]
[admin]
token_file = "./admin-token"
[adapters.site]
type = "webhook"
idempotency_key = "/id"
allow_ips = ["127.0.0.0/8"]
mapping = "mappings/site-lead.toml"
[adapters.wb]
type = "wildberries"
token_file = "./wb-token"
marketplace_url = "${simUrl}"
content_url = "${simUrl}"
prices_url = "${simUrl}"
warehouses = ["507"]
poll_interval = "1s"
lookback = "1h"
mapping = "mappings/wildberries-orders.toml"
`);
  const daemon = spawn(binary, ["run", "--config", config], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  daemon.stdout.on("data", (d) => (log += d));
  daemon.stderr.on("data", (d) => (log += d));
  const waitLog = async (needle, from = 0) => {
    for (let i = 0; i < 600; i++) {
      const at = log.indexOf(needle, from);
      if (at >= 0) return at;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no "${needle}" in the daemon's log:\n${log}`);
  };
  let browser;
  try {
    await waitLog("running; data_dir");
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(log)[1]);
    check((await request(port, "POST", "/hooks/site", JSON.stringify({ id: "ui-1", name: "Anna" }))).status === 200, "good form accepted");
    check((await request(port, "POST", "/hooks/site", JSON.stringify({ id: "   ", name: "Blank" }))).status === 200, "blank form accepted");

    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${port}/ui/`, { waitUntil: "load" });
    await page.type("#token", TOKEN);
    await page.click("#login-form button[type=submit]");
    // The adapter row with its counts (received 2, delivered 1 then).
    await page.waitForFunction(() => {
      const row = document.querySelector('#adapters tbody tr[data-adapter="site"]');
      if (!row) return false;
      const cells = [...row.children].map((c) => c.textContent);
      return cells[5] === "2" && cells[6] === "1" && cells[8] === "1";
    }, { timeout: 30000 });
    // The simulator's adapter: its orders pulled and delivered into crm.db.
    await page.waitForFunction(() => {
      const row = document.querySelector('#adapters tbody tr[data-adapter="wb"]');
      if (!row) return false;
      const cells = [...row.children].map((c) => c.textContent);
      return cells[1] === "wildberries" && Number(cells[5]) > 0 && Number(cells[6]) > 0;
    }, { timeout: 60000 });
    await page.waitForSelector("#dead-letters tbody tr[data-id]", { timeout: 30000 });
    const dead = await page.$$eval("#dead-letters tbody tr", (rows) => rows.map((r) => ({
      id: r.dataset.id, reason: r.children[5].textContent })));
    check(dead.length === 1, "one dead letter, got " + JSON.stringify(dead));
    check(dead[0].reason.includes("required value is empty"), "the reason: " + dead[0].reason);
    check(await page.$eval("#lanes tbody", (b) => b.textContent.includes("in.site")), "lane in.site listed");
    // The token survives a reload of the page (session storage).
    await page.reload({ waitUntil: "load" });
    await page.waitForSelector('#adapters tbody tr[data-adapter="site"]', { timeout: 30000 });
    await page.click(`#dead-letters tbody tr[data-id="${dead[0].id}"] button.record`);
    await page.waitForFunction(() => document.querySelector("#record").textContent.includes("raw record"), { timeout: 30000 });
    fs.mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: path.join(outDir, "status-page.png"), fullPage: true });

    // Fix the cause (blank forms are skipped), reload, then replay.
    fs.writeFileSync(path.join(dir, "mappings/site-lead.toml"),
      rules.replace("[[skip_if]]", '[[skip_if]]\npath = "/name"\nequals = "Blank"\n\n[[skip_if]]'));
    const reloads = log.length;
    daemon.kill("SIGHUP");
    await waitLog("reloaded", reloads);
    await page.click(`#dead-letters tbody tr[data-id="${dead[0].id}"] button.replay`);
    await page.waitForFunction(() => document.querySelectorAll("#dead-letters tbody tr").length === 0, { timeout: 30000 });
    // And it stays gone: the replayed record was skipped, not failed again.
    await new Promise((r) => setTimeout(r, 2500));
    check(await page.$$eval("#dead-letters tbody tr", (rows) => rows.length) === 0, "the dead letter stays gone");
    check(await page.$eval("#audit tbody", (b) => b.textContent.includes("replay_dead_letter")), "the replay is in the audit journal");
    check(errors.length === 0, "page errors: " + errors.join("; "));
    console.log("status page test: ok; screenshot " + path.join(outDir, "status-page.png"));
  } finally {
    if (browser) await browser.close();
    daemon.kill("SIGTERM");
    await new Promise((r) => daemon.on("exit", r));
    sim.kill("SIGTERM");
    await new Promise((r) => sim.on("exit", r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e.stack || String(e)); process.exit(1); });
