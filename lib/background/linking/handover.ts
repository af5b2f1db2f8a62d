/**
 * The handover over the secure channel, once the person compared the
 * confirmation string: the new device introduces itself (device key, name,
 * address); the existing device answers with the identity, a roster that
 * includes the new device, the display name, settings, the conversation list
 * and, with the person's consent, the message history in pages; the new
 * device keeps it all and says done. Messages: handover-messages.ts.
 *
 * The new device checks before it keeps anything: the identity port refuses
 * a roster that does not vouch for this device, and a history longer than
 * announced is refused. Either side that fails sends `abort` so the other
 * stops at once instead of waiting out its timeout.
 */
import { LinkError } from './errors.ts';
import { encodeHandover, MAX_HISTORY_PAGE, parseHandover, type HandoverMessage } from './handover-messages.ts';
import type { AccountHandover, AccountPort, DirectoryPort, HistoryPort, HistoryRecord, IdentityPort, NewDevice } from './ports.ts';
import type { SecureChannel } from './secure-channel.ts';

/** What each device shows while the handover runs. */
export type HandoverProgress = { phase: 'account' } | { phase: 'history'; done: number; total: number } | { phase: 'finished' };

export interface HandoverOptions {
  /** How long to wait for each message of the other device. */
  timeoutMs: number;
  onProgress?: (p: HandoverProgress) => void;
}

async function receive<T extends HandoverMessage['t']>(channel: SecureChannel, timeoutMs: number, ...types: T[]): Promise<Extract<HandoverMessage, { t: T }>> {
  const m = parseHandover(await channel.receive(timeoutMs));
  if (m.t === 'abort') throw new LinkError('aborted', m.reason === '' ? 'the other device stopped linking' : `the other device stopped linking: ${m.reason}`);
  if (!(types as string[]).includes(m.t)) throw new LinkError('malformed', `the other device sent ${m.t} out of turn`);
  return m as Extract<HandoverMessage, { t: T }>;
}

/** Runs `work`; on failure tells the other device (best effort) before passing the error on. */
async function orAbort<T>(channel: SecureChannel, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const reason = err instanceof LinkError && err.code === 'aborted' ? '' : 'the handover failed';
    if (!(err instanceof LinkError && (err.code === 'tampered' || err.code === 'aborted'))) {
      await channel.send(encodeHandover({ t: 'abort', reason })).catch(() => undefined);
    }
    throw err;
  }
}

/** A history message stays well under the channel's message limit: long texts make a page smaller. */
const HISTORY_MESSAGE_BYTES = 1024 * 1024;

async function sendHistory(channel: SecureChannel, records: HistoryRecord[]): Promise<void> {
  const encoded = encodeHandover({ t: 'history', records });
  if (encoded.length <= HISTORY_MESSAGE_BYTES || records.length === 1) {
    await channel.send(encoded);
    return;
  }
  const half = Math.ceil(records.length / 2);
  await sendHistory(channel, records.slice(0, half));
  await sendHistory(channel, records.slice(half));
}

export interface ExistingSide {
  identity: IdentityPort;
  account: AccountPort;
  history: HistoryPort;
}

/** The existing device: hands the account over; answers the new device as it introduced itself. */
export function handOver(channel: SecureChannel, ports: ExistingSide, opts: HandoverOptions & { sendHistory: boolean }): Promise<NewDevice> {
  return orAbort(channel, async () => {
    const { device } = await receive(channel, opts.timeoutMs, 'device');
    opts.onProgress?.({ phase: 'account' });
    const account = await ports.account.exportAccount();
    const total = opts.sendHistory ? await ports.history.count() : 0;
    const identity = await ports.identity.exportForLink();
    const roster = await ports.identity.signRosterWith(device);
    await channel.send(encodeHandover({ t: 'account', identity, roster, account, history: total }));
    identity.fill(0);
    let sent = 0;
    if (total > 0) {
      opts.onProgress?.({ phase: 'history', done: 0, total });
      for await (const page of ports.history.pages(MAX_HISTORY_PAGE)) {
        // Never more than announced: the new device would refuse it.
        const records = page.slice(0, total - sent);
        if (records.length === 0) break;
        await sendHistory(channel, records);
        sent += records.length;
        opts.onProgress?.({ phase: 'history', done: sent, total });
      }
    }
    await channel.send(encodeHandover({ t: 'end' }));
    // Keeping a long history takes the new device a while: allow it more than one message's wait.
    await receive(channel, opts.timeoutMs * 4, 'done');
    opts.onProgress?.({ phase: 'finished' });
    return device;
  });
}

export interface NewSide {
  identity: IdentityPort;
  directory: DirectoryPort;
  account: AccountPort;
  history: HistoryPort;
}

/** The new device: introduces itself, then keeps what the existing device hands over. */
export function takeOver(channel: SecureChannel, ports: NewSide, opts: HandoverOptions & { deviceName: string }): Promise<AccountHandover> {
  return orAbort(channel, async () => {
    const device: NewDevice = { deviceKey: await ports.identity.deviceKey(), name: opts.deviceName, address: await ports.directory.ownAddress() };
    await channel.send(encodeHandover({ t: 'device', device }));
    const m = await receive(channel, opts.timeoutMs, 'account');
    opts.onProgress?.({ phase: 'account' });
    await ports.identity.importFromLink(m.identity, m.roster);
    m.identity.fill(0);
    await ports.account.importAccount(m.account);
    let received = 0;
    if (m.history > 0) opts.onProgress?.({ phase: 'history', done: 0, total: m.history });
    for (;;) {
      const next = await receive(channel, opts.timeoutMs, 'history', 'end');
      if (next.t === 'end') break;
      received += next.records.length;
      if (received > m.history) throw new LinkError('malformed', 'the other device sent more history than it announced');
      await ports.history.importPage(next.records);
      opts.onProgress?.({ phase: 'history', done: received, total: m.history });
    }
    // Fewer is fine: messages deleted on the existing device while it was sending.
    await channel.send(encodeHandover({ t: 'done' }));
    opts.onProgress?.({ phase: 'finished' });
    return m.account;
  });
}
