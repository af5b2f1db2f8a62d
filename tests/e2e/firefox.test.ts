/**
 * Chrome and Firefox in one conversation (issue 7): Alice on Chromium, Bob on
 * Firefox ESR through WebDriver BiDi, each with the built extension and a
 * virtual passkey authenticator, over a real relay process. Nothing mocked.
 * Screenshots go to artifacts/e2e/firefox-*.png.
 *
 * What Firefox does differently, and what each step checks:
 *  - Passkeys: a moz-extension page may use the relay's host as RP ID when
 *    the add-on holds a host permission for it. The relay listens on
 *    127.0.0.1 and names `localhost` as its RP ID; the Firefox build is
 *    granted both. Firefox's authenticator evaluates PRF only on assertions,
 *    so Bob's lock comes from a second, local assertion right after creation
 *    (lib/view/webauthn.ts); step 4 proves the lock is on.
 *  - The background is an event page that Firefox suspends when idle, open
 *    WebSocket or not. Bob's browser runs with a 15 s idle timeout instead of
 *    30 s: step 3 shows the keep-alive holding the page up while the relay
 *    connection lives, and Firefox suspending it once the connection is gone.
 *  - State lives in the add-on's IndexedDB: after a suspension Bob's history
 *    and membership come back from it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConversation,
  createInvite,
  joinByLink,
  onboard,
  openBrowser,
  openConversation,
  openFirefoxBrowser,
  removeMember,
  send,
  shownMessages,
  unlockIfLocked,
  waitForMessage,
  STEP_TIMEOUT,
  type ChatUser,
  type UserBrowser,
} from '../support/chat-driver.ts';
import { ROOT, screenshot, snapshotExtension, type ExtensionBrowser } from '../support/extension.ts';
import { launchFirefoxWithExtension, snapshotFirefoxExtension, type FirefoxExtensionBrowser } from '../support/firefox.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { OUTAGE_HOLD_MS } from '../../lib/background/keep-alive.ts';

/** Firefox's idle timeout for Bob's event page: half its default, still above the keep-alive's 10 s tick. */
const IDLE_TIMEOUT_MS = 15_000;

let counter = 0;
function text(t: string): string {
  return `${t} [mc-ff-${counter++}-${Math.random().toString(36).slice(2, 8)}]`;
}

async function shot(user: ChatUser<UserBrowser>, step: string): Promise<void> {
  await screenshot(user.page, `firefox-${step}-${user.name.toLowerCase()}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Chrome and Firefox in one conversation, over a real relay', () => {
  let chromeBuild: { dir: string; id: string };
  let firefoxBuild: string;
  let relay: RelayProcess;
  let alice: ChatUser<ExtensionBrowser>;
  let bob: ChatUser<FirefoxExtensionBrowser>;
  let conversationId = '';

  beforeAll(async () => {
    chromeBuild = snapshotExtension();
    firefoxBuild = snapshotFirefoxExtension();
    relay = await startRelay({ args: ['--extra-rp-ids', `${chromeBuild.id},chrome-extension://${chromeBuild.id}`] });
  });

  afterAll(async () => {
    await alice?.ext.close();
    await bob?.ext.close();
    await relay?.stop();
    for (const dir of [alice?.profileDir, bob?.profileDir, chromeBuild?.dir, firefoxBuild]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('1. Alice on Chromium and Bob on Firefox ESR create accounts with passkeys', async () => {
    [alice, bob] = await Promise.all([
      openBrowser('Alice', { extensionDir: chromeBuild.dir, prf: true }),
      openFirefoxBrowser('Bob', { extensionDir: firefoxBuild, backgroundIdleTimeoutMs: IDLE_TIMEOUT_MS }),
    ]);
    expect((await bob.ext.browser.version()).toLowerCase()).toContain('firefox');
    await shot(bob, '01a-onboarding');
    await onboard(alice, relay.url);
    await onboard(bob, relay.url);
    await shot(bob, '01b-onboarded');
    // Bob's account lives in the add-on's IndexedDB and his background reached the relay over a WebSocket.
    await bob.page.waitForSelector('[data-testid="connection-status"][data-state="online"]', { timeout: STEP_TIMEOUT });
    // The add-on's IndexedDB is persistent storage (unlimitedStorage): storage pressure cannot evict Bob's keys.
    expect(await bob.page.evaluate(() => navigator.storage.persisted())).toBe(true);
  });

  it('2. Alice invites Bob by link; they talk both ways, decrypted, under the right names', async () => {
    conversationId = await createConversation(alice, 'Across browsers');
    const link = await createInvite(alice, 'one-time');
    expect(await joinByLink(bob, link)).toBe(conversationId);
    await shot(bob, '02a-joined');

    const a = text('Hello Bob, this is Chromium');
    await send(alice, a);
    await waitForMessage(bob, a, { sender: 'Alice' });
    const b = text('Hi Alice, Firefox here');
    await send(bob, b);
    await waitForMessage(alice, b, { sender: 'Bob' });

    const bobSees = (await shownMessages(bob)).filter((m) => m.kind === 'text').map((m) => `${m.self ? 'me' : m.sender}: ${m.text}`);
    expect(bobSees).toEqual([`Alice: ${a}`, `me: ${b}`]);
    const aliceSees = (await shownMessages(alice)).filter((m) => m.kind === 'text').map((m) => `${m.self ? 'me' : m.sender}: ${m.text}`);
    expect(aliceSees).toEqual([`me: ${a}`, `Bob: ${b}`]);
    await shot(bob, '02b-exchanged');
    await shot(alice, '02b-exchanged');
  });

  it('3. the keep-alive holds Bob’s event page up while his relay connection lives; without one Firefox suspends it', async () => {
    const before = await bob.ext.suspensions();
    // Two idle timeouts with nothing happening but the live connection.
    for (let waited = 0; waited < 2 * IDLE_TIMEOUT_MS; waited += 500) {
      expect(await bob.ext.backgroundState()).toBe('running');
      await sleep(500);
    }
    expect(await bob.ext.suspensions()).toBe(before);
    // Still unlocked (the data key never left memory), and still live: a message arrives without any nudge.
    expect(await bob.page.$('[data-testid="lock-screen"]')).toBeNull();
    const live = text('Still there after a quiet while?');
    await send(alice, live);
    await waitForMessage(bob, live, { sender: 'Alice', timeout: 15_000 });

    // Control: with the relay gone the connection drops; after the first minute of the outage (OUTAGE_HOLD_MS) the
    // keep-alive lets go, and Firefox suspends the page.
    relay.kill9();
    await bob.page.waitForSelector('[data-testid="connection-status"]:not([data-state="online"])', { timeout: STEP_TIMEOUT });
    const deadline = Date.now() + OUTAGE_HOLD_MS + 4 * IDLE_TIMEOUT_MS;
    while ((await bob.ext.suspensions()) === before) {
      if (Date.now() > deadline) throw new Error('Firefox never suspended the idle event page');
      await sleep(250);
    }
    // The page wakes again for the side panel and reopens with the data key kept in storage.session: not locked.
    const awake = Date.now() + STEP_TIMEOUT;
    while ((await bob.ext.backgroundState()) !== 'running') {
      if (Date.now() > awake) throw new Error('the event page did not wake for the side panel');
      await sleep(250);
    }
    await bob.page.waitForSelector('[data-testid="composer"]', { timeout: STEP_TIMEOUT });
    await sleep(1000);
    expect(await bob.page.$('[data-testid="lock-screen"]')).toBeNull();
    await shot(bob, '03-unlocked-after-idle-suspension');
    await relay.restart();
    // Alice's Chromium worker may have been stopped as idle during the outage too (locking her); otherwise her
    // connection comes back by itself at the end of its back-off (up to a minute after a long outage).
    const first = await alice.page.waitForSelector(
      '[data-testid="lock-screen"], [data-testid="connection-status"][data-state="online"]',
      { timeout: 3 * STEP_TIMEOUT },
    );
    if ((await first!.evaluate((el) => el.getAttribute('data-testid'))) === 'lock-screen') {
      await unlockIfLocked(alice);
      await openConversation(alice, conversationId);
      await alice.page.waitForSelector('[data-testid="connection-status"][data-state="online"]', { timeout: STEP_TIMEOUT });
    }
  });

  it('4. Bob’s event page is suspended while Alice writes: he stays unlocked and nothing is lost', async () => {
    await unlockIfLocked(bob);
    await openConversation(bob, conversationId);
    await bob.page.waitForSelector('[data-testid="connection-status"][data-state="online"]', { timeout: STEP_TIMEOUT });

    await bob.ext.suspendBackground();
    const whileSuspended = [text('Sent while your Firefox slept'), text('And one more')];
    for (const t of whileSuspended) await send(alice, t);

    // The woken page reopens with the data key kept in storage.session (Firefox 115+): no lock screen.
    expect(await unlockIfLocked(bob)).toBe(false);
    await shot(bob, '04a-unlocked-after-suspension');
    await openConversation(bob, conversationId);
    for (const t of whileSuspended) await waitForMessage(bob, t, { sender: 'Alice' });
    // History from before the suspension came back from IndexedDB, each message once.
    const texts = (await shownMessages(bob)).map((m) => m.text);
    expect(texts.filter((t) => t.startsWith('Hi Alice, Firefox here'))).toHaveLength(1);
    for (const t of whileSuspended) expect(texts.filter((x) => x === t)).toHaveLength(1);
    await shot(bob, '04b-unlocked-caught-up');

    const reply = text('Back, read both');
    await send(bob, reply);
    await waitForMessage(alice, reply, { sender: 'Bob' });
    await shot(alice, '04c-reply-from-firefox');
  });

  it('4b. an image from Bob’s Firefox reaches Alice’s Chromium: preview at once, the file fetched and checked by itself (issue #20)', async () => {
    // Bob picks an image, as the attach button's file input would hand it over; his view makes the preview (Firefox's canvas).
    const size = await bob.page.evaluate(async () => {
      const canvas = new OffscreenCanvas(640, 480);
      const g = canvas.getContext('2d')!;
      g.fillStyle = '#e8590c';
      g.fillRect(0, 0, 640, 480);
      g.fillStyle = '#fff';
      g.fillRect(160, 120, 320, 240);
      const png = await canvas.convertToBlob({ type: 'image/png' });
      const dt = new DataTransfer();
      dt.items.add(new File([png], 'from-firefox.png', { type: 'image/png' }));
      const input = document.querySelector<HTMLInputElement>('[data-testid="attach-input"]')!;
      input.files = dt.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
      return png.size;
    });
    expect(size).toBeGreaterThan(0);
    for (const [u, state] of [[bob, 'saved'], [alice, 'saved']] as const) {
      await u.page.waitForFunction(
        (st: string) =>
          [...document.querySelectorAll<HTMLElement>('[data-testid="attachment"]')].some((a) => {
            if (a.querySelector('[data-testid="attachment-name"]')?.textContent !== 'from-firefox.png') return false;
            a.scrollIntoView({ block: 'center' });
            const img = a.querySelector('img');
            return a.dataset.state === st && img !== null && img.complete && img.naturalWidth > 0;
          }),
        { timeout: 3 * STEP_TIMEOUT, polling: 250 },
        state,
      );
    }
    await shot(bob, '04d-image-sent-from-firefox');
    await shot(alice, '04e-image-from-firefox');
  });

  it('5. Bob’s Firefox restarts on the same profile: his account, conversation and history come back from the add-on’s IndexedDB', async () => {
    // His passkey lives in the authenticator, not in the browser: it moves to the restarted browser's authenticator.
    const credentials = await bob.ext.exportCredentials(bob.authenticator.authenticatorId);
    expect(credentials).toHaveLength(1);
    const profileDir = bob.profileDir;
    await bob.ext.close();
    const away = text('Written while Firefox was closed');
    await send(alice, away);

    bob = await openFirefoxBrowser('Bob', { extensionDir: firefoxBuild, profileDir, credentials });
    expect(await unlockIfLocked(bob)).toBe(true); // the wrapped key was on disk; the data key was not
    await openConversation(bob, conversationId);
    await waitForMessage(bob, away, { sender: 'Alice' });
    const texts = (await shownMessages(bob)).map((m) => m.text);
    expect(texts.filter((t) => t.startsWith('Hi Alice, Firefox here'))).toHaveLength(1);
    await shot(bob, '05-after-restart');
    const reply = text('Restarted Firefox, all here');
    await send(bob, reply);
    await waitForMessage(alice, reply, { sender: 'Bob' });
  });

  it('6. Bob creates a conversation in Firefox, invites Alice, they talk, and Bob removes her: she sees it and reads nothing after', async () => {
    const bobsRoom = await createConversation(bob, 'Firefox-made room');
    const link = await createInvite(bob, 'expiring');
    expect(await joinByLink(alice, link)).toBe(bobsRoom);
    const hello = text('Welcome to my room');
    await send(bob, hello);
    await waitForMessage(alice, hello, { sender: 'Bob' });
    const thanks = text('Thanks for having me');
    await send(alice, thanks);
    await waitForMessage(bob, thanks, { sender: 'Alice' });

    await removeMember(bob, 'Alice', 'firefox-06a-members-before-remove-bob');
    await alice.page.waitForSelector(`[data-testid="conversation"][data-conversation-id="${bobsRoom}"][data-status="removed"]`, {
      timeout: STEP_TIMEOUT,
    });
    await shot(alice, '06b-removed-by-firefox');
    const after = text('Only for me now');
    await send(bob, after);
    // The first conversation still works both ways, so Alice is online and would have received it.
    const ping = text('Ping in our first conversation');
    await openConversation(bob, conversationId);
    await send(bob, ping);
    await openConversation(alice, conversationId);
    await waitForMessage(alice, ping, { sender: 'Bob' });
    await openConversation(alice, bobsRoom);
    expect((await shownMessages(alice)).map((m) => m.text)).not.toContain(after);
    await shot(bob, '06c-after-removal');
  });
});

describe('the Firefox store zip (npm run zip)', () => {
  it('installs as a temporary add-on, and its popup opens MicroChat in Firefox’s sidebar', async () => {
    execFileSync(path.join(ROOT, 'node_modules', '.bin', 'wxt'), ['zip', '-b', 'firefox', '--mv3'], { cwd: ROOT, stdio: 'ignore' });
    const zip = path.join(ROOT, '.output', 'microchat-0.1.0-firefox.zip');
    expect(existsSync(path.join(ROOT, '.output', 'microchat-0.1.0-sources.zip'))).toBe(true);
    const ff = await launchFirefoxWithExtension({ extensionDir: zip });
    try {
      const popup = await ff.openPage('popup.html');
      const button = await popup.waitForSelector('[data-testid="popup-open-panel"]', { timeout: STEP_TIMEOUT });
      expect(await button!.evaluate((b) => b.textContent?.trim())).toBe('Open sidebar');
      await screenshot(popup, 'firefox-zip-popup');
      // Firefox opens a new add-on's sidebar once at install (the onboarding is the first thing seen); close it.
      await ff.closeSidebar();
      expect((await ff.sidebar()).open).toBe(false);
      await button!.click(); // a real click: Firefox opens a sidebar only from a user action
      const deadline = Date.now() + STEP_TIMEOUT;
      let sidebar = await ff.sidebar();
      while (!(sidebar.open && sidebar.url === `moz-extension://${ff.extensionId}/sidepanel.html`)) {
        if (Date.now() > deadline) throw new Error(`the sidebar did not open: ${JSON.stringify(sidebar)}`);
        await sleep(200);
        sidebar = await ff.sidebar();
      }
    } finally {
      await ff.close();
    }
  });
});
