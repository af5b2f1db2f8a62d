/**
 * The stores' listing screenshots (issue 21): 1280×800, light and dark, made
 * from the real extension talking to a real relay, never drawn by hand.
 *
 * Two people chat; each screenshot puts side panels (as the browser
 * shows them, 400 px wide) next to a caption, in one 1280×800 frame composed
 * in a plain page. Every run writes them to artifacts/e2e/store-*.png. With
 * STORE_SCREENSHOTS=update the run also replaces the committed copies in
 * docs/store-screenshots/, which the listing uses; the test checks that each
 * committed file exists and is 1280×800.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'puppeteer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConversation,
  createInvite,
  joinByLink,
  onboard,
  openBrowser,
  openConversation,
  send,
  showList,
  waitForMessage,
  STEP_TIMEOUT,
  type ChatUser,
} from '../support/chat-driver.ts';
import { ARTIFACTS_DIR, snapshotExtension } from '../support/extension.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';

const THEMES = ['light', 'dark'] as const;
type Theme = (typeof THEMES)[number];
const COMMITTED_DIR = path.resolve('docs/store-screenshots');
const PANEL = { width: 400, height: 720 };

/** The captions are listing copy (English, like the listing's descriptions in docs/store-listing.md). */
const SCENES = {
  conversation: {
    title: 'Group chat that only the group can read',
    points: ['End-to-end encrypted with MLS (RFC 9420)', 'The relay stores ciphertext, then deletes it', 'Right in the browser’s side panel'],
  },
  list: {
    title: 'All your conversations, one click away',
    points: ['Invite with a link or a QR code', 'Sign in with a passkey, lock when you step away', 'English, Deutsch, العربية'],
  },
} as const;
type Scene = keyof typeof SCENES;

/** Width and height from a PNG's IHDR chunk. */
function pngSize(file: string): { width: number; height: number } {
  const b = readFileSync(file);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

async function panelShot(page: Page, theme: Theme): Promise<string> {
  // A background tab gets no animation frames: the panel's tab comes to the front first.
  await page.bringToFront();
  await page.setViewport(PANEL);
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: theme }]);
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const png = await page.screenshot({ encoding: 'base64' });
  return `data:image/png;base64,${png}`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** One 1280×800 frame: the caption on the start side, the two panels on the end side. */
function frame(scene: Scene, theme: Theme, icon: string, panels: string[]): string {
  const { title, points } = SCENES[scene];
  const dark = theme === 'dark';
  return `<!doctype html><html><head><meta charset="utf-8"><style>
    html, body { margin: 0; width: 1280px; height: 800px; overflow: hidden; }
    body { display: flex; align-items: center; gap: 32px; padding: 0 40px; box-sizing: border-box;
      font: 16px system-ui, sans-serif; background: ${dark ? '#15171c' : '#eef1f6'}; color: ${dark ? '#e8eaf0' : '#1b1e26'}; }
    .caption { flex: 1; }
    .caption img { width: 72px; height: 72px; }
    h1 { font-size: 34px; line-height: 1.2; margin: 20px 0; }
    li { font-size: 19px; margin: 10px 0; color: ${dark ? '#b9bfcc' : '#3c4350'}; }
    .panel { width: ${PANEL.width}px; height: ${PANEL.height}px; border-radius: 12px; overflow: hidden;
      box-shadow: 0 8px 28px rgba(0,0,0,${dark ? '0.6' : '0.18'}); border: 1px solid ${dark ? '#2c3038' : '#d5dae3'}; }
    .panel img { display: block; }
  </style></head><body>
    <div class="caption"><img src="${icon}" alt=""><h1>${escapeHtml(title)}</h1><ul>${points.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul></div>
    ${panels.map((src) => `<div class="panel"><img src="${src}" alt=""></div>`).join('')}
  </body></html>`;
}

describe('store listing screenshots, 1280×800, light and dark', () => {
  let extension: { dir: string; id: string };
  let relay: RelayProcess;
  let alice: ChatUser;
  let bob: ChatUser;
  const icon = `data:image/png;base64,${readFileSync('public/icon/128.png').toString('base64')}`;

  beforeAll(async () => {
    extension = snapshotExtension();
    relay = await startRelay();
    [alice, bob] = await Promise.all([
      openBrowser('Alice', { extensionDir: extension.dir, prf: false }),
      openBrowser('Bob', { extensionDir: extension.dir, prf: false }),
    ]);
    await Promise.all([onboard(alice, relay.url), onboard(bob, relay.url)]);
  });

  afterAll(async () => {
    for (const u of [alice, bob]) await u?.ext.close();
    await relay?.stop();
    for (const dir of [alice?.profileDir, bob?.profileDir, extension?.dir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function compose(scene: Scene, panelPages: Page[]): Promise<void> {
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    const page = await alice.ext.browser.newPage();
    try {
      await page.setViewport({ width: 1280, height: 800 });
      for (const theme of THEMES) {
        const panels: string[] = [];
        for (const p of panelPages) panels.push(await panelShot(p, theme));
        await page.bringToFront();
        await page.setContent(frame(scene, theme, icon, panels), { waitUntil: 'load' });
        const file = path.join(ARTIFACTS_DIR, `store-${scene}-${theme}.png`);
        await page.screenshot({ path: file });
        expect(pngSize(file)).toEqual({ width: 1280, height: 800 });
        if (process.env.STORE_SCREENSHOTS === 'update') {
          mkdirSync(COMMITTED_DIR, { recursive: true });
          copyFileSync(file, path.join(COMMITTED_DIR, `${scene}-${theme}.png`));
        }
      }
    } finally {
      await page.close();
    }
  }

  let hike = '';

  it('a conversation, seen by both people', async () => {
    hike = await createConversation(alice, 'Weekend hike');
    await joinByLink(bob, await createInvite(alice, 'one-time'));
    const lines: [ChatUser, string][] = [
      [alice, 'Saturday, 9:00 at the trailhead?'],
      [bob, 'Works for me. I’ll bring the map'],
      [alice, 'Great! Rain is forecast for the afternoon, so let’s be back by 3'],
      [bob, 'Deal! See you there'],
    ];
    for (const [who, line] of lines) {
      await send(who, line);
      await waitForMessage(who === alice ? bob : alice, line);
    }
    await compose('conversation', [alice.page, bob.page]);
  });

  it('the conversation list', async () => {
    for (const name of ['Book club', 'Family']) {
      await showList(alice);
      await createConversation(alice, name);
      await send(alice, name === 'Family' ? 'Dinner on Sunday?' : 'Chapter 4 for next week');
    }
    await showList(alice);
    await alice.page.waitForSelector('[data-testid="conversation-item"]', { timeout: STEP_TIMEOUT });
    await openConversation(bob, hike);
    await compose('list', [alice.page, bob.page]);
  });

  it('the committed listing screenshots are there, each 1280×800', () => {
    for (const scene of Object.keys(SCENES)) {
      for (const theme of THEMES) {
        const file = path.join(COMMITTED_DIR, `${scene}-${theme}.png`);
        expect(existsSync(file), file).toBe(true);
        expect(pngSize(file)).toEqual({ width: 1280, height: 800 });
      }
    }
  });
});
