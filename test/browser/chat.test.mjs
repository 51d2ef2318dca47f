// The chat page in a real Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
// against two real nodes started here: delivery, safety, history, reconnect, no-JS publishing,
// many tabs, HTTP/2 over https, and who is here. A screenshot of every step goes to the output
// folder.
//
//   node test/browser/chat.test.mjs [--binary build/watercooler] [--out build/browser-screenshots]
//   (WATERCOOLER_BROWSER_KEEP=1 keeps the nodes' logs)
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');

function argument(name, fallback) {
  const at = process.argv.indexOf(name);
  return at > 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

const binary = path.resolve(argument('--binary', process.env.WATERCOOLER_BINARY
  || path.join(root, 'build', 'watercooler')));
const outDir = path.resolve(argument('--out', path.join(path.dirname(binary), 'browser-screenshots')));
const chromiumPath = process.env.WATERCOOLER_CHROMIUM || '/usr/bin/chromium';
const NODE1 = 'node1@127.0.0.1';
const NODE2 = 'node2@127.0.0.1';
const WAIT = 20000; // ms; generous, the machine is shared and noisy
const GRACE = 1; // s, the nodes' --presence-grace: short, so that leaving shows soon

// ---- processes: every node started here is killed by PID, whatever happens ----

const children = new Set();

function killAll() {
  for (const child of children) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch (e) { /* already gone */ }
  }
  children.clear();
}

process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    killAll();
    process.exit(1);
  });
}

const handedOut = new Set();

// A port on 127.0.0.1 that was free a moment ago and that this run never handed out before.
async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port: p } = server.address();
        server.close(() => resolve(p));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

class Node {
  constructor(name, dir, sysConfig, epmdPort) {
    this.name = name;
    this.dir = dir;
    this.sysConfig = sysConfig;
    this.epmdPort = epmdPort;
    this.log = path.join(dir, `${name.split('@')[0]}.log`);
    this.child = null;
  }

  async init() {
    this.port = await freePort();
    this.securePort = await freePort();
    return this;
  }

  get url() {
    return `http://127.0.0.1:${this.port}/`;
  }

  get secureUrl() {
    return `https://127.0.0.1:${this.securePort}/`;
  }

  start() {
    const log = fs.openSync(this.log, 'a');
    fs.writeSync(log, `---- browser test: starting ${this.name} on ${this.port}\n`);
    const args = ['--name', this.name, '--config', this.sysConfig,
      '--presence-grace', String(GRACE)];
    this.child = spawn(binary, args, {
      env: {
        ...process.env,
        PORT: String(this.port),
        SECURE_PORT: String(this.securePort),
        ERL_EPMD_PORT: String(this.epmdPort),
        WATERCOOLER_STATE_DIR: path.join(this.dir, `state-${this.name.split('@')[0]}`),
        HOME: this.dir, // never the real home: the nodes' ~/.erlang.cookie is the run's own
      },
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    children.add(this.child);
    const child = this.child;
    child.on('exit', () => children.delete(child));
  }

  async waitReady(timeout = 30000) {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) break;
      try {
        const res = await fetch(this.url, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) return;
      } catch (e) { /* not yet */ }
      await sleep(200);
    }
    throw new Error(`${this.name} did not become ready:\n${fs.readFileSync(this.log, 'utf8')}`);
  }

  async kill9() {
    const child = this.child;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid, 'SIGKILL');
    await exited;
  }

  async publish(text, name = '') {
    const body = new URLSearchParams({ message: text, name });
    const res = await fetch(`${this.url}publish`, { method: 'POST', body, redirect: 'manual' });
    return res.status;
  }

  async presence() {
    const res = await fetch(`${this.url}presence`);
    check(res.status === 200, `GET /presence of ${this.name} answered ${res.status}`);
    return res.json();
  }

  // Polls GET /presence until `wanted(presence)` holds.
  async waitPresence(wanted, what, timeout = WAIT) {
    const deadline = Date.now() + timeout;
    let last;
    for (;;) {
      last = await this.presence();
      if (wanted(last)) return last;
      if (Date.now() > deadline) break;
      await sleep(100);
    }
    throw new Error(`${this.name}: GET /presence never showed ${what}: ${JSON.stringify(last)}`);
  }

  async metric(name) {
    const res = await fetch(`${this.url}metrics`);
    const text = await res.text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? NaN : Number(line.split(' ')[1]);
  }
}

// A TCP proxy to a node whose connections the test can cut, as a flaky network would.
async function startProxy(targetPort) {
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const [a, b] of [[client, upstream], [upstream, client]]) {
      sockets.add(a);
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        sockets.delete(a);
        b.destroy();
      });
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    cut() {
      for (const socket of sockets) socket.destroy();
    },
    close() {
      this.cut();
      server.close();
    },
  };
}

// ---- the page ----

const problems = []; // CSP violations and uncaught errors of any page

async function openPage(context, node, label, url = node.url) {
  const page = await context.newPage();
  page.on('console', (message) => {
    if (/Content.Security.Policy/i.test(message.text())) problems.push(`${label}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`${label}: uncaught ${error.message}`));
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  await page.goto(url);
  page.label = label;
  return page;
}

async function waitState(page, state, timeout = WAIT) {
  await page.waitForFunction(
    (s) => document.getElementById('status').dataset.state === s, state, { timeout });
}

function lines(page) {
  return page.$$eval('#messages li', (items) => items.map((li) => ({
    id: li.dataset.id,
    author: li.querySelector('.author').textContent,
    origin: li.querySelector('.origin').textContent,
    time: li.querySelector('time').textContent,
    text: li.querySelector('.text').textContent,
    own: li.classList.contains('own'),
  })));
}

async function waitText(page, text, timeout = WAIT) {
  await page.waitForFunction(
    (t) => Array.from(document.querySelectorAll('#messages li .text'))
      .some((e) => e.textContent === t),
    text, { timeout });
}

// What a page shows of who is here.
function shownPresence(page) {
  return page.evaluate(() => ({
    text: document.getElementById('presence').textContent,
    count: Number(document.getElementById('presence').dataset.count),
    you: document.getElementById('presence-box').dataset.you,
    people: Array.from(document.querySelectorAll('#people li')).map((li) => ({
      person: li.dataset.person,
      name: li.querySelector('.name').textContent,
      text: li.textContent,
      me: li.classList.contains('me'),
    })),
  }));
}

// Waits until the page says "<count> here" and lists each of `names` and none of `absent`.
async function waitPresence(page, count, names = [], absent = [], timeout = WAIT) {
  try {
    await page.waitForFunction(({ n, want, not }) => {
      const line = document.getElementById('presence');
      if (!line.textContent.startsWith(`${n} here`)) return false;
      const shown = Array.from(document.querySelectorAll('#people .name'), (e) => e.textContent);
      return want.every((name) => shown.includes(name))
        && not.every((name) => !shown.includes(name));
    }, { n: count, want: names, not: absent }, { timeout });
  } catch (error) {
    const shown = await shownPresence(page).catch(() => null);
    throw new Error(`${page.label} never showed ${count} here with [${names}] without [${absent}]: `
      + `${JSON.stringify(shown)}`);
  }
}

// Records every count the page shows from now on, in window.__counts.
async function recordCounts(page) {
  await page.evaluate(() => {
    const line = document.getElementById('presence');
    window.__counts = [line.dataset.count];
    new MutationObserver(() => window.__counts.push(line.dataset.count))
      .observe(line, { attributes: true, childList: true, characterData: true, subtree: true });
  });
}

async function recordedCounts(page) {
  return (await page.evaluate(() => window.__counts)).map(Number);
}

async function typeName(page, name) {
  await page.fill('#name', name);
  await page.press('#name', 'Tab'); // a change event: the stream takes the name now
}

async function only(page, text) {
  const found = (await lines(page)).filter((l) => l.text === text);
  check(found.length === 1, `${page.label} shows "${text}" ${found.length} times, not once`);
  return found[0];
}

// Types into the page's form and presses Enter; resolves once the page answered the send.
async function send(page, text) {
  const answered = () => Number(document.querySelector('form').dataset.answered || 0);
  const before = await page.evaluate(answered);
  await page.fill('#message', text);
  await page.press('#message', 'Enter');
  await page.waitForFunction(
    (n) => Number(document.querySelector('form').dataset.answered || 0) > n, before,
    { timeout: WAIT });
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function noDuplicates(page) {
  const all = await lines(page);
  const ids = all.map((l) => l.id);
  check(new Set(ids).size === ids.length, `${page.label} shows a message twice: ${ids.join(', ')}`);
}

// Publishes numbered messages on `from` until one shows on `page`: proves the nodes are linked.
async function requireFlow(from, page, prefix, timeout = 60000) {
  const deadline = Date.now() + timeout;
  for (let n = 1; Date.now() < deadline; ++n) {
    const text = `${prefix} #${n}`;
    await from.publish(text);
    try {
      await waitText(page, text, 1000);
      return text;
    } catch (e) { /* not yet linked */ }
  }
  throw new Error(`messages of ${from.name} never reached ${page.label}`);
}

// ---- the run ----

let shotNumber = 0;
async function shot(page, name) {
  shotNumber += 1;
  const file = path.join(outDir, `${String(shotNumber).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

const results = [];
async function step(name, body) {
  const started = Date.now();
  try {
    await body();
    results.push({ name, ok: true });
    console.log(`ok ${results.length} - ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    results.push({ name, ok: false });
    console.log(`not ok ${results.length} - ${name}\n  ${String(error.stack || error).replace(/\n/g, '\n  ')}`);
    throw error;
  }
}

async function main() {
  check(fs.existsSync(binary), `no node binary at ${binary} (build first, or pass --binary)`);
  check(fs.existsSync(chromiumPath), `no Chromium at ${chromiumPath} (apt-get install chromium)`);
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'watercooler-browser-'));
  // One cluster cookie for both nodes, made before either starts.
  fs.writeFileSync(path.join(dir, '.erlang.cookie'),
    `${Array.from(crypto.randomBytes(20), (b) => String.fromCharCode(65 + (b % 26))).join('')}\n`,
    { mode: 0o400 });
  const sysConfig = path.join(dir, 'sys.config');
  fs.writeFileSync(sysConfig,
    `[{kernel, [{sync_nodes_optional, ['${NODE1}', '${NODE2}']}, {sync_nodes_timeout, 3000}]}].\n`);
  const epmdPort = await freePort();
  const node1 = await new Node(NODE1, dir, sysConfig, epmdPort).init();
  const node2 = await new Node(NODE2, dir, sysConfig, epmdPort).init();
  let browser;
  let failed = false;
  try {
    node1.start();
    node2.start();
    await node1.waitReady();
    await node2.waitReady();
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const context = await browser.newContext({ viewport: { width: 900, height: 800 } });
    const page1 = await openPage(context, node1, 'node1 page');
    const page2 = await openPage(context, node2, 'node2 page');
    await waitState(page1, 'connected');
    await waitState(page2, 'connected');
    await requireFlow(node1, page2, 'warm-up from node1');
    await requireFlow(node2, page1, 'warm-up from node2');

    await step('a message typed on node1 shows on both pages once, with its origin', async () => {
      await page1.fill('#name', 'Ann');
      await send(page1, 'Hello from node1');
      check(await page1.inputValue('#message') === '', 'the input was not cleared');
      check(await page1.evaluate(() => document.activeElement.id) === 'message',
        'the input lost focus');
      await waitText(page1, 'Hello from node1');
      await waitText(page2, 'Hello from node1');
      const mine = await only(page1, 'Hello from node1');
      const theirs = await only(page2, 'Hello from node1');
      for (const line of [mine, theirs]) {
        check(line.origin === NODE1, `origin shown is ${line.origin}`);
        check(line.author === 'Ann', `author shown is ${line.author}`);
        check(/\d/.test(line.time), `no time shown: "${line.time}"`);
      }
      check(mine.own, 'the sender\'s own message is not marked');
      check(!theirs.own, 'the message is marked as own on the other node\'s page');
      // The name is remembered by the browser.
      const again = await openPage(context, node1, 'node1 second tab');
      check(await again.inputValue('#name') === 'Ann', 'the display name was not remembered');
      await waitText(again, 'Hello from node1');
      check((await only(again, 'Hello from node1')).own, 'own message not marked in another tab');
      await again.close();
      console.log(`  ${await shot(page1, 'node1-sent')}`);
      console.log(`  ${await shot(page2, 'node2-received')}`);
    });

    await step('an empty or over-long message is refused with the server\'s reason', async () => {
      await send(page1, '');
      check(await page1.textContent('#publish-error') === 'empty message',
        `shown: ${await page1.textContent('#publish-error')}`);
      const long = 'x'.repeat(70000);
      await send(page1, long);
      const reason = await page1.textContent('#publish-error');
      check(reason.startsWith('message too large'), `shown: ${reason}`);
      check(await page1.inputValue('#message') === long, 'a refused message was cleared');
      check(await page1.evaluate(() => document.activeElement.id) === 'message',
        'the input lost focus');
      console.log(`  ${await shot(page1, 'refused')}`);
      await send(page1, 'not refused');
      check(await page1.textContent('#publish-error') === '', 'the error stayed');
    });

    await step('markup in messages shows literally and runs nothing', async () => {
      const img = '<img src=x onerror="window.__pwned=1">';
      const script = '<script>window.__pwned=2</script>';
      await send(page1, img);
      await send(page1, script);
      for (const page of [page1, page2]) {
        await waitText(page, img);
        await waitText(page, script);
        await only(page, img);
        check(await page.evaluate(() => window.__pwned) === undefined, 'a message ran script');
        check(await page.$$eval('#messages img, #messages script', (e) => e.length) === 0,
          'a message became markup');
      }
      console.log(`  ${await shot(page2, 'markup-as-text')}`);
    });

    await step('a page opened after three messages shows them, newest first', async () => {
      for (const n of [1, 2, 3]) await send(page1, `history ${n}`);
      await waitText(page2, 'history 3');
      const fresh = await browser.newContext(); // its own worker: the history is the node's
      const late = await openPage(fresh, node2, 'late node2 page');
      await waitState(late, 'connected');
      await waitText(late, 'history 3');
      const texts = (await lines(late)).map((l) => l.text);
      const at = ['history 3', 'history 2', 'history 1'].map((t) => texts.indexOf(t));
      check(at[0] >= 0 && at[0] < at[1] && at[1] < at[2], `order on the late page: ${texts}`);
      await noDuplicates(late);
      console.log(`  ${await shot(late, 'history')}`);
      await fresh.close();
    });

    await step('node2 killed and restarted: reconnecting, connected, new messages, no duplicates',
      async () => {
        await node2.kill9();
        await waitState(page2, 'reconnecting');
        console.log(`  ${await shot(page2, 'reconnecting')}`);
        node2.start();
        await node2.waitReady();
        await waitState(page2, 'connected', 60000);
        await requireFlow(node1, page2, 'after restart');
        await send(page2, 'node2 is back');
        await waitText(page1, 'node2 is back');
        await waitText(page2, 'node2 is back');
        for (const page of [page1, page2]) {
          await noDuplicates(page);
          await only(page, 'Hello from node1');
          await only(page, 'node2 is back');
          await only(page, 'history 3');
        }
        console.log(`  ${await shot(page2, 'reconnected')}`);
      });

    await step('a cut connection to a running node replays its history, shown once', async () => {
      const proxy = await startProxy(node2.port);
      try {
        const viaProxy = await browser.newContext();
        const page = await viaProxy.newPage();
        page.label = 'node2 page through a proxy';
        await page.goto(proxy.url);
        await waitState(page, 'connected');
        await waitText(page, 'node2 is back');
        const before = (await lines(page)).length;
        check(before >= 2, `only ${before} messages replayed`);
        await page.evaluate(() => {
          window.__states = [];
          new MutationObserver(() => {
            window.__states.push(document.getElementById('status').dataset.state);
          }).observe(document.getElementById('status'), { attributes: true });
        });
        proxy.cut(); // the stream drops; the node keeps running and replays on reconnect
        await page.waitForFunction(() => window.__states.includes('reconnecting'), null,
          { timeout: WAIT });
        await page.waitForFunction(
          () => window.__states.lastIndexOf('connected') > window.__states.indexOf('reconnecting'),
          null, { timeout: WAIT });
        await node2.publish('after the cut', 'Cy');
        await waitText(page, 'after the cut');
        await noDuplicates(page);
        check((await lines(page)).length === before + 1,
          `${before} messages before the cut, ${(await lines(page)).length} after one more`);
        console.log(`  ${await shot(page, 'after-cut')}`);
        await viaProxy.close();
      } finally {
        proxy.close();
      }
    });

    await step('without JavaScript the form posts through the iframe and delivers', async () => {
      const noScript = await browser.newContext({ javaScriptEnabled: false });
      const plain = await openPage(noScript, node2, 'node2 page without JavaScript');
      await plain.fill('#message', 'sent without JavaScript');
      await plain.click('button[type=submit]');
      await waitText(page1, 'sent without JavaScript', 30000);
      const line = await only(page1, 'sent without JavaScript');
      check(line.origin === NODE2, `origin shown is ${line.origin}`);
      await waitText(page2, 'sent without JavaScript');
      check(plain.url() === node2.url, `the page navigated away to ${plain.url()}`);
      console.log(`  ${await shot(plain, 'no-javascript')}`);
      await noScript.close();
    });

    await step('eight tabs of one node share one stream; closing the first keeps the rest', async () => {
      const tabsContext = await browser.newContext();
      const before = await node1.metric('watercooler_sessions');
      const tabs = [];
      for (let i = 0; i < 8; ++i) {
        const tab = await openPage(tabsContext, node1, `node1 tab ${i + 1}`);
        tabs.push(tab);
      }
      for (const tab of tabs) await waitState(tab, 'connected');
      const during = await node1.metric('watercooler_sessions');
      check(during - before === 1, `the 8 tabs opened ${during - before} streams, not 1`);
      await send(tabs[7], 'to all eight tabs');
      for (const tab of tabs) {
        await waitText(tab, 'to all eight tabs');
        await only(tab, 'to all eight tabs');
      }
      console.log(`  ${await shot(tabs[0], 'tab-1-of-8')}`);
      await tabs[0].close();
      await node2.publish('after the first tab closed', 'Bob');
      for (const tab of tabs.slice(1)) {
        await waitText(tab, 'after the first tab closed');
        await only(tab, 'after the first tab closed');
        check(await tab.$eval('#status', (e) => e.dataset.state) === 'connected', 'not connected');
      }
      console.log(`  ${await shot(tabs[1], 'tab-2-after-first-closed')}`);
      await tabsContext.close();
    });

    await step('a browser without SharedWorker gets a stream per tab', async () => {
      const old = await browser.newContext();
      await old.addInitScript(() => { delete window.SharedWorker; });
      const before = await node2.metric('watercooler_sessions');
      const tab = await openPage(old, node2, 'node2 tab without SharedWorker');
      await waitState(tab, 'connected');
      check(await node2.metric('watercooler_sessions') === before + 1, 'no stream of its own');
      await waitText(tab, 'node2 is back'); // the history
      await send(tab, 'from a tab without SharedWorker');
      await waitText(page1, 'from a tab without SharedWorker');
      await waitText(tab, 'from a tab without SharedWorker');
      check((await only(tab, 'from a tab without SharedWorker')).own, 'own message not marked');
      await tab.waitForSelector('#people li.me', { timeout: WAIT }); // counted with its own id
      // A new name reopens its stream where it was.
      const streams = [];
      tab.on('request', (request) => {
        if (new URL(request.url()).pathname === '/listen') streams.push(new URL(request.url()));
      });
      await typeName(tab, 'Old Browser');
      await tab.waitForFunction(() => Array.from(document.querySelectorAll('#people li.me .name'))
        .some((e) => e.textContent === 'Old Browser'), null, { timeout: WAIT });
      const reopened = streams.find((url) => url.searchParams.get('name') === 'Old Browser');
      check(reopened && /^[A-Za-z0-9_-]{16,64}$/.test(reopened.searchParams.get('client'))
        && reopened.searchParams.get('last_event_id'),
        `the stream reopened as ${streams.map(String).join(', ') || 'nothing'}`);
      await send(tab, 'after a new name without SharedWorker');
      await waitText(tab, 'after a new name without SharedWorker');
      await noDuplicates(tab);
      await noDuplicates(tab);
      await old.close();
    });

    await step('over https the page comes by HTTP/2; chat and eight tabs work as over http',
      async () => {
        const secure = await browser.newContext({ ignoreHTTPSErrors: true }); // self-signed
        const open = (node, label) => openPage(secure, node, label, node.secureUrl);
        const h2page1 = await open(node1, 'node1 page over h2');
        const h2page2 = await open(node2, 'node2 page over h2');
        for (const page of [h2page1, h2page2]) {
          const protocol = await page.evaluate(
            () => performance.getEntriesByType('navigation')[0].nextHopProtocol);
          check(protocol === 'h2', `${page.label} came over ${protocol}`);
          await waitState(page, 'connected');
        }
        await send(h2page2, 'over h2 from node2');
        await waitText(h2page1, 'over h2 from node2');
        check((await only(h2page1, 'over h2 from node2')).origin === NODE2, 'wrong origin');
        const tabs = [h2page1];
        for (let i = 2; i <= 8; ++i) tabs.push(await open(node1, `node1 tab ${i} over h2`));
        for (const tab of tabs) await waitState(tab, 'connected');
        await node2.publish('to eight tabs over h2', 'Dee');
        for (const tab of tabs) {
          await waitText(tab, 'to eight tabs over h2');
          await only(tab, 'to eight tabs over h2');
        }
        const streams = fs.readFileSync(node1.log, 'utf8').split('\n')
          .filter((line) => / GET \/listen.* Sent 200 .*\(HTTP\/2\)$/.test(line));
        check(streams.length > 0, 'no event stream of node1 came over HTTP/2');
        console.log(`  ${await shot(tabs[7], 'tab-8-over-h2')}`);
        await secure.close();
      });

    // Who is here: page1 and page2 (two origins, so two browsers' ids) are the people present
    // once the contexts of the steps above have left.
    const here = [];
    let base = 0;
    let pia;
    let piaTag;
    let piaTab1;
    let piaTab2;
    let quinn;
    let quinnTab;
    const wide = { viewport: { width: 900, height: 800 } };
    const tagsAre = (tags) => (p) => p.count === tags.length
      && p.people.map((x) => x.person).sort().join() === [...tags].sort().join();

    await step('two tabs of one browser are one person, on both nodes', async () => {
      for (const page of [page1, page2]) {
        await page.waitForFunction(() => document.getElementById('presence-box').dataset.you,
          null, { timeout: WAIT });
        here.push((await shownPresence(page)).you);
      }
      for (const node of [node1, node2]) {
        await node.waitPresence(tagsAre(here), `just the people of page1 and page2 ${here}`);
      }
      base = here.length;
      await waitPresence(page1, base, ['Ann']);
      pia = await browser.newContext(wide);
      piaTab1 = await openPage(pia, node1, 'Pia tab 1');
      await waitState(piaTab1, 'connected');
      await typeName(piaTab1, 'Pia');
      await waitPresence(piaTab1, base + 1, ['Pia', 'Ann']);
      piaTab2 = await openPage(pia, node1, 'Pia tab 2');
      await waitPresence(piaTab2, base + 1, ['Pia', 'Ann']);
      const [one, two] = [await shownPresence(piaTab1), await shownPresence(piaTab2)];
      check(one.you && one.you === two.you, `the tabs are ${one.you} and ${two.you}`);
      for (const shown of [one, two]) {
        const me = shown.people.filter((p) => p.me);
        check(me.length === 1 && me[0].person === one.you && me[0].text === 'Pia (you)',
          `own entry shown as ${JSON.stringify(me)}`);
      }
      piaTag = one.you;
      here.push(piaTag);
      for (const node of [node1, node2]) {
        const presence = await node.waitPresence(tagsAre(here), `Pia once: ${here}`);
        check(presence.people.find((p) => p.person === one.you).name === 'Pia',
          `${node.name} names Pia ${JSON.stringify(presence.people)}`);
      }
      await waitPresence(page2, base + 1, ['Pia']);
      console.log(`  ${await shot(piaTab2, 'presence-two-tabs')}`);
    });

    await step('a second browser is a second person, shown on both nodes\' pages', async () => {
      quinn = await browser.newContext(wide);
      quinnTab = await openPage(quinn, node2, 'Quinn tab');
      await waitState(quinnTab, 'connected');
      await typeName(quinnTab, 'Quinn');
      for (const page of [quinnTab, piaTab1, piaTab2, page1, page2]) {
        await waitPresence(page, base + 2, ['Pia', 'Quinn']);
      }
      const shown = await shownPresence(quinnTab);
      check(shown.you && !here.includes(shown.you), `Quinn's tag ${shown.you} is not new`);
      check(shown.people.filter((p) => p.me).map((p) => p.text).join() === 'Quinn (you)',
        `own entry: ${JSON.stringify(shown.people)}`);
      check(!(await shownPresence(piaTab1)).people.find((p) => p.name === 'Quinn').me,
        'Quinn is marked as you in Pia\'s tab');
      here.push(shown.you);
      for (const node of [node1, node2]) await node.waitPresence(tagsAre(here), `Quinn: ${here}`);
      console.log(`  ${await shot(quinnTab, 'presence-two-browsers')}`);
    });

    await step('a new name in one tab shows in the other browser, the count unchanged',
      async () => {
        await recordCounts(quinnTab);
        const before = (await lines(piaTab1)).length;
        await typeName(piaTab2, 'Pia Renamed');
        await node2.publish('during the rename', 'Quinn'); // while her stream reopens
        for (const page of [quinnTab, piaTab1, piaTab2, page1]) {
          await waitPresence(page, base + 2, ['Pia Renamed', 'Quinn'], ['Pia']);
        }
        const counts = await recordedCounts(quinnTab);
        check(counts.every((n) => n === base + 2), `Quinn's page showed the counts ${counts}`);
        check(await piaTab1.inputValue('#name') === 'Pia Renamed', 'the other tab kept the old name');
        for (const node of [node1, node2]) {
          await node.waitPresence((p) => tagsAre(here)(p)
            && p.people.some((x) => x.name === 'Pia Renamed'), 'Pia renamed');
        }
        // The stream reopened where it was: nothing lost, nothing twice.
        await node2.publish('after the rename', 'Quinn');
        for (const tab of [piaTab1, piaTab2]) {
          await waitText(tab, 'during the rename');
          await waitText(tab, 'after the rename');
          await noDuplicates(tab);
        }
        check((await lines(piaTab1)).length === before + 2,
          `${before} messages before the rename, ${(await lines(piaTab1)).length} after two more`);
      });

    await step('closing one tab of two changes nothing; closing both leaves after the grace',
      async () => {
        await recordCounts(quinnTab);
        await piaTab2.close();
        // Someone who comes and goes after that: once their leave shows, a grace period passed.
        const passer = await browser.newContext();
        await openPage(passer, node1, 'passer-by');
        await waitPresence(quinnTab, base + 3);
        await passer.close();
        await waitPresence(quinnTab, base + 2, ['Pia Renamed', 'Quinn']);
        const counts = await recordedCounts(quinnTab);
        check(counts.every((n) => n >= base + 2), `Quinn's page showed the counts ${counts}`);
        await waitPresence(piaTab1, base + 2, ['Pia Renamed', 'Quinn']);
        for (const node of [node1, node2]) {
          await node.waitPresence(tagsAre(here), `Pia still: ${here}`);
        }
        await pia.close(); // her last tab: her stream closes
        here.splice(here.indexOf(piaTag), 1);
        for (const page of [quinnTab, page1, page2]) {
          await waitPresence(page, base + 1, ['Quinn'], ['Pia Renamed']);
        }
        for (const node of [node1, node2]) {
          await node.waitPresence(tagsAre(here), `Pia gone: ${here}`);
        }
        console.log(`  ${await shot(quinnTab, 'presence-after-leave')}`);
        await quinn.close();
      });

    await step('at phone width the page fits the screen', async () => {
      await page1.setViewportSize({ width: 360, height: 740 });
      const overflow = await page1.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      check(overflow <= 0, `the page is ${overflow}px wider than the screen`);
      console.log(`  ${await shot(page1, 'phone-width')}`);
    });

    await step('no request got a 414 or a server error', async () => {
      for (const node of [node1, node2]) {
        const bad = fs.readFileSync(node.log, 'utf8').split('\n')
          .filter((line) => /Sent (414|5\d\d) /.test(line));
        check(bad.length === 0, `${node.name}: ${bad.join('\n')}`);
      }
    });

    await step('no Content-Security-Policy violation or script error on any page', async () => {
      for (const page of [page1, page2]) {
        const violations = await page.evaluate(() => window.__violations);
        check(violations.length === 0, `${page.label}: ${violations.join('; ')}`);
      }
      check(problems.length === 0, problems.join('\n'));
    });
  } catch (error) {
    failed = true;
    if (results.length === 0 || results[results.length - 1].ok) {
      console.log(`not ok - set-up\n  ${String(error.stack || error).replace(/\n/g, '\n  ')}`);
    }
    for (const node of [node1, node2]) {
      if (fs.existsSync(node.log)) console.log(`---- ${node.name} log:\n${fs.readFileSync(node.log, 'utf8')}`);
    }
  } finally {
    if (browser) await browser.close().catch(() => {});
    killAll();
    if (process.env.WATERCOOLER_BROWSER_KEEP === '1') console.log(`node logs kept in ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`screenshots: ${outDir}`);
  const passed = results.filter((r) => r.ok).length;
  console.log(`${passed} of ${results.length} browser steps passed${failed ? ', FAILED' : ''}`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((error) => {
  console.error(error);
  killAll();
  process.exitCode = 1;
});
