/**
 * The people of the multi-device e2e scenario (issue 18), shared by its step
 * modules in this folder, which run in order as one story: Alice on Chromium
 * and Bob on Chromium talk first; step a links Alice's Firefox to her
 * account; later steps use all three browsers. One real relay process, the
 * built extensions (copied, so a rebuild mid-run changes nothing), nothing
 * mocked. A step that needs an earlier one's result says so when it is missing.
 */
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { onboard, openBrowser, type ChatUser, type UserBrowser } from '../../support/chat-driver.ts';
import { screenshot, snapshotExtension, type ExtensionBrowser } from '../../support/extension.ts';
import { snapshotFirefoxExtension, type FirefoxExtensionBrowser } from '../../support/firefox.ts';
import { startRelay, type RelayProcess } from '../../support/relay-process.ts';

export interface World {
  relay: RelayProcess;
  chromeBuild: { dir: string; id: string };
  firefoxBuild: string;
  /** Alice's first device. */
  alice: ChatUser<ExtensionBrowser>;
  bob: ChatUser<ExtensionBrowser>;
  /** Alice's second device, once step a linked it. */
  aliceFx?: ChatUser<FirefoxExtensionBrowser>;
  /** The conversation Alice and Bob shared before the link (its history goes to Firefox). */
  shared: string;
  /** What they wrote in it before the link, in order, as Alice sees it ("me: …" or "Bob: …"). */
  sharedHistory: string[];
  /** Alice's other conversation, alone (linking adds Firefox to every conversation). */
  solo: string;
}

const partial: Partial<World> = {};
/** Filled by useWorld's beforeAll and by the steps. */
export const world = partial as World;

/** The Firefox device, or a clear failure when step a did not link it. */
export function aliceFx(): ChatUser<FirefoxExtensionBrowser> {
  if (world.aliceFx === undefined) throw new Error('Alice’s Firefox is not linked: step a failed');
  return world.aliceFx;
}

/** The file's hooks: open the relay and the two Chromium browsers with onboarded accounts; close everything at the end. */
export function useWorld(): void {
  beforeAll(async () => {
    world.chromeBuild = snapshotExtension();
    world.firefoxBuild = snapshotFirefoxExtension();
    // Chromium's passkeys are scoped to the extension id; Firefox's to the relay's host (docs/firefox.md).
    world.relay = await startRelay({ args: ['--extra-rp-ids', `${world.chromeBuild.id},chrome-extension://${world.chromeBuild.id}`] });
    const [alice, bob] = await Promise.all([
      openBrowser('Alice', { extensionDir: world.chromeBuild.dir, prf: false }),
      openBrowser('Bob', { extensionDir: world.chromeBuild.dir, prf: false }),
    ]);
    world.alice = alice;
    world.bob = bob;
    await onboard(alice, world.relay.url);
    await onboard(bob, world.relay.url);
  });

  // What each browser showed when a step failed: md-failed-<step>-<who>.png.
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    const step = ctx.task.name.slice(0, 40).replace(/[^A-Za-z0-9]+/g, '-');
    for (const u of [partial.alice, partial.bob, partial.aliceFx]) if (u !== undefined) await shot(u, `failed-${step}`).catch(() => undefined);
  });

  afterAll(async () => {
    const users: (ChatUser<UserBrowser> | undefined)[] = [partial.alice, partial.bob, partial.aliceFx];
    for (const u of users) await u?.ext.close().catch(() => undefined);
    await partial.relay?.stop();
    for (const dir of [...users.map((u) => u?.profileDir), partial.chromeBuild?.dir, partial.firefoxBuild]) {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    }
  });
}

/**
 * A screenshot named md-<step>-<who>.png in artifacts/e2e/: of the viewport,
 * which is the whole side panel (its app fills the window and scrolls inside).
 * A full-page capture lays the page out again at the capture's size for one
 * frame; the message list (virtualized, measured by ResizeObserver) follows
 * that frame's heights, and the capture caught it scrolled past its end
 * (md-e3-still-talking-bob.png was blank while the list itself was at its end
 * before and after it).
 */
export async function shot(user: ChatUser<UserBrowser>, step: string, who?: string): Promise<void> {
  await screenshot(user.page, `md-${step}-${who ?? user.name.toLowerCase()}`);
}

/** The open conversation's newest message is inside the list's visible area (the list is not scrolled past its end). */
export async function newestInView(user: ChatUser<UserBrowser>): Promise<boolean> {
  return user.page.evaluate(() => {
    const list = document.querySelector('[data-testid="message-list"]');
    const items = document.querySelectorAll('[data-testid="message-list"] [role="listitem"]');
    const last = items[items.length - 1];
    if (list === null || last === undefined) return false;
    const box = list.getBoundingClientRect();
    const r = last.getBoundingClientRect();
    return r.bottom > box.top && r.top < box.bottom && r.bottom <= box.bottom + 1;
  });
}

let counter = 0;
/** A message text that is unique in this run. */
export function text(t: string): string {
  return `${t} [md-${counter++}-${Math.random().toString(36).slice(2, 6)}]`;
}
