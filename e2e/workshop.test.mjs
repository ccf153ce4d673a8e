// Real-browser test of the live workshop: two participants, each in their own browser
// context (their own cookies), on one scorecard. Covers live updates over the event
// stream, the stale-save conflict page and a silent vote on the gate walk.
//
//   SCORECARD_BIN   the binary to run (default: ../target/debug/scorecard from this folder)
//   CHROMIUM_BIN    the browser to drive (default: /usr/bin/chromium)
//
// Run with `node --test` from this folder. The steps share one scorecard and run in
// order; once one fails, the rest are skipped.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { SCORECARD_URL, launchBrowser, openWatchedPage, startServer, textOf } from './harness.mjs';

// How long a change may take to reach another participant's open page.
const LIVE_TIMEOUT_MS = 10_000;
const WORKFLOW = 'Claims triage assistant';
const CONFLICT_TITLE = 'Someone else saved this workflow while you were editing';

describe('live workshop with two participants', { timeout: 60_000 }, () => {
  let server;
  let browser;
  /** @type {{ name: string, context: any, page: any, problems: string[] }} */
  let ada;
  /** @type {{ name: string, context: any, page: any, problems: string[] }} */
  let bo;
  let scorecardUrl;
  let workflowId;
  let broken = false;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    ada = { name: 'Ada', ...(await openWatchedPage(browser, server)) };
    bo = { name: 'Bo', ...(await openWatchedPage(browser, server)) };
  });

  after(async () => {
    // Each step guarded so one failure cannot leave the server or browser running.
    await ada?.context.close().catch(() => {});
    await bo?.context.close().catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  /** A test that needs every earlier step to have passed. */
  function step(name, body) {
    test(name, async (t) => {
      if (broken) {
        t.skip('an earlier step failed');
        return;
      }
      try {
        await body();
        assertNoProblems();
      } catch (error) {
        broken = true;
        throw error;
      }
    });
  }

  function assertNoProblems() {
    for (const who of [ada, bo]) {
      assert.deepEqual(
        who.problems,
        [],
        `problems under ${who.name}'s page; server log:\n${server.log()}`,
      );
    }
  }

  /**
   * Runs `action` (a click that submits a form or follows a link) and waits until the
   * page it leads to has loaded, even when that page has the same address as this one.
   */
  async function navigate(page, action) {
    await page.evaluate(() => {
      window.__e2eLeaving = true;
    });
    await action();
    await page.waitForFunction(() => !window.__e2eLeaving && document.readyState === 'complete');
  }

  /** Marks the document now in the page, so a later reload or navigation shows. */
  async function stay(page) {
    await page.evaluate(() => {
      window.__e2eStayed = true;
    });
  }

  async function assertStayed(who, what) {
    assert.equal(
      await who.page.evaluate(() => window.__e2eStayed === true),
      true,
      `${who.name}'s page was reloaded or left while waiting for ${what}`,
    );
  }

  /**
   * Waits (bounded) until the element matching `selector` in `who`'s page has exactly
   * the text `expected` (whitespace collapsed).
   */
  async function waitForText(who, selector, expected, timeout = LIVE_TIMEOUT_MS) {
    try {
      await who.page.waitForFunction(
        ([sel, want]) => {
          const el = document.querySelector(sel);
          return el !== null && el.textContent.replace(/\s+/g, ' ').trim() === want;
        },
        [selector, expected],
        { timeout, polling: 100 },
      );
    } catch (error) {
      const actual = await who.page
        .locator(selector)
        .first()
        .textContent({ timeout: 100 })
        .then((t) => t.replace(/\s+/g, ' ').trim())
        .catch(() => '(no such element)');
      assert.fail(
        `${who.name}: ${selector} should read ${JSON.stringify(expected)} within ${timeout} ms, ` +
          `reads ${JSON.stringify(actual)} (${error.message.split('\n')[0]})`,
      );
    }
  }

  async function join(who) {
    const { page } = who;
    await page.fill('form.ask-name input#display_name', who.name);
    await navigate(page, () => page.click('form.ask-name button:has-text("Join")'));
    assert.equal(await textOf(page, '.participant strong'), who.name);
    assert.equal(await page.locator('form.ask-name').count(), 0, 'no longer asked for a name');
  }

  function ownerCell(id) {
    return `#wf-${id} td[data-label="Owner"]`;
  }

  step('both participants open the same scorecard and name themselves', async () => {
    const { page } = ada;
    await page.goto('/');
    await page.fill('input#name', 'E2E workshop');
    await page.fill('input#currency', 'USD');
    await navigate(page, () => page.click('form[action="/scorecards"] button[type="submit"]'));
    assert.ok(SCORECARD_URL(new URL(page.url())), `landed on ${page.url()}`);
    const url = new URL(page.url());
    scorecardUrl = `${url.origin}${url.pathname}`;
    await join(ada);
    assert.equal(new URL(page.url()).pathname, url.pathname, 'naming oneself comes back');

    // Bo follows the copied edit link.
    await bo.page.goto(scorecardUrl);
    assert.equal(await textOf(bo.page, 'h1.scorecard-name'), 'E2E workshop');
    await join(bo);
    assert.equal(bo.page.url(), scorecardUrl);
    assert.equal(await textOf(bo.page, '#total-spend'), 'USD 0.00');
    assert.match(await textOf(bo.page, '.workflows .empty'), /No workflows yet/);
  });

  step("Ada adds a workflow; Bo's open page shows it without a reload", async () => {
    await stay(bo.page);

    const { page } = ada;
    await navigate(page, () => page.click('nav.actions a:has-text("Add workflow")'));
    assert.match(page.url(), /\/workflows\/new$/);
    await page.fill('#name', WORKFLOW);
    await page.selectOption('#current_tier', 'frontier');
    await page.fill('#monthly_spend', '1000');
    await page.fill('#owner', 'Grace Hopper');
    await page.fill('#metric', 'Claims closed per hour');
    await page.check('input[name="business_case"][value="yes"]');
    await page.check('input[name="defended"][value="yes"]');
    await page.check('input[name="stakes"][value="no"]');
    await page.check('input[name="ambiguity"][value="no"]');
    await navigate(page, () => page.click('form.workflow-form button[type="submit"]'));
    assert.ok(SCORECARD_URL(new URL(page.url())), `back on the scorecard, at ${page.url()}`);
    assert.equal(await textOf(page, '#total-spend'), 'USD 1,000.00');

    await waitForText(bo, 'table.wf tbody tr .wf-name', WORKFLOW);
    await waitForText(bo, '#total-spend', 'USD 1,000.00');
    await assertStayed(bo, 'the new workflow');
    assert.equal(bo.page.url(), scorecardUrl);
    assert.equal(await bo.page.locator('table.wf tbody tr').count(), 1);
    assert.equal(await bo.page.locator('.workflows .empty').count(), 0);

    const rowId = await bo.page.locator('table.wf tbody tr').getAttribute('id');
    workflowId = rowId.replace(/^wf-/, '');
    assert.match(workflowId, /^\d+$/);
  });

  step('a stale save shows the conflict page; "Save mine over theirs" wins', async () => {
    // Both open the edit form from their scorecard page (Bo's link arrived live).
    const editLink = `a[aria-label="Edit ${WORKFLOW}"]`;
    for (const who of [ada, bo]) {
      await navigate(who.page, () => who.page.click(editLink));
      assert.match(who.page.url(), new RegExp(`/workflows/${workflowId}/edit$`));
      assert.equal(await who.page.inputValue('#owner'), 'Grace Hopper');
    }
    const versionInput = 'form.workflow-form input[type="hidden"][name="version"]';
    const loadedAt = await ada.page.inputValue(versionInput);
    assert.equal(await bo.page.inputValue(versionInput), loadedAt, 'both loaded one version');

    // Ada saves first.
    await ada.page.fill('#owner', 'Ada Lovelace');
    await navigate(ada.page, () => ada.page.click('form.workflow-form button[type="submit"]'));
    assert.ok(SCORECARD_URL(new URL(ada.page.url())), `Ada on the scorecard: ${ada.page.url()}`);
    assert.equal(await textOf(ada.page, ownerCell(workflowId)), 'Ada Lovelace');
    await stay(ada.page);

    // Bo's form still carries the version he loaded.
    assert.equal(await bo.page.inputValue(versionInput), loadedAt);
    await bo.page.fill('#owner', 'Bo Diddley');
    const savePath = new URL(`${scorecardUrl}/workflows/${workflowId}`).pathname;
    const saved = bo.page.waitForResponse(
      (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === savePath,
    );
    saved.catch(() => {}); // judged below; never an unhandled rejection if the click fails
    await navigate(bo.page, () => bo.page.click('form.workflow-form button[type="submit"]'));
    assert.equal((await saved).status(), 409, 'a stale save answers 409 Conflict');
    assert.equal(await textOf(bo.page, 'h1'), CONFLICT_TITLE);

    const ownerRow = bo.page.locator('table.conflict-table tbody tr', {
      has: bo.page.locator('th', { hasText: /^owner\b/ }),
    });
    assert.equal(await ownerRow.count(), 1, 'one owner row');
    const [yours, savedNow] = (await ownerRow.locator('td').allTextContents()).map((t) => t.trim());
    assert.deepEqual({ yours, savedNow }, { yours: 'Bo Diddley', savedNow: 'Ada Lovelace' });
    assert.match((await ownerRow.getAttribute('class')) ?? '', /\bdiffers\b/);
    const headers = (await bo.page.locator('table.conflict-table thead th').allTextContents())
      .map((t) => t.trim());
    assert.deepEqual(headers, ['Field', 'Yours', 'Saved now']);
    const differing = await bo.page
      .locator('table.conflict-table tbody tr.differs th')
      .evaluateAll((cells) => cells.map((th) => th.firstChild.textContent.trim()));
    assert.deepEqual(differing, ['owner'], 'only the owner differs');

    await navigate(bo.page, () => bo.page.click('button:has-text("Save mine over theirs")'));
    assert.ok(SCORECARD_URL(new URL(bo.page.url())), `Bo back on the scorecard: ${bo.page.url()}`);
    assert.match(await textOf(bo.page, '.notice'), /Saved/);
    assert.equal(await textOf(bo.page, ownerCell(workflowId)), 'Bo Diddley');
    assert.equal(await textOf(bo.page, '#total-spend'), 'USD 1,000.00', 'nothing else changed');

    // Ada, still on the scorecard, sees Bo's owner arrive.
    await waitForText(ada, ownerCell(workflowId), 'Bo Diddley');
    await assertStayed(ada, "Bo's save");
  });

  step('a silent vote: ballots counted live, the reveal reaches everyone', async () => {
    for (const who of [ada, bo]) {
      await navigate(who.page, () => who.page.click('nav.actions a:has-text("Gate walk")'));
      assert.match(who.page.url(), new RegExp(`/walk/${workflowId}$`), `${who.name} on the walk`);
      assert.equal(await textOf(who.page, 'h1.walk-title'), WORKFLOW);
    }
    assert.match(await textOf(bo.page, '.vote-panel'), /No vote on this workflow yet/);
    await stay(bo.page);

    // Ada opens the vote; Bo's ballot buttons appear without a reload.
    await navigate(ada.page, () =>
      ada.page.click('button:has-text("Open a silent vote on the verdict")'),
    );
    assert.equal(await textOf(ada.page, '#vote-count'), '0 votes cast');
    await waitForText(bo, '#vote-count', '0 votes cast');
    await bo.page.locator('.vote-panel button.big[name="verdict"][value="pause"]').waitFor({
      timeout: LIVE_TIMEOUT_MS,
    });
    await assertStayed(bo, 'the vote to open');
    const choices = await bo.page
      .locator('.vote-panel button.big[name="verdict"]')
      .evaluateAll((buttons) => buttons.map((b) => b.value));
    assert.deepEqual(choices, ['fund', 'pause', 'kill']);

    // Ada votes fund; Bo's page counts it.
    await navigate(ada.page, () =>
      ada.page.click('.vote-panel button.big[name="verdict"][value="fund"]'),
    );
    assert.equal(await textOf(ada.page, '#vote-count'), '1 vote cast');
    assert.match(await textOf(ada.page, '.vote-panel'), /Your vote: fund/);
    await waitForText(bo, '#vote-count', '1 vote cast');
    await assertStayed(bo, "Ada's ballot");
    assert.doesNotMatch(
      await textOf(bo.page, '.vote-panel'),
      /fund 1|Your vote/,
      'ballots stay hidden',
    );
    await stay(ada.page);

    // Bo votes pause; Ada's page counts it.
    await navigate(bo.page, () =>
      bo.page.click('.vote-panel button.big[name="verdict"][value="pause"]'),
    );
    assert.equal(await textOf(bo.page, '#vote-count'), '2 votes cast');
    assert.match(await textOf(bo.page, '.vote-panel'), /Your vote: pause/);
    await waitForText(ada, '#vote-count', '2 votes cast');
    await assertStayed(ada, "Bo's ballot");
    assert.match(await textOf(ada.page, '.vote-panel'), /Your vote: fund/, 'her own vote stays');
    await stay(bo.page);

    // Ada reveals; Bo's page shows the result and the disagreement without a reload.
    await navigate(ada.page, () => ada.page.click('.vote-panel button:has-text("Reveal")'));
    const result = 'fund 1, pause 1, kill 0; result: split, no majority';
    assert.equal(await textOf(ada.page, '#vote-result'), result);
    await waitForText(bo, '#vote-result', result);
    await waitForText(bo, '#vote-disagreement', 'Disagreement: the room is not of one mind');
    await assertStayed(bo, 'the reveal');
    assert.equal(await bo.page.locator('#vote-count').count(), 0, 'the count is gone');
    const ballotButtons = bo.page.locator('.vote-panel button[name="verdict"]');
    assert.equal(await ballotButtons.count(), 0, 'voting closed');
    assert.match(await textOf(bo.page, '.vote-panel'), /Ada: fund · Bo: pause/);
  });
});
