// Shared start-up for the real-browser tests: the built `scorecard` binary on a free port
// with a fresh data folder, Debian's chromium through playwright-core, and pages that
// record anything that goes wrong underneath them.
//
//   SCORECARD_BIN   the binary to run (default: ../target/debug/scorecard from this folder)
//   CHROMIUM_BIN    the browser to drive (default: /usr/bin/chromium)
//
// Not a test file itself (node --test only picks up *.test.mjs). Nothing is written into
// the repository.

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
export const SCORECARD_BIN = resolve(
  here,
  process.env.SCORECARD_BIN || '../target/debug/scorecard',
);
export const CHROMIUM_BIN = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const HEALTH_TIMEOUT_MS = 30_000;
export const ACTION_TIMEOUT_MS = 10_000;
// A scorecard page: /s/ and a 43-character base64url token, nothing after it in the path
// (a query such as ?saved=added may follow).
export const SCORECARD_PATH = /^\/s\/[A-Za-z0-9_-]{43}$/;
export const SCORECARD_URL = (url) => SCORECARD_PATH.test(url.pathname);

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

/**
 * Starts the server and waits for /healthz to answer 200. Returns
 * `{ baseUrl, log(), stop() }`; `stop()` also removes the data folder.
 */
export async function startServer() {
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
        // An unref'd timer: once the server has exited, a pending one must not keep
        // the test process alive for the rest of the grace period.
        const stopped = await Promise.race([exit, sleep(5_000, null, { ref: false })]);
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

/** Launches headless chromium. */
export function launchBrowser() {
  return chromium.launch({
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
}

/**
 * A fresh context (cookies, cache: one participant) with one page, and a record of
 * anything that went wrong underneath the page: script errors, failed requests, server
 * errors. Returns `{ context, page, problems }`; `problems` is a live array.
 */
export async function openWatchedPage(browser, server) {
  const context = await browser.newContext({ baseURL: server.baseUrl });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // HTTP statuses are judged by the response listener below.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      problems.push(`console error: ${message.text()}`);
    }
  });
  page.on('requestfailed', (request) => {
    const reason = request.failure()?.errorText ?? '';
    // Leaving a page cancels what it was still loading (often the favicon, or the live
    // event stream): not a fault.
    if (reason !== 'net::ERR_ABORTED') problems.push(`request failed: ${request.url()} ${reason}`);
  });
  page.on('response', (response) => {
    const isDocument = response.request().resourceType() === 'document';
    // A form re-rendered with errors (or an edit conflict) may answer 4xx; a
    // sub-resource never should.
    if (response.status() >= 500 || (!isDocument && response.status() >= 400)) {
      problems.push(`HTTP ${response.status()} for ${response.url()}`);
    }
  });
  return { context, page, problems };
}

/** The text of the one element matching `selector`, whitespace collapsed. */
export async function textOf(page, selector) {
  return (await page.locator(selector).textContent()).replace(/\s+/g, ' ').trim();
}
