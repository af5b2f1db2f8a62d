/**
 * Opening the account's session once the data can be read: the token wallet,
 * the chat service (wired to the views, the notifications and the relay
 * connection), then the connection itself. Also what the chat publishes:
 * the conversation list, with a waiting share offer's suggestion.
 */
import { ChatService } from '../chat-service.ts';
import { ChatStore, type StoredChat } from '../chat-store.ts';
import { OwnIdentity, type KeptKeys } from '../identity/own-identity.ts';
import { VerifiedPeople } from '../identity/verified-people.ts';
import { reportIfBug } from '../failure.ts';
import type { Vault } from '../vault.ts';
import { tokenStore, type AccountRecord } from '../account.ts';
import { ChannelError, ErrorCode } from '../../protocol/channel.ts';
import { TokenWallet } from '../tokens.ts';
import { socketIssuer } from '../token-issuer.ts';
import { TOKEN_KEY_REFUSED_WARNING, TokenKeyWatch } from '../token-key-watch.ts';
import { sessionExpired, type AppCore } from './core.ts';
import type { RelayLink } from './connection.ts';
import type { AppNotifications } from './notifications.ts';
import type { ShareOffers } from './share.ts';
import { t } from '../../platform/i18n.ts';

/** The reads a session starts before it opens (SessionOpener.read). */
export interface SessionReads {
  keys: Promise<KeptKeys>;
  wallet: Promise<TokenWallet>;
  verified: Promise<VerifiedPeople>;
  stored: Promise<StoredChat>;
}

export class SessionOpener {
  constructor(
    private readonly core: AppCore,
    private readonly link: RelayLink,
    private readonly notifications: AppNotifications,
    private readonly share: ShareOffers,
  ) {}

  /**
   * What a session reads that depends on nothing else: our device key and identity, the token wallet, the people
   * we verified and the chat store's metadata. Only reads (nothing is written), started together; a wake starts them while the account
   * itself is still being unsealed.
   */
  read(vault: Vault): SessionReads {
    const core = this.core;
    const reads: SessionReads = {
      keys: OwnIdentity.read(core.deps.db, vault),
      wallet: TokenWallet.open(
        () => core.api,
        tokenStore(core.deps.db, vault),
        () => {
          const a = core.account;
          return a === undefined || sessionExpired(a) ? undefined : a.session.token;
        },
        {
          ...this.issuerOption(),
          onPinChange: () => core.chat?.announceTokenKeyEverywhere(),
          onKeyRefused: () => void core.chat?.warnEverywhere(TOKEN_KEY_REFUSED_WARNING),
        },
      ),
      verified: VerifiedPeople.load(core.deps.db, vault),
      stored: new ChatStore(core.deps.db, vault).loadAtOpen(),
    };
    // Each is awaited by activate(); one whose session never opens (no account, or another read failed first) is moot.
    for (const r of Object.values(reads) as Promise<unknown>[]) r.catch(() => undefined);
    return reads;
  }

  /** Load the wallet and the chat for an account (with what `read` started, if given), and go online. */
  async activate(account: AccountRecord, started?: SessionReads): Promise<void> {
    const core = this.core;
    const vault = core.vault;
    if (vault === undefined) throw new ChannelError(ErrorCode.Locked, t('bg_err_locked'));
    const reads = started ?? this.read(vault);
    core.account = account;
    if (account.relayUrl !== core.api.baseUrl) {
      core.api = core.relayApi(account.relayUrl);
      core.view.quietly({ ...core.state, relay: { url: account.relayUrl, state: 'unknown' } });
    }
    // Accounts made before identities get theirs at the first unlock (docs/identity.md): only then is anything written.
    const [wallet, own, verified] = await Promise.all([reads.wallet, OwnIdentity.ensure(core.deps.db, vault, undefined, undefined, reads.keys), reads.verified]);
    core.wallet = wallet;
    core.needsLogin = sessionExpired(account);
    core.chat = await ChatService.open({
      stored: reads.stored,
      db: core.deps.db,
      vault,
      api: () => core.api,
      wallet: () => core.wallet!,
      identity: () => ({ displayName: core.account!.displayName, mailbox: core.account!.mailbox, relayUrl: core.account!.relayUrl }),
      onSummaries: () => this.publishChat(),
      onMessages: (conversationId, messages) => core.view.emit({ type: 'messages', conversationId, messages }),
      onExpired: (conversationId, seqs) => core.view.emit({ type: 'expired', conversationId, seqs }),
      onTransfer: (event) => core.view.emit(event),
      onIncoming: (c, m) => this.notifications.incoming(c, m),
      ack: (mailboxId, ids) => this.link.ack(mailboxId, ids),
      tokenKeys: new TokenKeyWatch({ pinned: () => wallet.pinnedKey, published: () => core.api.tokenKeys() }),
      onMailbox: (change) => this.link.mailboxChanged(change),
      ...(core.deps.confirmTimeoutMs === undefined ? {} : { confirmTimeoutMs: core.deps.confirmTimeoutMs }),
      readReceipts: () => core.state.settings.readReceipts,
      people: { own, verified },
      // A fault of ours met while receiving: the chat shows a notice in the conversation; the log names the error.
      onBug: (err) => reportIfBug('handling a delivery', err),
      ...(core.directory === undefined ? {} : { directory: core.directory.forChat() }),
      onRemovedFromAccount: () => core.devices?.removed(),
    });
    await core.devices?.opened();
    // A device linked or removed (or this one linked): every conversation hears the new roster.
    own.onRosterChange(() => core.chat?.announcePersonEverywhere());
    core.update({
      ...core.state,
      account: core.accountView(),
      conversations: core.chat.summaries(),
      unreadTotal: core.chat.unreadTotal(),
    });
    this.notifications.afterSummaries();
    // The token supply is topped up once online (blinding is CPU work; keep it off the wake path).
    this.link.connect();
  }

  /** Issuance names the account: it gets a short-lived socket of its own, never the delivery one. */
  issuerOption(): { issuer?: ReturnType<typeof socketIssuer> } {
    const WebSocketImpl = this.core.deps.WebSocket;
    return WebSocketImpl === undefined ? {} : { issuer: socketIssuer(() => this.core.api.baseUrl, WebSocketImpl) };
  }

  /** The chat's conversations changed: publish them (and clear what their notifications no longer need). */
  publishChat(): void {
    const core = this.core;
    if (core.chat === undefined) return;
    const conversations = core.chat.summaries();
    const share = this.share.withSuggestion(conversations);
    core.update({ ...core.state, conversations, unreadTotal: core.chat.unreadTotal(), ...(share === undefined ? {} : { share }) });
    this.notifications.afterSummaries();
  }
}
