// Real-browser smoke test: starts the built `scorecard` binary on a free port with a fresh
// data folder, then drives Debian's chromium through playwright-core (start-up shared with
// the other browser tests in harness.mjs).
//
//   SCORECARD_BIN   the binary to run (default: ../target/debug/scorecard from this folder)
//   CHROMIUM_BIN    the browser to drive (default: /usr/bin/chromium)
//
// Run with `node --test` from this folder. Nothing is written into the repository.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { SCORECARD_URL, launchBrowser, openWatchedPage, startServer, textOf } from './harness.mjs';

describe('scorecard in a real browser', { timeout: 90_000 }, () => {
  let server;
  let browser;
  let context;
  let page;
  let problems;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
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
    ({ context, page, problems } = await openWatchedPage(browser, server));
    return page;
  }

  function assertNoProblems() {
    assert.deepEqual(problems, [], `problems under the page; server log:\n${server.log()}`);
  }

  function text(selector) {
    return textOf(page, selector);
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
