// Real-browser smoke test: starts the built `scorecard` binary on a free port with a fresh
// data folder, then drives Debian's chromium through playwright-core.
//
//   SCORECARD_BIN   the binary to run (default: ../target/debug/scorecard from this folder)
//   CHROMIUM_BIN    the browser to drive (default: /usr/bin/chromium)
//
// Run with `node --test` from this folder. Nothing is written into the repository.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const SCORECARD_BIN = resolve(here, process.env.SCORECARD_BIN || '../target/debug/scorecard');
const CHROMIUM_BIN = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const HEALTH_TIMEOUT_MS = 30_000;
const ACTION_TIMEOUT_MS = 10_000;
// A scorecard page: /s/ and a 43-character base64url token, nothing after it in the path
// (a query such as ?saved=added may follow).
const SCORECARD_PATH = /^\/s\/[A-Za-z0-9_-]{43}$/;
const SCORECARD_URL = (url) => SCORECARD_PATH.test(url.pathname);

/** A TCP port that was free a moment ago on 127.0.0.1. */
function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** Starts the server and waits for /healthz to answer 200. */
async function startServer() {
  assert.ok(
    existsSync(SCORECARD_BIN),
    `no scorecard binary at ${SCORECARD_BIN}: run \`cargo build\` or set SCORECARD_BIN`,
  );
  const dataDir = mkdtempSync(join(tmpdir(), 'scorecard-e2e-data-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;

  // Flags win over the environment, but SCORECARD_DATABASE_URL would override
  // --data-dir, so keep the caller's SCORECARD_* settings away from the server.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('SCORECARD_')),
  );
  const child = spawn(SCORECARD_BIN, ['--bind', `127.0.0.1:${port}`, '--data-dir', dataDir], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (chunk) => {
    log = (log + chunk).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  const exit = new Promise((resolveExit) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolveExit(exited);
    });
    child.on('error', (error) => {
      exited = { error };
      resolveExit(exited);
    });
  });

  const server = {
    baseUrl,
    log: () => log,
    async stop() {
      if (exited === null) {
        child.kill('SIGTERM');
        const stopped = await Promise.race([exit, sleep(5_000).then(() => null)]);
        if (stopped === null) {
          child.kill('SIGKILL');
          await exit;
        }
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };

  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  for (;;) {
    if (exited !== null) {
      await server.stop();
      throw new Error(`scorecard exited before it was healthy (${JSON.stringify(exited)}):\n${log}`);
    }
    try {
      const response = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(1_000) });
      if (response.status === 200) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`/healthz did not answer 200 within ${HEALTH_TIMEOUT_MS} ms:\n${log}`);
    }
    await sleep(100);
  }
}

describe('scorecard in a real browser', { timeout: 90_000 }, () => {
  let server;
  let browser;
  let context;
  let page;
  let problems;

  before(async () => {
    server = await startServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM_BIN,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
        '--disable-quic',
      ],
    });
  });

  after(async () => {
    // Each step guarded so one failure cannot leave the server or browser running.
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  // A fresh context (cookies, cache) per test, and a record of anything that went wrong
  // underneath the page: script errors, failed requests, server errors.
  async function openPage() {
    await context?.close().catch(() => {});
    context = await browser.newContext({ baseURL: server.baseUrl });
    context.setDefaultTimeout(ACTION_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
    page = await context.newPage();
    problems = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      // HTTP statuses are judged by the response listener below.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        problems.push(`console error: ${message.text()}`);
      }
    });
    page.on('requestfailed', (request) => {
      const reason = request.failure()?.errorText ?? '';
      // Leaving a page cancels what it was still loading (often the favicon): not a fault.
      if (reason !== 'net::ERR_ABORTED') problems.push(`request failed: ${request.url()} ${reason}`);
    });
    page.on('response', (response) => {
      const isDocument = response.request().resourceType() === 'document';
      // A form re-rendered with errors may answer 4xx; a sub-resource never should.
      if (response.status() >= 500 || (!isDocument && response.status() >= 400)) {
        problems.push(`HTTP ${response.status()} for ${response.url()}`);
      }
    });
    return page;
  }

  function assertNoProblems() {
    assert.deepEqual(problems, [], `problems under the page; server log:\n${server.log()}`);
  }

  async function text(selector) {
    return (await page.locator(selector).textContent()).replace(/\s+/g, ' ').trim();
  }

  async function startScorecard(name) {
    await page.goto('/');
    await page.fill('input#name', name);
    await page.fill('input#currency', 'USD');
    await page.click('form[action="/scorecards"] button[type="submit"]');
    await page.waitForURL(SCORECARD_URL);
    assert.equal(await text('h1.scorecard-name'), name);
    const url = new URL(page.url());
    return `${url.origin}${url.pathname}`;
  }

  async function fillWorkflow({ name, spend }) {
    await page.fill('#name', name);
    await page.selectOption('#current_tier', 'frontier');
    await page.fill('#monthly_spend', spend);
    await page.fill('#owner', 'Ada Lovelace');
    await page.fill('#metric', 'Claims closed per hour');
    await page.fill('#next_step', 'Route to a small model by Q3');
    await page.check('input[name="business_case"][value="yes"]');
    await page.check('input[name="defended"][value="yes"]');
    await page.check('input[name="stakes"][value="no"]');
    await page.check('input[name="ambiguity"][value="no"]');
  }

  test('start a scorecard, add a workflow, see the numbers change', async () => {
    await openPage();
    const scorecardUrl = await startScorecard('E2E smoke scorecard');

    assert.match(await text('.workflows .empty'), /No workflows yet/);
    assert.equal(await text('#total-spend'), 'USD 0.00');

    await page.click('nav.actions a:has-text("Add workflow")');
    await page.waitForURL(/\/workflows\/new$/);
    await fillWorkflow({ name: 'Claims triage assistant', spend: '12500' });
    await page.click('form.workflow-form button[type="submit"]');
    await page.waitForURL(SCORECARD_URL);
    const landed = new URL(page.url());
    assert.equal(`${landed.origin}${landed.pathname}`, scorecardUrl, 'back on the same scorecard');
    assert.match(await text('.notice'), /Saved/);

    assert.equal(await text('#total-spend'), 'USD 12,500.00');
    assert.equal(await text('#leakage'), 'USD 11,250.00');
    assert.equal(await text('#score'), '75');
    const names = await page.locator('table.wf tbody tr .wf-name').allTextContents();
    assert.deepEqual(names, ['Claims triage assistant']);
    assert.equal(await page.locator('.workflows .empty').count(), 0);
    assertNoProblems();
  });

  test('a bad field re-renders the form with an error and keeps what was typed', async () => {
    await openPage();
    const scorecardUrl = await startScorecard('E2E bad field scorecard');

    await page.goto(`${scorecardUrl}/workflows/new`);
    await fillWorkflow({ name: 'Fraud screening bot', spend: '12,5x' });
    await page.click('form.workflow-form button[type="submit"]');

    const error = page.locator('#monthly_spend-error.field-error');
    await error.waitFor();
    assert.notEqual(await text('#monthly_spend-error'), '');
    assert.equal(await page.locator('.field-error').count(), 1, 'only the spend field is wrong');
    assert.match(await text('.error-summary'), /Nothing was saved/);
    assert.equal(await page.inputValue('#name'), 'Fraud screening bot');
    assert.equal(await page.inputValue('#monthly_spend'), '12,5x');
    assert.equal(await page.inputValue('#owner'), 'Ada Lovelace');
    assert.equal(await page.inputValue('#current_tier'), 'frontier');

    // Nothing reached the scorecard.
    await page.goto(scorecardUrl);
    assert.match(await text('.workflows .empty'), /No workflows yet/);
    assert.equal(await text('#total-spend'), 'USD 0.00');
    assertNoProblems();
  });

  test('the demo opens from the landing page with its workflows', async () => {
    await openPage();
    await page.goto('/');
    await page.click('form[action="/demo"] button:has-text("Open the demo")');
    await page.waitForURL(SCORECARD_URL);

    const rows = await page.locator('table.wf tbody tr').count();
    assert.ok(rows >= 12, `the demo shows ${rows} workflows, expected at least 12`);
    assert.notEqual(await text('#total-spend'), 'USD 0.00');
    assertNoProblems();
  });
});
