/**
 * Shared set-up for the daily-driver e2e cases (issue 17): two or more people,
 * each in their own real Chromium with the built extension, against one real
 * relay process. Each case file in this folder opens its own people, so one
 * part's state never leaks into another's.
 */
import { rmSync } from 'node:fs';
import {
  onboard,
  openBrowser,
  type ChatUser,
  type ShownMessage,
  type UserBrowser,
} from '../../support/chat-driver.ts';
import { snapshotExtension } from '../../support/extension.ts';
import { startRelay, type RelayProcess } from '../../support/relay-process.ts';

export interface People<U extends ChatUser[] = ChatUser[]> {
  relay: RelayProcess;
  /** One person per name given to openPeople, in that order. */
  users: U;
  extensionDir: string;
  /** Closes every browser, stops the relay and removes the profiles. */
  close(): Promise<void>;
}

/**
 * Opens one browser per name (no passkey PRF unless asked), all onboarded
 * against a fresh relay. The extension is copied once and its id given to
 * the relay as an RP ID (see tests/e2e/chat.test.ts for why).
 */
export async function openPeople<const N extends readonly string[]>(
  names: N,
  opts: { prf?: boolean } = {},
): Promise<People<{ -readonly [K in keyof N]: ChatUser }>> {
  const extension = snapshotExtension();
  const relay = await startRelay({ args: ['--extra-rp-ids', `${extension.id},chrome-extension://${extension.id}`] });
  const opened = await Promise.all(names.map((n) => openBrowser(n, { extensionDir: extension.dir, prf: opts.prf ?? false })));
  const users = opened as { -readonly [K in keyof N]: ChatUser };
  for (const u of opened) await onboard(u, relay.url);
  return {
    relay,
    users,
    extensionDir: extension.dir,
    async close() {
      for (const u of opened) await u.ext.close().catch(() => undefined);
      await relay.stop();
      for (const dir of [...opened.map((u) => u.profileDir), extension.dir]) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Every message of the open conversation, in order. The list renders only
 * the messages near the viewport, so scroll it from top to bottom, reading
 * each window, then leave it at the bottom.
 */
export async function everyMessage(user: ChatUser<UserBrowser>): Promise<ShownMessage[]> {
  const rows = await user.page.evaluate(async () => {
    const list = document.querySelector<HTMLElement>('[data-testid="message-list"]');
    if (list === null) return [];
    const bySeq = new Map<number, { text: string; sender: string; status: string; kind: string; self: boolean }>();
    const read = () => {
      for (const m of list.querySelectorAll('[data-testid="message"]')) {
        bySeq.set(Number(m.getAttribute('data-seq')), {
          text: m.querySelector('[data-testid="message-text"]')?.textContent ?? '',
          sender: m.getAttribute('data-sender') ?? '',
          status: m.getAttribute('data-status') ?? '',
          kind: m.getAttribute('data-kind') ?? '',
          self: m.getAttribute('data-self') === 'true',
        });
      }
    };
    const frames = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    list.scrollTop = 0;
    await frames();
    for (let i = 0; i < 500; i++) {
      read();
      if (list.scrollTop + list.clientHeight >= list.scrollHeight - 1) break;
      list.scrollTop += Math.max(50, list.clientHeight / 2);
      await frames();
    }
    read();
    list.scrollTop = list.scrollHeight;
    return [...bySeq.entries()].sort((a, b) => a[0] - b[0]).map(([, m]) => m);
  });
  return rows;
}

