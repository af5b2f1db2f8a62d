/**
 * Rich messages in the view (issue #20), end to end: three people (Alice,
 * Bob, Carol), each in their own Chromium with the built extension, over a
 * real relay process. Nothing is mocked. Every step is done the way a person
 * does it (hover a message, press its action, type, press Enter) and checked
 * on the other people's screens: a reply's quote, and pressing it scrolls to
 * the original; reactions added and taken back (counts and who reacted); an
 * edit ("edited", earlier versions); a delete for everyone; the disappearing
 * timer (header and system message); a search (found by the edited words,
 * marked, choosing the hit scrolls to it; edited-away and deleted words not
 * found). Screenshots: artifacts/e2e/rich-*.png.
 *
 * Files and images (9.): Alice picks a 5 MiB image and a 20 MiB file at
 * once; Bob and Carol see the image's preview and the file's card, download
 * both, and save them to disk, where the bytes are compared with what Alice
 * sent (SHA-256).
 * Search (7.) and mentions (8.) have their own steps. Then (10.) what was sent
 * under Bob's 5-minute timer (the mention and both files) vanishes by itself
 * from every device's raw IndexedDB, file chunks included, and from every open
 * screen (list, files, Carol's search hits) without reopening anything.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AxePuppeteer } from '@axe-core/puppeteer';
import type { ElementHandle } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversation, createInvite, joinByLink, onboard, openBrowser, send, waitForMessage, STEP_TIMEOUT, type ChatUser } from '../support/chat-driver.ts';
import { ARTIFACTS_DIR, snapshotExtension } from '../support/extension.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';

/** Distinctive texts, so a match is never chance. */
function text(t: string): string {
  return `${t} [rich-${Math.random().toString(36).slice(2, 8)}]`;
}

/**
 * The panel as the person sees it. Not the full-page capture of `screenshot`: capturing beyond the viewport lays the
 * page out again at another size, and the virtualised list was caught half re-rendered (blank) in that frame.
 */
async function shot(user: ChatUser, step: string): Promise<void> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  await user.page.screenshot({ path: path.join(ARTIFACTS_DIR, `rich-${step}-${user.name.toLowerCase()}.png`), fullPage: false, captureBeyondViewport: false });
}

/** Wait until `text` is nowhere in the page; on timeout, say where it still is. */
async function waitGone(user: ChatUser, text: string): Promise<void> {
  const deadline = Date.now() + STEP_TIMEOUT;
  for (;;) {
    const where = await user.page.evaluate((t: string) => {
      const out: string[] = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n !== null; n = walker.nextNode()) {
        if (!n.textContent?.includes(t)) continue;
        const el = n.parentElement;
        out.push(`${el?.tagName}.${el?.className} testid=${el?.closest('[data-testid]')?.getAttribute('data-testid')}`);
      }
      for (const f of document.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>('input, textarea')) if (f.value.includes(t)) out.push(`field ${f.dataset.testid}`);
      return out;
    }, text);
    if (where.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${user.name} still shows the deleted text in: ${where.join('; ')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The rendered row of the text message showing `body`, scrolled into view first (the list is virtualised: scroll until it renders). */
async function rowOf(user: ChatUser, body: string): Promise<ElementHandle<HTMLElement>> {
  await user.page.waitForFunction(
    (b: string) => {
      const rows = [...document.querySelectorAll<HTMLElement>('[data-testid="message"][data-kind="text"]')];
      const row = rows.find((m) => m.querySelector('[data-testid="message-text"]')?.textContent === b);
      if (row !== undefined) {
        row.scrollIntoView({ block: 'center' });
        return true;
      }
      // Not rendered: walk up the history a screen at a time until it is (from the top, start again at the bottom).
      const scroller = document.querySelector<HTMLElement>('[data-testid="message-list"]');
      if (scroller !== null) scroller.scrollTop = scroller.scrollTop === 0 ? scroller.scrollHeight : Math.max(0, scroller.scrollTop - scroller.clientHeight);
      return false;
    },
    { timeout: STEP_TIMEOUT, polling: 250 },
    body,
  );
  const handle = await user.page.evaluateHandle((b: string) => {
    const rows = [...document.querySelectorAll<HTMLElement>('[data-testid="message"][data-kind="text"]')];
    return rows.find((m) => m.querySelector('[data-testid="message-text"]')?.textContent === b)!;
  }, body);
  return handle as ElementHandle<HTMLElement>;
}

/** Hover a message and press one of its actions. */
async function act(user: ChatUser, body: string, action: 'reply' | 'react' | 'edit' | 'delete'): Promise<void> {
  const row = await rowOf(user, body);
  await row.hover();
  const button = await row.waitForSelector(`[data-testid="action-${action}"]`, { timeout: STEP_TIMEOUT });
  await button!.click();
}

/** The reaction chips under the message showing `body`: emoji → { count, people }. */
async function chipsOf(user: ChatUser, body: string): Promise<Record<string, { count: number; title: string; mine: boolean }>> {
  const row = await rowOf(user, body);
  return row.$$eval('[data-testid="reaction"]', (chips) =>
    Object.fromEntries(
      chips.map((c) => [c.getAttribute('data-emoji'), { count: Number(c.getAttribute('data-count')), title: c.getAttribute('title') ?? '', mine: c.getAttribute('data-mine') === 'true' }]),
    ),
  );
}

/** Wait until the message showing `body` has exactly these reaction counts on `user`'s screen. */
async function waitForReactions(user: ChatUser, body: string, counts: Record<string, number>): Promise<void> {
  await user.page.waitForFunction(
    (b: string, want: Record<string, number>) => {
      const rows = [...document.querySelectorAll<HTMLElement>('[data-testid="message"][data-kind="text"]')];
      const row = rows.find((m) => m.querySelector('[data-testid="message-text"]')?.textContent === b);
      if (row === undefined) return false;
      const have = Object.fromEntries([...row.querySelectorAll('[data-testid="reaction"]')].map((c) => [c.getAttribute('data-emoji'), Number(c.getAttribute('data-count'))]));
      return JSON.stringify(Object.entries(have).sort()) === JSON.stringify(Object.entries(want).sort());
    },
    { timeout: STEP_TIMEOUT, polling: 200 },
    body,
    counts,
  );
}

/** The header's timer control, as each person sees it. */
async function timerOf(user: ChatUser): Promise<{ seconds: string; label: string; title: string }> {
  return user.page.$eval('[data-testid="timer-button"]', (b) => ({
    seconds: b.getAttribute('data-seconds') ?? '',
    label: b.querySelector('[data-testid="timer-label"]')?.textContent ?? '',
    title: b.getAttribute('title') ?? '',
  }));
}

describe('rich messages end to end: three people, a real relay', () => {
  let extension: { dir: string; id: string };
  let relay: RelayProcess;
  let alice: ChatUser;
  let bob: ChatUser;
  let carol: ChatUser;
  let everyone: ChatUser[] = [];
  const profiles: string[] = [];
  const original = text('Shall we meet at the lake on Saturday?');

  beforeAll(async () => {
    extension = snapshotExtension();
    relay = await startRelay({ args: ['--extra-rp-ids', `${extension.id},chrome-extension://${extension.id}`] });
    [alice, bob, carol] = await Promise.all([
      openBrowser('Alice', { extensionDir: extension.dir, prf: false }),
      openBrowser('Bob', { extensionDir: extension.dir, prf: false }),
      openBrowser('Carol', { extensionDir: extension.dir, prf: false }),
    ]);
    everyone = [alice, bob, carol];
    profiles.push(alice.profileDir, bob.profileDir, carol.profileDir);
    for (const u of everyone) await onboard(u, relay.url);
    const conversationId = await createConversation(alice, 'Lake trip');
    expect(await joinByLink(bob, await createInvite(alice, 'one-time'))).toBe(conversationId);
    expect(await joinByLink(carol, await createInvite(alice, 'one-time'))).toBe(conversationId);
  });

  afterAll(async () => {
    for (const u of everyone) await u?.ext.close();
    await relay?.stop();
    for (const dir of [...profiles, relay?.dataDir, extension?.dir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('1. a reply shows its quote on every screen, and pressing the quote scrolls to the original, far up', async () => {
    await send(alice, original);
    for (const u of [bob, carol]) await waitForMessage(u, original, { sender: 'Alice' });
    // Enough messages after it that the original is out of view (and out of the rendered window) on a 720 px panel.
    let last = '';
    for (let i = 1; i <= 14; i++) {
      last = text(`Filler ${i}: packing list item`);
      await send(carol, last, { waitSent: i === 14 });
    }
    for (const u of [alice, bob]) await waitForMessage(u, last, { sender: 'Carol' });

    await act(bob, original, 'reply');
    const context = await bob.page.waitForSelector('[data-testid="composer-context"][data-kind="reply"]', { timeout: STEP_TIMEOUT });
    expect(await context!.$eval('[data-testid="composer-context-title"]', (e) => e.textContent)).toBe('Replying to Alice');
    expect(await context!.$eval('[data-testid="composer-context-preview"]', (e) => e.textContent)).toBe(original);
    await shot(bob, '01a-replying');
    const reply = text('Yes, 10 am at the north shore');
    await send(bob, reply);
    expect(await bob.page.$('[data-testid="composer-context"]')).toBeNull();

    for (const u of everyone) {
      await waitForMessage(u, reply, { sender: 'Bob' });
      const row = await rowOf(u, reply);
      const quote = await row.waitForSelector('[data-testid="quote"]', { timeout: STEP_TIMEOUT });
      expect(await quote!.evaluate((q) => q.getAttribute('data-state'))).toBe('shown');
      expect(await quote!.$eval('[data-testid="quote-text"]', (e) => e.textContent)).toBe(original);
      await shot(u, '01b-reply-quote');
    }

    // Carol is at the bottom: the original is far above, not even rendered. Pressing the quote brings it to the middle.
    const scroller = await carol.page.$('[data-testid="message-list"]');
    await scroller!.evaluate((s) => (s.scrollTop = s.scrollHeight));
    const replyRow = await rowOf(carol, reply);
    await (await replyRow.$('[data-testid="quote"]'))!.click();
    const target = await carol.page.waitForSelector('[data-testid="message"][data-highlighted="true"]', { timeout: STEP_TIMEOUT });
    expect(await target!.$eval('[data-testid="message-text"]', (e) => e.textContent)).toBe(original);
    const inView = await target!.evaluate((el) => {
      const list = document.querySelector('[data-testid="message-list"]')!.getBoundingClientRect();
      const r = el.getBoundingClientRect();
      return r.top >= list.top && r.bottom <= list.bottom;
    });
    expect(inView).toBe(true);
    expect(await carol.page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('message');
    await shot(carol, '01c-jumped-to-original');
  });

  it('2. reactions: added with the picker and with any emoji, counted with who reacted on the others’ screens, and taken back', async () => {
    await act(bob, original, 'react');
    await bob.page.waitForSelector('[data-testid="reaction-picker"]', { timeout: STEP_TIMEOUT });
    await shot(bob, '02a-picker');
    await bob.page.click('[data-testid="reaction-picker"] [data-emoji="👍"]');

    // The picker is loaded the first time it is shown (its own chunk): wait for it as a person would.
    await act(carol, original, 'react');
    await carol.page.waitForSelector('[data-testid="reaction-picker"] [data-emoji="👍"]', { timeout: STEP_TIMEOUT });
    await carol.page.click('[data-testid="reaction-picker"] [data-emoji="👍"]');
    // Any emoji: typed in the picker's field.
    await act(carol, original, 'react');
    await carol.page.waitForSelector('[data-testid="any-emoji"]', { timeout: STEP_TIMEOUT });
    await carol.page.type('[data-testid="any-emoji"]', '🎉');
    await carol.page.click('[data-testid="any-emoji-add"]');

    for (const u of everyone) await waitForReactions(u, original, { '👍': 2, '🎉': 1 });
    const seenByAlice = await chipsOf(alice, original);
    expect(seenByAlice['👍']!.title).toMatch(/^Bob and Carol reacted with 👍/);
    expect(seenByAlice['👍']!.mine).toBe(false);
    expect(seenByAlice['🎉']!.title).toMatch(/^Carol reacted with 🎉/);
    const seenByCarol = await chipsOf(carol, original);
    expect(seenByCarol['👍']!.mine).toBe(true);
    expect(seenByCarol['👍']!.title).toContain('You');
    for (const u of everyone) await shot(u, '02b-reactions');

    // Carol presses her own 👍 chip: hers is taken back everywhere, Bob's stays.
    const row = await rowOf(carol, original);
    await (await row.$('[data-testid="reaction"][data-emoji="👍"]'))!.click();
    for (const u of everyone) await waitForReactions(u, original, { '👍': 1, '🎉': 1 });
    expect((await chipsOf(alice, original))['👍']!.title).toMatch(/^Bob reacted with 👍/);
    expect((await chipsOf(bob, original))['👍']!.mine).toBe(true);
    for (const u of everyone) await shot(u, '02c-reaction-taken-back');
  });

  it('3. an edit: Alice fixes her message, everyone sees it "edited", and the earlier version is there to see', async () => {
    await act(alice, original, 'edit');
    await alice.page.waitForSelector('[data-testid="composer-context"][data-kind="edit"]', { timeout: STEP_TIMEOUT });
    expect(await alice.page.$eval('[data-testid="composer"]', (f) => (f as HTMLTextAreaElement).value)).toBe(original);
    await shot(alice, '03a-editing');
    const fixed = text('Shall we meet at the lake on Sunday?');
    // Replace the whole text: select it all, then type.
    await alice.page.focus('[data-testid="composer"]');
    await alice.page.$eval('[data-testid="composer"]', (f) => (f as HTMLTextAreaElement).select());
    await alice.page.type('[data-testid="composer"]', fixed);
    await alice.page.keyboard.press('Enter');
    await alice.page.waitForSelector('[data-testid="composer-context"]', { hidden: true, timeout: STEP_TIMEOUT });

    for (const u of everyone) {
      await waitForMessage(u, fixed, { sender: 'Alice' });
      const row = await rowOf(u, fixed);
      expect(await row.evaluate((r) => r.getAttribute('data-edited'))).toBe('true');
      expect(await row.$eval('[data-testid="edited"]', (e) => e.textContent)).toBe('edited');
    }
    // The reply's quote follows the original as it is now.
    const replyQuote = await bob.page.waitForFunction(
      (f: string) => [...document.querySelectorAll('[data-testid="quote-text"]')].some((q) => q.textContent === f),
      { timeout: STEP_TIMEOUT, polling: 200 },
      fixed,
    );
    expect(replyQuote).toBeTruthy();

    const row = await rowOf(bob, fixed);
    await (await row.$('[data-testid="edited"]'))!.click();
    const dialog = await bob.page.waitForSelector('[data-testid="versions-dialog"]', { timeout: STEP_TIMEOUT });
    expect(await dialog!.$$eval('[data-testid="version-text"]', (v) => v.map((e) => e.textContent))).toEqual([original]);
    await shot(bob, '03b-versions');
    await bob.page.keyboard.press('Escape');
    await bob.page.waitForSelector('[data-testid="versions-dialog"]', { hidden: true, timeout: STEP_TIMEOUT });
    await shot(carol, '03c-edited');
  });

  it('4. a delete for everyone: Carol takes back a message after confirming, and it is gone from every screen', async () => {
    const oops = text('Wrong chat, sorry: my bank PIN is 4321');
    await send(carol, oops);
    for (const u of [alice, bob]) await waitForMessage(u, oops, { sender: 'Carol' });

    await act(carol, oops, 'delete');
    const confirm = await carol.page.waitForSelector('[data-testid="confirm-dialog"]', { timeout: STEP_TIMEOUT });
    expect(await confirm!.evaluate((d) => d.textContent)).toContain('Delete for everyone?');
    await shot(carol, '04a-confirm-delete');
    await carol.page.click('[data-testid="confirm-dialog"] [data-testid="confirm"]');

    for (const u of everyone) {
      await u.page.waitForSelector('[data-testid="message"][data-deleted="true"]', { timeout: STEP_TIMEOUT });
      await waitGone(u, oops);
      const deleted = await u.page.$$eval('[data-testid="message"][data-deleted="true"] [data-testid="message-text"]', (els) => els.map((e) => e.textContent));
      expect(deleted).toEqual(['Message deleted']);
      await rowOf(u, 'Message deleted');
      await shot(u, '04b-deleted');
    }
  });

  it('5. a timer set to 5 minutes shows in every header, with the system message', async () => {
    for (const u of everyone) expect((await timerOf(u)).seconds).toBe('0');
    await bob.page.click('[data-testid="timer-button"]');
    await bob.page.waitForSelector('[data-testid="timer-menu"]', { timeout: STEP_TIMEOUT });
    await shot(bob, '05a-timer-menu');
    await bob.page.click('[data-testid="timer-300"]');

    for (const u of everyone) {
      await u.page.waitForSelector('[data-testid="timer-button"][data-seconds="300"]', { timeout: STEP_TIMEOUT });
      const timer = await timerOf(u);
      expect(timer.label).toBe('5 min');
      expect(timer.title).toBe('Disappearing messages: after 5 minutes');
      const line = u === bob ? 'You set messages to disappear after 5 minutes.' : 'Bob set messages to disappear after 5 minutes.';
      await u.page.waitForFunction(
        (l: string) => [...document.querySelectorAll('[data-testid="message"][data-kind="system"]')].some((m) => m.textContent?.includes(l)),
        { timeout: STEP_TIMEOUT, polling: 200 },
        line,
      );
      await shot(u, '05b-timer-set');
    }
  });

  it('6. right to left: the layout mirrors (own messages and their actions on the left, chips under them), nothing is cut off', async () => {
    // The page's direction as an Arabic browser sets it (languages.test.ts runs a whole Arabic browser); words stay English here.
    await alice.page.evaluate(() => (document.documentElement.dir = 'rtl'));
    const row = await rowOf(alice, await alice.page.$eval('[data-testid="message"][data-edited="true"] [data-testid="message-text"]', (e) => e.textContent ?? ''));
    await row.hover();
    const box = await row.$eval('.bubble', (b) => b.getBoundingClientRect().toJSON() as DOMRect);
    const actions = await row.$eval('[data-testid="message-actions"]', (b) => b.getBoundingClientRect().toJSON() as DOMRect);
    const width = await alice.page.evaluate(() => document.documentElement.clientWidth);
    expect(box.left).toBeLessThan(width / 2);
    expect(actions.left).toBeGreaterThan(box.right - 1);
    await (await row.$('[data-testid="action-react"]'))!.click();
    const picker = await alice.page.waitForSelector('[data-testid="reaction-picker"]', { timeout: STEP_TIMEOUT });
    const p = await picker!.evaluate((b) => b.getBoundingClientRect().toJSON() as DOMRect);
    expect(p.left).toBeGreaterThanOrEqual(0);
    expect(p.right).toBeLessThanOrEqual(width);
    await shot(alice, '06-rtl');
    await alice.page.keyboard.press('Escape');
    await alice.page.evaluate(() => (document.documentElement.dir = 'ltr'));
  });

  // --- search (#20): its own block, so other additions to this file merge beside it
  it('7. a search: the edited message is found by its new words, marked; choosing it scrolls there; the old words and the deleted message are not found', async () => {
    const search = async (user: ChatUser, query: string): Promise<string> => {
      const input = (await user.page.waitForSelector('[data-testid="search-input"]', { timeout: STEP_TIMEOUT }))!;
      await input.click({ count: 3 });
      await input.type(query);
      await user.page.keyboard.press('Enter');
      const status = await user.page.waitForFunction(
        () => {
          const s = document.querySelector<HTMLElement>('[data-testid="search-status"]')?.dataset.state;
          return s === 'found' || s === 'none' ? s : false;
        },
        { timeout: STEP_TIMEOUT, polling: 100 },
      );
      return (await status.jsonValue()) as string;
    };
    const scroller = await carol.page.$('[data-testid="message-list"]');
    await scroller!.evaluate((s) => (s.scrollTop = s.scrollHeight));
    await carol.page.click('[data-testid="search-button"]');
    // The search panel is loaded the first time it opens (its own chunk), then takes the focus: fails if it never does.
    await carol.page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'search-input', { timeout: STEP_TIMEOUT });
    await shot(carol, '07a-search-open');

    expect(await search(carol, 'LAKE sunday')).toBe('found');
    const hits = await carol.page.$$('[data-testid="search-result"]');
    expect(hits).toHaveLength(1);
    const marks = await hits[0]!.$$eval('[data-testid="search-mark"]', (ms) => ms.map((m) => m.textContent));
    expect(marks).toEqual(['lake', 'Sunday']);
    await shot(carol, '07b-search-results');
    await hits[0]!.click();
    const target = await carol.page.waitForSelector('[data-testid="message"][data-highlighted="true"]', { timeout: STEP_TIMEOUT });
    expect(await target!.$eval('[data-testid="message-text"]', (e) => e.textContent)).toContain('Shall we meet at the lake on Sunday?');
    const inView = await target!.evaluate((el) => {
      const list = document.querySelector('[data-testid="message-list"]')!.getBoundingClientRect();
      const r = el.getBoundingClientRect();
      return r.top >= list.top && r.bottom <= list.bottom;
    });
    expect(inView).toBe(true);
    await shot(carol, '07c-search-jumped');

    // Edited away, and deleted for everyone: not found, on any screen.
    expect(await search(carol, 'saturday')).toBe('none');
    expect(await search(carol, '4321')).toBe('none');
    await shot(carol, '07d-search-none');
    for (const u of [alice, bob]) {
      await u.page.click('[data-testid="search-button"]');
      await u.page.waitForSelector('[data-testid="search-scope-all"]', { timeout: STEP_TIMEOUT });
      await u.page.click('[data-testid="search-scope-all"]');
      expect(await search(u, 'packing list')).toBe('found');
      expect(await u.page.$$eval('[data-testid="search-result"]', (r) => r.length)).toBe(14);
      expect(await search(u, 'bank PIN')).toBe('none');
      await u.page.keyboard.press('Escape');
      await u.page.waitForFunction(() => document.querySelector('[data-testid="search-panel"]') === null, { timeout: STEP_TIMEOUT });
    }
  });

  // --- mentions (#20): its own block, beside the search
  it('8. a mention: "@" offers the people (axe-clean), the chosen one goes out marked, and shows as Bob’s own on his screen', async () => {
    const serious = async (user: ChatUser): Promise<string[]> =>
      (await new AxePuppeteer(user.page).analyze()).violations.filter((v) => v.impact === 'critical' || v.impact === 'serious').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    // Carol's search is still open from step 7: search again there, then check the panel with its results.
    if ((await carol.page.$('[data-testid="search-panel"]')) === null) await carol.page.click('[data-testid="search-button"]');
    await carol.page.click('[data-testid="search-input"]', { count: 3 });
    await carol.page.type('[data-testid="search-input"]', 'packing');
    await carol.page.waitForSelector('[data-testid="search-status"][data-state="found"]', { timeout: STEP_TIMEOUT });
    expect(await serious(carol)).toEqual([]);
    await carol.page.keyboard.press('Escape');

    await alice.page.click('[data-testid="composer"]');
    await alice.page.type('[data-testid="composer"]', 'Thanks @');
    const picker = await alice.page.waitForSelector('[data-testid="mention-picker"]', { timeout: STEP_TIMEOUT });
    const names = await picker!.$$eval('[data-testid="mention-option"]', (os) => os.map((o) => o.textContent));
    expect(names.sort()).toEqual(['@Bob', '@Carol']);
    expect(await serious(alice)).toEqual([]);
    await shot(alice, '08a-mention-picker');
    await alice.page.type('[data-testid="composer"]', 'Bo');
    await alice.page.waitForFunction(() => document.querySelectorAll('[data-testid="mention-option"]').length === 1, { timeout: STEP_TIMEOUT });
    await alice.page.keyboard.press('Enter');
    const body = text('for the lake plan');
    await alice.page.type('[data-testid="composer"]', body);
    await alice.page.keyboard.press('Enter');
    const sent = `Thanks @Bob ${body}`;
    for (const u of everyone) {
      if (u !== alice) await waitForMessage(u, sent, { sender: 'Alice' });
      const row = await rowOf(u, sent);
      const mark = await row.waitForSelector('[data-testid="mention"]', { timeout: STEP_TIMEOUT });
      expect(await mark!.evaluate((m) => [m.textContent, m.getAttribute('data-you')])).toEqual(['@Bob', u === bob ? 'true' : 'false']);
      await shot(u, '08b-mention');
    }
  });
  // -- files and images (issue #20) --
  it('9. files: a 5 MiB image and a 20 MiB file from Alice reach Bob and Carol, who save the same bytes', async () => {
    const sent = await alice.page.evaluate(async () => {
      const random = (n: number): Uint8Array<ArrayBuffer> => {
        const out = new Uint8Array(n);
        for (let i = 0; i < n; i += 65_536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65_536)));
        return out;
      };
      // Opaque noise does not compress: a 1600×1200 PNG of it is about 5.5 MiB.
      const canvas = new OffscreenCanvas(1600, 1200);
      const g = canvas.getContext('2d')!;
      const pixels = g.createImageData(1600, 1200);
      pixels.data.set(random(pixels.data.length));
      for (let i = 3; i < pixels.data.length; i += 4) pixels.data[i] = 255;
      g.putImageData(pixels, 0, 0);
      const png = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
      const big = random(20 * 1024 * 1024);
      const hex = async (b: Uint8Array<ArrayBuffer>): Promise<string> => [...new Uint8Array(await crypto.subtle.digest('SHA-256', b))].map((x) => x.toString(16).padStart(2, '0')).join('');
      const dt = new DataTransfer();
      dt.items.add(new File([png], 'lake.png', { type: 'image/png' }));
      dt.items.add(new File([big], 'plans.bin', { type: 'application/octet-stream' }));
      const input = document.querySelector<HTMLInputElement>('[data-testid="attach-input"]')!;
      input.files = dt.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
      return { image: { size: png.length, sha: await hex(png) }, file: { size: big.length, sha: await hex(big) } };
    });
    expect(sent.image.size).toBeGreaterThan(4.5 * 1024 * 1024);
    await alice.page.waitForSelector('[data-testid="upload-progress"]', { timeout: STEP_TIMEOUT });
    await shot(alice, '09a-uploading');
    const card = async (u: ChatUser, name: string, state?: string): Promise<void> => {
      await u.page.waitForFunction(
        (n: string, st: string | null) =>
          [...document.querySelectorAll<HTMLElement>('[data-testid="attachment"]')].some((a) => {
            if (a.querySelector('[data-testid="attachment-name"]')?.textContent !== n) return false;
            a.scrollIntoView({ block: 'center' });
            return st === null || a.dataset.state === st;
          }),
        { timeout: 4 * STEP_TIMEOUT, polling: 250 },
        name,
        state ?? null,
      );
    };
    const press = async (u: ChatUser, name: string, button: string): Promise<void> => {
      await u.page.evaluate(
        (n: string, b: string) => {
          const a = [...document.querySelectorAll<HTMLElement>('[data-testid="attachment"]')].find((x) => x.querySelector('[data-testid="attachment-name"]')?.textContent === n)!;
          a.querySelector<HTMLButtonElement>(`[data-testid="${b}"]`)!.click();
        },
        name,
        button,
      );
    };
    for (const name of ['lake.png', 'plans.bin']) await card(alice, name, 'saved');
    await shot(alice, '09b-sent');

    for (const u of [bob, carol]) {
      const downloads = mkdtempSync(path.join(tmpdir(), `microchat-dl-${u.name}-`));
      profiles.push(downloads);
      const cdp = await u.page.createCDPSession();
      await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
      await card(u, 'lake.png');
      // The preview is there before anything is downloaded: made by Alice's device, carried in the message.
      await u.page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('[data-testid="image-preview"]')].some((i) => i.complete && i.naturalWidth > 0), {
        timeout: STEP_TIMEOUT,
      });
      await card(u, 'plans.bin', 'remote');
      await shot(u, '09c-received');
      for (const [name, want] of [['lake.png', sent.image], ['plans.bin', sent.file]] as const) {
        await press(u, name, 'attachment-download');
        await card(u, name, 'saved');
        await press(u, name, 'attachment-save');
        const file = path.join(downloads, name);
        const deadline = Date.now() + 4 * STEP_TIMEOUT;
        while (!(existsSync(file) && statSync(file).size === want.size) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
        expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(want.sha);
      }
      await shot(u, '09d-saved');
    }
  }, 10 * 60_000);

  // -- the disappearing timer, to the end: what was sent under it leaves every device's storage
  it('10. under the 5-minute timer, the mention and both files vanish from every device’s IndexedDB (message rows and file chunks) and from every open screen', async () => {
    /** The raw IndexedDB of this browser's extension (the side panel shares its origin with the background): rows still there. */
    const stored = (u: ChatUser, ids: string[]): Promise<{ messages: number; fileChunks: number }> =>
      u.page.evaluate(async (wanted: string[]) => {
        const db = await new Promise<IDBDatabase>((resolve, reject) => {
          const req = indexedDB.open('microchat');
          req.onsuccess = () => resolve(req.result);
          req.onerror = () => reject(req.error);
        });
        const all = <T,>(store: string): Promise<T[]> =>
          new Promise((resolve, reject) => {
            const req = db.transaction(store).objectStore(store).getAll();
            req.onsuccess = () => resolve(req.result as T[]);
            req.onerror = () => reject(req.error);
          });
        const messages = (await all<{ messageId?: string }>('messages')).filter((r) => r.messageId !== undefined && wanted.includes(r.messageId)).length;
        const fileChunks = (await all<unknown>('files')).length;
        db.close();
        return { messages, fileChunks };
      }, ids);
    // Sent after Bob set the timer (steps 8 and 9): the mention and the two files, as each screen shows them.
    const underTimer = (u: ChatUser): Promise<string[]> =>
      u.page.$$eval('[data-testid="message"][data-message-id]', (ms) =>
        ms.filter((m) => m.querySelector('[data-testid="attachment"]') !== null || (m.textContent ?? '').includes('for the lake plan')).map((m) => m.getAttribute('data-message-id')!),
      );
    const ids = new Map<ChatUser, string[]>();
    for (const u of everyone) {
      ids.set(u, await underTimer(u));
      expect(ids.get(u), `${u.name} shows the mention and the two files`).toHaveLength(3);
      const before = await stored(u, ids.get(u)!);
      expect(before.messages).toBe(3);
      expect(before.fileChunks).toBeGreaterThan(0);
    }
    // Carol searches for the mention: its hit is there before it expires.
    if ((await carol.page.$('[data-testid="search-panel"]')) === null) await carol.page.click('[data-testid="search-button"]');
    await carol.page.click('[data-testid="search-input"]', { count: 3 });
    await carol.page.type('[data-testid="search-input"]', 'lake plan');
    const hits = (): Promise<string[]> => carol.page.$$eval('[data-testid="search-result"]', (hs) => hs.map((h) => h.getAttribute('data-message-id')!));
    await carol.page.waitForFunction(() => document.querySelectorAll('[data-testid="search-result"]').length > 0, { timeout: STEP_TIMEOUT });
    const before = await hits();
    expect(before.some((h) => ids.get(carol)!.includes(h)), 'Carol finds the mention').toBe(true);

    // Due five minutes after each arrived; every device deletes them by itself, with their files. Polled
    // from here (one waitForFunction this long would outlast the protocol timeout).
    const deadline = Date.now() + 7 * 60_000;
    for (const u of everyone) {
      const left = async (): Promise<number> => {
        const r = await stored(u, ids.get(u)!);
        return r.messages + r.fileChunks;
      };
      while ((await left()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2000));
      expect(await stored(u, ids.get(u)!), `${u.name}'s IndexedDB`).toEqual({ messages: 0, fileChunks: 0 });
    }
    // The open screens are told (an 'expired' live event): none shows the three any more, without reopening.
    // Polled from here, a few seconds at most after the rows went.
    const onScreen = (u: ChatUser): Promise<string[]> =>
      u.page.evaluate((wanted: string[]) => {
        const out: string[] = [];
        for (const el of document.querySelectorAll<HTMLElement>('[data-message-id]')) if (wanted.includes(el.dataset.messageId!)) out.push(`${el.dataset.testid} ${el.dataset.messageId}`);
        for (const a of document.querySelectorAll('[data-testid="attachment-name"]')) out.push(`attachment ${a.textContent}`);
        if ((document.body.textContent ?? '').includes('for the lake plan')) out.push('the mention text');
        return out;
      }, ids.get(u)!);
    for (const u of everyone) {
      const until = Date.now() + 30_000;
      while ((await onScreen(u)).length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 500));
      expect(await onScreen(u), `${u.name}'s open screen`).toEqual([]);
      await shot(u, '10-expired');
    }
    expect((await hits()).filter((h) => ids.get(carol)!.includes(h)), 'Carol’s search hits').toEqual([]);
  }, 9 * 60_000);
});
