/**
 * This device in the directory: its address (device-address.ts), made of the
 * relay account and a Welcome mailbox created once per account and kept in
 * the sealed account record, listened on like the conversations' mailboxes.
 * The Welcome mailbox is made when the address is first asked for; the
 * KeyPackage supply is topped up whenever the connection comes up
 * (key-package-supply.ts), and again after a Welcome used one of our packages.
 */
import { getCipherSuite } from '../../crypto/suites.ts';
import { saveAccount } from '../account.ts';
import { DEFAULT_SUITE } from '../chat-service.ts';
import { KeyPackageStore } from '../key-package-store.ts';
import { KeyPackageSupply } from '../key-package-supply.ts';
import type { ChatDirectory } from '../chat-directory.ts';
import type { DeviceAddress } from '../device-address.ts';
import { relayProblem } from '../chat-errors.ts';
import { reportIfBug } from '../failure.ts';
import type { MailboxCredentials } from '../relay-api.ts';
import * as text from '../text.ts';
import { ChannelError, ErrorCode } from '../../protocol/channel.ts';
import type { RelayLink } from './connection.ts';
import { sessionExpired, type AppCore, type DirectoryPart } from './core.ts';

export class DeviceDirectory implements DirectoryPart {
  private creating: Promise<MailboxCredentials> | undefined;
  readonly supply: KeyPackageSupply;

  constructor(
    private readonly core: AppCore,
    private readonly link: RelayLink,
  ) {
    this.supply = new KeyPackageSupply({
      suite: getCipherSuite(DEFAULT_SUITE),
      api: () => core.api,
      session: () => this.session(),
      store: () => this.keyPackages(),
    });
  }

  /** The relay session, while it is valid (claims and uploads need it). */
  private session(): string | undefined {
    const a = this.core.account;
    return a === undefined || sessionExpired(a) ? undefined : a.session.token;
  }

  private keyPackages(): KeyPackageStore | undefined {
    const vault = this.core.vault;
    return vault === undefined ? undefined : new KeyPackageStore(this.core.deps.db, vault);
  }

  /** Top the KeyPackage supply up in the background (a failure waits for the next connection). */
  replenish(): void {
    this.supply.replenish().catch((err: unknown) => reportIfBug('topping up the KeyPackages', err));
  }

  /** This device's address; makes the Welcome mailbox first when the account has none yet. */
  async address(): Promise<DeviceAddress> {
    const mailbox = await this.welcomeMailbox();
    return { accountId: this.core.unlockedAccount().account.accountId, welcomeMailboxId: mailbox.mailboxId };
  }

  /** The account's Welcome mailbox, made (one token) and kept in the account record the first time. */
  welcomeMailbox(): Promise<MailboxCredentials> {
    const existing = this.core.unlockedAccount().account.welcomeMailbox;
    if (existing !== undefined) return Promise.resolve(existing);
    this.creating ??= this.create().finally(() => {
      this.creating = undefined;
    });
    return this.creating;
  }

  /** The chat service's side of the directory. */
  forChat(): ChatDirectory {
    return {
      address: () => this.address(),
      session: () => this.session(),
      keyPackages: () => this.keyPackages(),
      used: () => this.replenish(),
    };
  }

  /**
   * The connection is up: top the KeyPackages up. The Welcome mailbox is
   * made only when the address is first asked for: spending a token right
   * after signing up would tie the new mailbox to the account by timing.
   */
  online(): void {
    if (this.core.account === undefined || this.core.vault === undefined) return;
    this.replenish();
  }

  private async create(): Promise<MailboxCredentials> {
    const core = this.core;
    const { account, vault } = core.unlockedAccount();
    const wallet = core.wallet;
    if (wallet === undefined) throw new ChannelError(ErrorCode.Unavailable, text.offline(text.Activity.address));
    let mailbox: MailboxCredentials;
    try {
      mailbox = await wallet.spend((token) => core.api.createMailbox(token));
    } catch (err) {
      throw relayProblem(err, text.Activity.address);
    }
    const current = core.account;
    if (current === undefined || current.accountId !== account.accountId || core.vault !== vault) {
      // Signed out meanwhile: the mailbox belongs to nobody; it expires at the relay if this fails.
      void core.api.deleteMailbox(mailbox).catch(() => undefined);
      throw new ChannelError(ErrorCode.Forbidden, text.SIGNED_OUT);
    }
    const next = { ...current, welcomeMailbox: mailbox };
    await saveAccount(core.deps.db, vault, next);
    core.account = next;
    this.link.mailboxChanged({ added: mailbox });
    return mailbox;
  }
}
