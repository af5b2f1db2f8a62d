/**
 * The chat, end to end (issue 6): three people, each in their own Chromium
 * profile with the built extension and a virtual passkey authenticator, talk
 * over a real relay process. Nothing is mocked. Every step saves a screenshot
 * under artifacts/e2e/chat-*.png.
 *
 * The relay must accept the passkeys' RP ID: Chromium hashes the full origin
 * `chrome-extension://<id>` as the RP ID of an extension page. An unpacked
 * extension's id is SHA-256 of its folder path, so the test copies the build
 * to a private folder (snapshotExtension), computes the id before any browser
 * starts, and starts the relay with `--extra-rp-ids <id>,chrome-extension://<id>`.
 *
 * Alice's passkey evaluates PRF, so her account is locked by it (the data key
 * lives only in the worker's memory): stopping her worker locks her, and she
 * unlocks from the side panel with the same authenticator. Bob's and Carol's
 * authenticators have no PRF (no lock), so Bob's browser can be closed and
 * started again on the same profile: a virtual authenticator's PRF secret
 * does not survive a browser restart.
 */
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConversation,
  createInvite,
  joinByLink,
  onboard,
  openBrowser,
  openConversation,
  removeMember,
  send,
  shownMessages,
  stopServiceWorkers,
  unlockIfLocked,
  waitForWorkerStopped,
  waitForMessage,
  STEP_TIMEOUT,
  type ChatUser,
} from '../support/chat-driver.ts';
import { screenshot, snapshotExtension } from '../support/extension.ts';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';

/** Every message text used, so the relay's files can be searched for each. Distinctive so a hit is never chance. */
const sent: string[] = [];
function text(t: string): string {
  const s = `${t} [mc-e2e-${sent.length}-${Math.random().toString(36).slice(2, 8)}]`;
  sent.push(s);
  return s;
}

/** Every file under a folder, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** The message strings found in the raw bytes of the relay's files (UTF-8 and UTF-16LE). */
function plaintextHits(dir: string): string[] {
  const files = filesUnder(dir).map((f) => ({ f, bytes: readFileSync(f) }));
  const hits: string[] = [];
  for (const s of sent) {
    for (const { f, bytes } of files) {
      if (bytes.includes(Buffer.from(s, 'utf8')) || bytes.includes(Buffer.from(s, 'utf16le'))) hits.push(`${path.basename(f)}: ${s}`);
    }
  }
  return hits;
}

async function shot(user: ChatUser, step: string): Promise<void> {
  await screenshot(user.page, `chat-${step}-${user.name.toLowerCase()}`);
}

describe('chat end to end: three people, a real relay, one profile each', () => {
  let extension: { dir: string; id: string };
  let relay: RelayProcess;
  let alice: ChatUser;
  let bob: ChatUser;
  let carol: ChatUser;
  let conversationId = '';
  const profiles: string[] = [];
  /** Message texts Carol must never see (sent after her removal). */
  const hiddenFromCarol: string[] = [];

  beforeAll(async () => {
    extension = snapshotExtension();
    relay = await startRelay({
      args: ['--extra-rp-ids', `${extension.id},chrome-extension://${extension.id}`],
      keepDataDir: true,
    });
  });

  afterAll(async () => {
    for (const u of [alice, bob, carol]) await u?.ext.close();
    await relay?.stop();
    for (const dir of [...profiles, relay?.dataDir, extension?.dir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('1. three people onboard with passkeys; Alice creates a conversation and invites Bob and Carol by link', async () => {
    [alice, bob, carol] = await Promise.all([
      openBrowser('Alice', { extensionDir: extension.dir, prf: true }),
      openBrowser('Bob', { extensionDir: extension.dir, prf: false }),
      openBrowser('Carol', { extensionDir: extension.dir, prf: false }),
    ]);
    profiles.push(alice.profileDir, bob.profileDir, carol.profileDir);
    for (const u of [alice, bob, carol]) expect(u.ext.extensionId).toBe(extension.id);
    await shot(alice, '01a-onboarding');

    // One after the other: three registrations at once only make the small box slower.
    for (const u of [alice, bob, carol]) {
      await onboard(u, relay.url);
      await shot(u, '01b-onboarded');
    }

    conversationId = await createConversation(alice, 'Weekend trip');
    await shot(alice, '01c-created');

    const bobLink = await createInvite(alice, 'one-time', 'chat-01d-invite-link-alice');
    expect(bobLink).toMatch(/^microchat:join\?/); // a code to paste, not a web address a relay page could read
    expect(await joinByLink(bob, bobLink)).toBe(conversationId);
    await shot(bob, '01e-joined');

    const carolLink = await createInvite(alice, 'expiring');
    expect(await joinByLink(carol, carolLink)).toBe(conversationId);
    await shot(carol, '01f-joined');

    // Alice's member list has all three once both external commits are in.
    await alice.page.click('[data-testid="members-button"]');
    for (const n of ['Alice', 'Bob', 'Carol']) {
      await alice.page.waitForSelector(`[data-testid="member"][data-name="${n}"]`, { timeout: STEP_TIMEOUT });
    }
    const code = await alice.page.$eval('[data-testid="safety-code"]', (el) => el.textContent ?? '');
    expect(code.trim().length).toBeGreaterThan(0);
    await shot(alice, '01g-members');
    await alice.page.click('[data-testid="members-dialog"] button.close');
  });

  it('2. all three exchange messages and each reads the others, decrypted, under the right names', async () => {
    const a = text('Hi both, Alice here');
    await send(alice, a);
    await waitForMessage(bob, a, { sender: 'Alice' });
    await waitForMessage(carol, a, { sender: 'Alice' });

    const b = text('Hello from Bob');
    await send(bob, b);
    await waitForMessage(alice, b, { sender: 'Bob' });
    await waitForMessage(carol, b, { sender: 'Bob' });

    const c = text('Carol says hi');
    await send(carol, c);
    await waitForMessage(alice, c, { sender: 'Carol' });
    await waitForMessage(bob, c, { sender: 'Carol' });

    for (const u of [alice, bob, carol]) {
      const texts = (await shownMessages(u)).filter((m) => m.kind === 'text');
      const mine = texts.filter((m) => m.self).map((m) => m.text);
      const theirs = texts.filter((m) => !m.self).map((m) => `${m.sender}: ${m.text}`);
      expect(mine).toHaveLength(1);
      expect(theirs).toEqual(
        [
          ['Alice', a],
          ['Bob', b],
          ['Carol', c],
        ]
          .filter(([n]) => n !== u.name)
          .map(([n, t]) => `${n}: ${t}`),
      );
      await shot(u, '02-exchanged');
    }
  });

  it('3. Alice removes Carol: Carol sees the removal and never reads a later message, not even after reconnecting', async () => {
    // Record every message text Carol's side panel ever renders from here on.
    await carol.page.evaluate(() => {
      const seen = new Set<string>();
      (window as unknown as { __seen: Set<string> }).__seen = seen;
      const collect = (): void => {
        for (const el of document.querySelectorAll('[data-testid="message-text"]')) seen.add(el.textContent ?? '');
      };
      collect();
      new MutationObserver(collect).observe(document.body, { subtree: true, childList: true, characterData: true });
    });

    await removeMember(alice, 'Carol', 'chat-03a-members-before-remove-alice');
    await carol.page.waitForSelector(`[data-testid="conversation"][data-status="removed"]`, { timeout: STEP_TIMEOUT });
    const banner = await carol.page.$eval('[data-testid="status-banner"]', (el) => el.textContent ?? '');
    expect(banner.toLowerCase()).toContain('removed');
    await shot(carol, '03b-removed');

    const secret = text('Carol is gone, the surprise party is on Saturday');
    hiddenFromCarol.push(secret);
    await send(alice, secret);
    await waitForMessage(bob, secret, { sender: 'Alice' });
    const reply = text('Great, I will bring the cake');
    hiddenFromCarol.push(reply);
    await send(bob, reply);
    await waitForMessage(alice, reply, { sender: 'Bob' });
    await shot(alice, '03c-after-removal');
    await shot(bob, '03c-after-removal');

    // Carol's client had the same time to receive them and did not show them.
    const seenBefore = await carol.page.evaluate(() => [...(window as unknown as { __seen: Set<string> }).__seen]);
    for (const t of hiddenFromCarol) expect(seenBefore).not.toContain(t);

    // A fresh background (worker stopped, state restored from IndexedDB) and a fresh view, reconnected to the relay.
    await stopServiceWorkers(carol);
    await carol.page.reload({ waitUntil: 'domcontentloaded' });
    await unlockIfLocked(carol);
    await openConversation(carol, conversationId);
    await carol.page.waitForSelector('[data-testid="conversation"][data-status="removed"]', { timeout: STEP_TIMEOUT });
    await carol.page.waitForSelector('[data-testid="connection-status"][data-state="online"]', { timeout: STEP_TIMEOUT });
    // Give the reconnected background the time Bob needs for a round trip, then look again.
    const ping = text('ping after Carol reconnected');
    hiddenFromCarol.push(ping);
    await send(alice, ping);
    await waitForMessage(bob, ping, { sender: 'Alice' });
    const after = (await shownMessages(carol)).map((m) => m.text);
    for (const t of hiddenFromCarol) expect(after).not.toContain(t);
    // Her own history before the removal survived the restart.
    expect(after.some((t) => t.startsWith('Carol says hi'))).toBe(true);
    await shot(carol, '03d-removed-after-reconnect');
  });

  it('4. Bob goes offline; messages wait for him; his browser restarts on the same profile and receives them', async () => {
    const bobProfile = bob.profileDir;
    await bob.ext.close();

    const waiting = [text('Bob, are you there?'), text('Train leaves at 9:40')];
    for (const t of waiting) await send(alice, t);
    await shot(alice, '04a-sent-while-bob-offline');

    bob = await openBrowser('Bob', { extensionDir: extension.dir, profileDir: bobProfile, prf: false });
    expect(bob.ext.extensionId).toBe(extension.id);
    await unlockIfLocked(bob);
    await shot(bob, '04b-restarted');
    await openConversation(bob, conversationId);
    for (const t of waiting) await waitForMessage(bob, t, { sender: 'Alice' });
    // History from before the restart is still there.
    const texts = (await shownMessages(bob)).map((m) => m.text);
    expect(texts.some((t) => t.startsWith('Hello from Bob'))).toBe(true);
    await shot(bob, '04c-received-after-restart');

    const back = text('Back online, saw both');
    await send(bob, back);
    await waitForMessage(alice, back, { sender: 'Bob' });
  });

  it('5. service workers stopped through CDP mid-conversation: nothing is lost, in either direction', async () => {
    // Bob's background is stopped with no view open, so it stays stopped while Alice sends.
    await bob.page.close();
    await stopServiceWorkers(bob);
    await waitForWorkerStopped(bob);
    const whileStopped = text('Sent while Bob’s worker was stopped');
    await send(alice, whileStopped);
    bob.page = await bob.ext.openPage('sidepanel.html');
    await unlockIfLocked(bob);
    await openConversation(bob, conversationId);
    await waitForMessage(bob, whileStopped, { sender: 'Alice' });
    await shot(bob, '05a-after-worker-stop');
    const reply = text('Got it after my worker restarted');
    await send(bob, reply);
    await waitForMessage(alice, reply, { sender: 'Bob' });

    // Alice's worker stops while her side panel is open: the data key waits in storage.session, so she stays
    // unlocked. Lock now locks her; what is sent meanwhile waits at the relay.
    await stopServiceWorkers(alice);
    await waitForWorkerStopped(alice);
    expect(await unlockIfLocked(alice)).toBe(false);
    await alice.page.click('[data-testid="lock-now"]');
    await alice.page.waitForSelector('[data-testid="lock-screen"]', { timeout: STEP_TIMEOUT });
    await shot(alice, '05b-locked-with-lock-now');
    const whileLocked = text('Sent while Alice was locked');
    await send(bob, whileLocked);
    expect(await unlockIfLocked(alice)).toBe(true);
    await openConversation(alice, conversationId);
    await waitForMessage(alice, whileLocked, { sender: 'Bob' });
    const fromAlice = text('Unlocked, all here');
    await send(alice, fromAlice);
    await waitForMessage(bob, fromAlice, { sender: 'Alice' });
    await shot(alice, '05c-unlocked');
  });

  it('6. the relay is killed and restarted mid-conversation: nothing is lost', async () => {
    relay.kill9();
    await alice.page.waitForSelector('[data-testid="connection-status"]:not([data-state="online"])', { timeout: STEP_TIMEOUT });
    await shot(alice, '06a-relay-down');
    const queued = text('Written while the relay was down');
    await send(alice, queued, { waitSent: false });
    await waitForMessage(alice, queued);
    const pending = (await shownMessages(alice)).find((m) => m.text === queued);
    expect(pending?.status).not.toBe('sent'); // it waits (sending, or failed and retried), it is not lost
    await shot(alice, '06b-queued-while-relay-down');
    await relay.restart();
    await waitForMessage(alice, queued, { status: 'sent' });
    await waitForMessage(bob, queued, { sender: 'Alice' });
    const answer = text('Relay is back');
    await send(bob, answer);
    await waitForMessage(alice, answer, { sender: 'Bob' });
    await shot(alice, '06c-after-relay-restart');
    await shot(bob, '06c-after-relay-restart');

    // Delivered exactly once, not duplicated by the retry after the outage.
    for (const u of [alice, bob]) {
      const texts = (await shownMessages(u)).map((m) => m.text);
      for (const t of [queued, answer]) expect(texts.filter((x) => x === t)).toHaveLength(1);
    }
  });

  it('7. the relay’s database files, WAL included, hold none of the message texts', async () => {
    // The store is SQLite in WAL mode: the live scan covers the main file and the WAL as they are mid-run.
    const names = filesUnder(relay.dataDir).map((f) => path.basename(f));
    expect(names).toEqual(expect.arrayContaining(['relay.db', 'relay.db-wal']));
    const live = plaintextHits(relay.dataDir);
    await relay.stop();
    const afterStop = plaintextHits(relay.dataDir);
    expect(filesUnder(relay.dataDir).length).toBeGreaterThan(0);
    expect({ live, afterStop }).toEqual({ live: [], afterStop: [] });
    expect(sent.length).toBeGreaterThan(12);
  });
});
