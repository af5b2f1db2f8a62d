/**
 * Linking devices in the background app: the link.* requests, the view's
 * `linking` and `addingDevices`, and resuming the add job when the session
 * opens, after an unlock and whenever the connection comes back. The flow
 * itself is lib/background/linking/link-service.ts; this part gives it this
 * device's relay session, its account and settings, the stored history, and
 * the identity and directory ports (link-ports.ts; fakes in tests through
 * BackgroundDeps.linkPorts).
 */
import { ChannelError, ErrorCode, type NotificationContent } from '../../protocol/channel.ts';
import { saveSetting } from '../db.ts';
import { reportIfBug } from '../failure.ts';
import { AddDeviceJobs, sealedAddJobStore } from '../linking/add-job.ts';
import { deviceNameFromUserAgent } from '../linking/device-name.ts';
import { addingView, LinkService } from '../linking/link-service.ts';
import type { AccountHandover, AccountPort, LinkPortsFactory, NewDevice } from '../linking/ports.ts';
import { storedHistoryPort } from '../linking/history-port.ts';
import { ChatStore } from '../chat-store.ts';
import * as text from '../text.ts';
import type { Vault } from '../vault.ts';
import type { AppCore } from './core.ts';
import { chatLinkPorts } from './link-ports.ts';
import { t } from '../../platform/i18n.ts';



/** The account and settings that follow the person, over this app's state. */
function accountPort(core: AppCore, setDisplayName: (name: string) => Promise<unknown>): AccountPort {
  return {
    async exportAccount(): Promise<AccountHandover> {
      const { account } = core.unlockedAccount();
      const s = core.state.settings;
      return {
        displayName: account.displayName,
        settings: { notifications: s.notifications, notificationContent: s.notificationContent, readReceipts: s.readReceipts },
        conversations: core.state.conversations.filter((c) => c.status === 'active').map((c) => ({ id: c.id, name: c.name })),
      };
    },
    async importAccount(a: AccountHandover): Promise<void> {
      await setDisplayName(a.displayName);
      const db = core.deps.db;
      await saveSetting(db, 'notifications', a.settings.notifications);
      await saveSetting(db, 'notificationContent', a.settings.notificationContent satisfies NotificationContent);
      await saveSetting(db, 'readReceipts', a.settings.readReceipts);
      core.update({ ...core.state, settings: { ...core.state.settings, ...a.settings } });
    },
  };
}

export class LinkControl {
  private service: LinkService | undefined;
  private jobs: AddDeviceJobs | undefined;
  private builtFor: { vault: Vault; accountId: string } | undefined;
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly core: AppCore,
    /** Fakes in tests; by default the chat's own identity and directory (link-ports.ts). */
    private readonly ports: LinkPortsFactory | undefined,
    private readonly setDisplayName: (name: string) => Promise<unknown>,
    private readonly userAgent: string = typeof navigator === 'undefined' ? '' : navigator.userAgent,
  ) {}

  /** The session opened: resume adding a linked device where a stopped worker left it. */
  resume(): void {
    let built: ReturnType<LinkControl['build']>;
    try {
      built = this.build();
    } catch {
      // Locked or no account: it resumes at the unlock.
      return;
    }
    if (built === undefined) return;
    void built.jobs.resume().catch((err: unknown) => reportIfBug('resuming adding a linked device', err));
  }

  async start(): Promise<{ code: string; expiresAt: number }> {
    const service = this.need();
    const r = await service.start();
    service
      .finished()
      .then((account) => this.watchJoins(account.conversations.map((c) => c.id)))
      .catch(() => undefined);
    return r;
  }

  /**
   * New device: "Adding this device to 12 of 40 conversations…", counted
   * from the conversations handed over that have arrived here (by Welcome),
   * until all have (or the worker stops: it is only a progress line).
   */
  private watchJoins(expected: readonly string[]): void {
    const core = this.core;
    const want = new Set(expected);
    if (want.size === 0) return;
    let last = -1;
    const check = (): void => {
      const done = core.state.conversations.filter((c) => want.has(c.id) && c.status === 'active').length;
      if (done === last) return;
      last = done;
      if (done >= want.size) {
        stop();
        core.update({ ...core.state, addingDevices: [] });
        return;
      }
      const view = { deviceName: text.THIS_DEVICE, done, total: want.size, failed: 0, text: text.addingThisDevice(done, want.size) };
      core.update({ ...core.state, addingDevices: [view] });
    };
    const stop = core.view.subscribe(() => check());
    check();
  }

  enter(code: string, sendHistory: boolean): Promise<{ confirmation: string }> {
    return this.need().enter(code, sendHistory);
  }

  async confirm(match: boolean): Promise<NewDevice | null> {
    return this.need().confirm(match);
  }

  async cancel(): Promise<void> {
    await this.service?.cancel();
  }

  private need(): LinkService {
    const built = this.build();
    if (built === undefined) throw new ChannelError(ErrorCode.Unavailable, t('bg_err_linking_unavailable'));
    return built.service;
  }

  private build(): { service: LinkService; jobs: AddDeviceJobs } | undefined {
    const core = this.core;
    const { vault, account } = core;
    if (vault === undefined || account === undefined) throw new ChannelError(ErrorCode.Locked, t('bg_err_unlock_first'));
    // Built for this vault and account: a lock/unlock or a new account builds afresh (and drops a link under way).
    if (this.service !== undefined && this.jobs !== undefined && this.builtFor?.vault === vault && this.builtFor.accountId === account.accountId) {
      return { service: this.service, jobs: this.jobs };
    }
    const ports = this.ports === undefined ? chatLinkPorts(() => core.chat) : this.ports({ db: core.deps.db, vault, account, api: core.api });
    if (ports === undefined) return undefined;
    const publishAdding = (): void => {
      void this.jobs
        ?.progress()
        .then((all) => core.update({ ...core.state, addingDevices: all.filter((p) => p.done + p.failed < p.total).map(addingView) }))
        .catch(() => undefined);
    };
    const jobs = new AddDeviceJobs(sealedAddJobStore(core.deps.db, vault), ports.directory, (p) =>
      core.update({ ...core.state, addingDevices: p.finished ? [] : [addingView(p)] }),
    );
    const service = new LinkService({
      api: core.api,
      session: () => core.unlockedAccount().account.session.token,
      identity: ports.identity,
      directory: ports.directory,
      account: accountPort(core, this.setDisplayName),
      history: ports.history ?? storedHistoryPort(core.deps.db, vault, new ChatStore(core.deps.db, vault)),
      jobs,
      deviceName: deviceNameFromUserAgent(this.userAgent),
      onView: (view) => {
        const { linking: _gone, ...rest } = core.state;
        core.update(view === undefined ? rest : { ...rest, linking: view });
      },
    });
    this.jobs = jobs;
    this.service = service;
    // Back online: adding the linked device goes on where offline stopped it.
    this.unwatch?.();
    let wasOnline = core.state.connection === 'online';
    this.unwatch = core.view.subscribe((state) => {
      const online = state.connection === 'online';
      if (online && !wasOnline) void jobs.resume().catch((err: unknown) => reportIfBug('resuming adding a linked device', err));
      wasOnline = online;
    });
    this.builtFor = { vault, accountId: account.accountId };
    publishAdding();
    return { service, jobs };
  }
}
