/**
 * Linking, as the view drives it (channel methods link.*), on either device:
 *
 *   new device       start()  → open a slot, show the code      → the existing device joins
 *                              → handshake, show the digits      → take the account over → done
 *   existing device  enter()  → join the slot, handshake, digits
 *                    confirm(true) → hand the account over → start the job that adds the new
 *                                    device to every conversation (add-job.ts) → done
 *
 * One link at a time per device. Whatever fails ends the link with a
 * sentence in `view.error` (text.ts) and closes the slot; before the digits
 * are confirmed and the handover starts, nothing has changed on either
 * device.
 */
import type { AddingDeviceView, LinkingView } from '../../protocol/linking.ts';
import { ChannelError, ErrorCode } from '../../protocol/channel.ts';
import { classify } from '../failure.ts';
import type { RelayApi } from '../relay-api.ts';
import * as text from '../text.ts';
import type { AddDeviceJobs, AddJobProgress } from './add-job.ts';
import { formatLinkCode, newLinkCode, parseLinkCode, type LinkCode } from './code.ts';
import { LinkError } from './errors.ts';
import { handOver, takeOver, type HandoverProgress } from './handover.ts';
import { openAsExisting, openAsNew, type OpenedLink } from './handshake.ts';
import type { AccountHandover, AccountPort, DirectoryPort, HistoryPort, IdentityPort, NewDevice } from './ports.ts';
import { RelayLinkTransport } from './transport.ts';
import { t } from '../../platform/i18n.ts';

export interface LinkServiceDeps {
  api: RelayApi;
  /** The relay session token of this device's account (throws when there is none). */
  session: () => string;
  identity: IdentityPort;
  directory: DirectoryPort;
  account: AccountPort;
  history: HistoryPort;
  jobs: AddDeviceJobs;
  /** "Firefox on Linux" (device-name.ts). */
  deviceName: string;
  /** Publishes the link's view (undefined: no link under way). */
  onView: (view: LinkingView | undefined) => void;
  /** How long to wait for each message of the other device (default 60 s; the code itself expires at the relay). */
  timeoutMs?: number;
  /** How long the new device waits for someone to enter its code (default 5 min, the relay's code TTL). */
  codeWaitMs?: number;
}

/** The sentence for a failed link. */
export function linkFailure(err: unknown): string {
  if (err instanceof LinkError) {
    switch (err.code) {
      case 'bad-code':
        return text.LINK_CODE_BAD;
      case 'expired':
        return text.LINK_CODE_EXPIRED;
      case 'wrong-code':
        return text.LINK_WRONG_CODE;
      case 'tampered':
      case 'malformed':
        return text.LINK_BROKEN;
      case 'timeout':
        return text.LINK_TIMEOUT;
      case 'aborted':
        return text.LINK_ABORTED;
    }
  }
  if (err instanceof ChannelError) return err.message;
  if (classify(err).kind === 'offline') return text.LINK_OFFLINE;
  return text.LINK_BROKEN;
}

/** The job's progress as the view shows it. */
export function addingView(p: AddJobProgress): AddingDeviceView {
  return { deviceName: p.deviceName, done: p.done, total: p.total, failed: p.failed, text: text.addingDevice(p.deviceName, p.done, p.total) };
}

interface Pending {
  role: 'new' | 'existing';
  transport: RelayLinkTransport;
  /** Existing device: the opened link waiting for the person to compare the digits. */
  opened?: OpenedLink;
  sendHistory?: boolean;
  cancelled: boolean;
}

export class LinkService {
  private current: Pending | null = null;
  private shown: LinkingView | undefined;
  /** New device: settles when the link ends (tests and the view wait on it). */
  private finishedNew: Promise<AccountHandover> | null = null;

  constructor(private readonly deps: LinkServiceDeps) {}

  get view(): LinkingView | undefined {
    return this.shown;
  }

  /** New device: what the handover brought, once it is done (rejects with the LinkError when it failed). */
  finished(): Promise<AccountHandover> {
    if (this.finishedNew === null) return Promise.reject(new Error('no link started on this device'));
    return this.finishedNew;
  }

  /** New device: opens a slot and shows the code; the rest runs when the existing device comes. */
  async start(): Promise<{ code: string; expiresAt: number }> {
    this.busy();
    const { transport, slot, expiresAt } = await RelayLinkTransport.open(this.deps.api, this.deps.session());
    const code = newLinkCode(slot);
    const typed = formatLinkCode(code);
    const pending: Pending = { role: 'new', transport, cancelled: false };
    this.current = pending;
    this.show({ role: 'new', step: 'code', code: typed, expiresAt });
    this.finishedNew = this.runNew(pending, code);
    // The view follows `linking`; the promise is for tests. Never unhandled.
    this.finishedNew.catch(() => undefined);
    return { code: typed, expiresAt };
  }

  /** Existing device: joins the slot the code names and runs the handshake; answers the digits to compare. */
  async enter(typed: string, sendHistory: boolean): Promise<{ confirmation: string }> {
    this.busy();
    let code: LinkCode;
    try {
      code = parseLinkCode(typed);
    } catch (err) {
      throw new ChannelError(ErrorCode.InvalidInput, linkFailure(err), { cause: err });
    }
    let transport: RelayLinkTransport;
    try {
      transport = await RelayLinkTransport.join(this.deps.api, this.deps.session(), code.slot);
    } catch (err) {
      throw this.fail('existing', err);
    }
    const pending: Pending = { role: 'existing', transport, cancelled: false, sendHistory };
    this.current = pending;
    try {
      pending.opened = await openAsExisting(transport, code, this.timeout);
    } catch (err) {
      await transport.close();
      this.current = null;
      throw this.fail('existing', err);
    }
    this.show({ role: 'existing', step: 'confirm', confirmation: pending.opened.confirmation });
    return { confirmation: pending.opened.confirmation };
  }

  /**
   * Existing device: the person compared the digits. A match hands the
   * account over and starts adding the new device everywhere (the job goes on
   * after this returns); no match stops the link with nothing shared.
   */
  async confirm(match: boolean): Promise<NewDevice | null> {
    const pending = this.current;
    if (pending === null || pending.role !== 'existing' || pending.opened === undefined) throw new ChannelError(ErrorCode.BadRequest, t('bg_err_no_link_waiting'));
    const { channel, confirmation } = pending.opened;
    // Taken: a second confirm (a double click) finds nothing waiting and cannot run the handover twice.
    pending.opened = undefined;
    if (!match) {
      await channel.close();
      this.current = null;
      this.show({ role: 'existing', step: 'failed', error: text.LINK_NOT_CONFIRMED });
      return null;
    }
    this.show({ role: 'existing', step: 'handover', confirmation });
    let device: NewDevice;
    try {
      device = await handOver(channel, this.deps, {
        timeoutMs: this.timeout,
        sendHistory: pending.sendHistory === true,
        onProgress: (p) => this.progress('existing', p, confirmation),
      });
    } catch (err) {
      await channel.close();
      this.current = null;
      throw this.fail('existing', err);
    }
    await channel.close();
    this.current = null;
    this.show({ role: 'existing', step: 'done' });
    const conversations = (await this.deps.account.exportAccount()).conversations.map((c) => c.id);
    // The job is persisted before start() returns; adding runs on (and resumes after a restart).
    void this.deps.jobs.start(device.address, device.name, conversations).catch(() => undefined);
    return device;
  }

  /** Either device: stops the link under way (the slot is closed; the other side hears `aborted`). */
  async cancel(): Promise<void> {
    const pending = this.current;
    this.current = null;
    this.show(undefined);
    if (pending === null) return;
    pending.cancelled = true;
    // The transport under the channel: closing it ends the slot for both, whatever step the link is at.
    await pending.transport.close();
  }

  /** The job's progress for the view (AppState.addingDevices). */
  async adding(): Promise<AddingDeviceView[]> {
    return (await this.deps.jobs.progress()).map(addingView);
  }

  private get timeout(): number {
    return this.deps.timeoutMs ?? 60_000;
  }

  private async runNew(pending: Pending, code: LinkCode): Promise<AccountHandover> {
    const { transport } = pending;
    try {
      const opened = await openAsNew(transport, code, this.deps.codeWaitMs ?? 5 * 60_000);
      this.show({ role: 'new', step: 'confirm', confirmation: opened.confirmation });
      const account = await takeOver(opened.channel, this.deps, {
        timeoutMs: this.timeout,
        deviceName: this.deps.deviceName,
        onProgress: (p) => this.progress('new', p, opened.confirmation),
      });
      await opened.channel.close();
      this.current = null;
      this.show({ role: 'new', step: 'done' });
      return account;
    } catch (err) {
      await transport.close();
      if (pending.cancelled) throw err;
      this.current = null;
      throw this.fail('new', err);
    }
  }

  private progress(role: 'new' | 'existing', p: HandoverProgress, confirmation: string): void {
    if (p.phase !== 'history') {
      this.show({ role, step: 'handover', confirmation });
      return;
    }
    this.show({ role, step: 'handover', confirmation, progress: { done: p.done, total: p.total, text: text.copyingHistory(p.done, p.total) } });
  }

  private busy(): void {
    if (this.current !== null) throw new ChannelError(ErrorCode.BadRequest, t('bg_err_linking_busy'));
  }

  private fail(role: 'new' | 'existing', err: unknown): ChannelError {
    const message = linkFailure(err);
    this.show({ role, step: 'failed', error: message });
    return new ChannelError(ErrorCode.Unavailable, message, { cause: err });
  }

  private show(view: LinkingView | undefined): void {
    this.shown = view;
    this.deps.onView(view);
  }
}
