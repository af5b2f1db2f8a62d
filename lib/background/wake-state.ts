/**
 * The view state kept at rest, so a woken worker can answer "what is the
 * state?" before the full background is loaded.
 *
 * Most of the worker's script is the full background (the MLS engine, the
 * chat, linking, backup), and reading and compiling it is most of a wake. So
 * the worker's own script is a small shell (entrypoints/background.ts): it
 * answers the views' first question from the last state the full background
 * published, sealed here, and loads the full background right after, which
 * then answers everything and publishes its own state to every live view.
 *
 * The kept state is only used when it says exactly what the full background
 * would say at its start:
 * - never with the lock on, or while a key rotation is unfinished: the shell
 *   opens nothing a lock protects (the lock screen comes from the full one);
 * - never while something in flight shows (linking, devices being added, a
 *   restore, a share offer, this device removed from the account);
 * - never with disappearing messages on: a preview may have expired while
 *   the worker slept;
 * - not once the relay session ends or a mute ends (what shows then differs),
 *   and not across versions.
 *
 * The record is deleted as soon as one of these rules fails, and rewritten a
 * moment after each change otherwise: at once when the change takes a
 * conversation or a last message away, so a worker stopped right then cannot
 * show it again at its next wake.
 */
import type { AppState } from '../protocol/channel.ts';
import { WAKE_STATE_SLOT, type Database } from './db.ts';
import { WRAPPED, WRAPPED_NEXT } from './lock.ts';
import { DEVICE_KEY, ROTATION } from './key-rotation.ts';
import { MUTE_ALWAYS } from '../protocol/channel.ts';
import { Vault } from './vault.ts';
import { reportIfBug } from './failure.ts';

const STORE = 'secrets';
const ID = WAKE_STATE_SLOT;
/** A change is written this long after the last one (a burst of messages writes once). */
export const WAKE_STATE_DELAY_MS = 250;

interface KeptState {
  v: 1;
  version: string;
  /** Ms since the epoch after which the kept state may no longer be what the full background shows. */
  validUntil: number;
  state: AppState;
}

/** Why a state cannot be kept; `undefined` when it can. */
function notKeepable(state: AppState): string | undefined {
  if (state.account.state !== 'ready' || state.account.lockEnabled) return 'no unlocked account without a lock';
  if (state.linking !== undefined || (state.addingDevices?.length ?? 0) > 0) return 'a link under way';
  if (state.restore !== undefined) return 'a restore under way';
  if (state.share !== undefined) return 'a share offer';
  if (state.removedFromAccount === true) return 'removed from the account';
  if (state.conversations.some((c) => c.disappearAfter !== undefined)) return 'disappearing messages';
  return undefined;
}

/**
 * The state as the full background shows it once started: connecting (it connects as it starts, app/session.ts),
 * the relay not yet checked.
 */
function atStart(state: AppState): AppState {
  // No device being added is said by an empty list once a link's job ran, and by none at the start.
  const { addingDevices: _none, ...rest } = state;
  return { ...rest, connection: 'connecting', relay: { url: state.relay.url, state: 'unknown' } };
}

/**
 * Whether `next` takes away something `before` showed: a conversation (deleted, left, ended), or a last message's
 * preview that was not replaced by a newer message (a message deleted or expired). Such a change is kept at once, so
 * a worker stopped right after it cannot show what was taken away at its next wake.
 */
function takesAway(before: AppState | undefined, next: AppState): boolean {
  if (before === undefined) return false;
  const now = new Map(next.conversations.map((c) => [c.id, c]));
  return before.conversations.some((b) => {
    const n = now.get(b.id);
    return n === undefined || (n.lastMessage?.preview !== b.lastMessage?.preview && n.lastActivity <= b.lastActivity);
  });
}

/**
 * Writes the published state, sealed, a moment after each change (full
 * background side); at once when the change takes something away or the
 * state may not be kept. `sessionEnds` is when the relay session ends (ms
 * since the epoch), or undefined without an account.
 */
export class WakeStateWriter {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pending: AppState | undefined;
  private written: Promise<void> = Promise.resolve();
  private stopped = false;
  /** The last state handed in, to tell what a change takes away. */
  private last: AppState | undefined;

  constructor(
    private readonly db: Database,
    private readonly version: string,
    private readonly vault: () => Vault | undefined,
    private readonly sessionEnds: () => number | undefined,
  ) {}

  /** The state changed: write it (or delete the kept one) after the quiet moment, or at once (see above). */
  changed(state: AppState): void {
    if (this.stopped) return;
    const atOnce = notKeepable(state) !== undefined || takesAway(this.last, state);
    this.last = state;
    this.pending = state;
    clearTimeout(this.timer);
    if (atOnce) void this.flush();
    else this.timer = setTimeout(() => void this.flush(), WAKE_STATE_DELAY_MS);
  }

  /** Write what is pending now (tests, and stopping). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const state = this.pending;
    this.pending = undefined;
    if (state === undefined) return this.written;
    this.written = this.written.then(() => this.write(state)).catch((err: unknown) => reportIfBug('keeping the view state for the next wake', err));
    return this.written;
  }

  /** No more writes (this instance stops; another may own the store). */
  stop(): void {
    clearTimeout(this.timer);
    this.pending = undefined;
    this.stopped = true;
  }

  private async write(state: AppState): Promise<void> {
    const vault = this.vault();
    const ends = this.sessionEnds();
    const keep = vault !== undefined && ends !== undefined && notKeepable(state) === undefined;
    if (!keep) {
      await this.db.delete(STORE, ID);
      return;
    }
    const muteEnds = state.conversations.map((c) => c.mutedUntil).filter((u): u is number => u !== undefined && u < MUTE_ALWAYS);
    const kept: KeptState = { v: 1, version: this.version, validUntil: Math.min(ends, ...muteEnds), state: atStart(state) };
    await vault.writing(async () => {
      const record = await vault.sealJson(STORE, ID, kept);
      // Checked in the put's own transaction: a lock being turned on meanwhile (its rotation's first step) wins.
      const tx = this.db.transaction(['settings', STORE], 'readwrite');
      if (await lockRecordsPresent(tx.objectStore('settings'))) await tx.objectStore(STORE).delete(ID);
      else await tx.objectStore(STORE).put(record, ID);
      await tx.done;
    });
  }
}

/** Whether the lock is on, or a key rotation unfinished (either forbids a kept state). */
async function lockRecordsPresent(settings: { get(key: string): Promise<unknown> }): Promise<boolean> {
  const found = await Promise.all([settings.get(WRAPPED), settings.get(WRAPPED_NEXT), settings.get(ROTATION)]);
  return found.some((v) => v !== undefined);
}

/**
 * The kept state, when the rules above allow it now (shell side). Never
 * creates a key and never throws: whatever is missing, locked, stale or
 * unreadable leaves the answer to the full background.
 */
export async function readWakeState(db: Database, version: string, now: number): Promise<AppState | undefined> {
  try {
    const tx = db.transaction(['settings', 'keys', STORE], 'readonly');
    const [locked, key, record] = await Promise.all([lockRecordsPresent(tx.objectStore('settings')), tx.objectStore('keys').get(DEVICE_KEY), tx.objectStore(STORE).get(ID)]);
    if (locked || key === undefined || record === undefined) return undefined;
    const kept = await Vault.fromKey(key).openJson<KeptState>(STORE, ID, record);
    if (kept.v !== 1 || kept.version !== version || !(now < kept.validUntil)) return undefined;
    const state = kept.state;
    return notKeepable(state) === undefined ? state : undefined;
  } catch {
    return undefined;
  }
}
