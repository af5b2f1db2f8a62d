/**
 * Opening the account's session once the data can be read: the token wallet,
 * the chat service (wired to the views, the notifications and the relay
 * connection), then the connection itself. Also what the chat publishes:
 * the conversation list, with a waiting share offer's suggestion.
 */
import { ChatService } from '../chat-service.ts';
import { ChatStore } from '../chat-store.ts';
import { OwnIdentity } from '../identity/own-identity.ts';
import { VerifiedPeople } from '../identity/verified-people.ts';
import { reportIfBug } from '../failure.ts';
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

export class SessionOpener {
  constructor(
    private readonly core: AppCore,
    private readonly link: RelayLink,
    private readonly notifications: AppNotifications,
    private readonly share: ShareOffers,
  ) {}

  /** Load the wallet and the chat for an account, and go online. */
  async activate(account: AccountRecord): Promise<void> {
    const core = this.core;
    const vault = core.vault;
    if (vault === undefined) throw new ChannelError(ErrorCode.Locked, t('bg_err_locked'));
    core.account = account;
    if (account.relayUrl !== core.api.baseUrl) {
      core.api = core.relayApi(account.relayUrl);
      core.view.quietly({ ...core.state, relay: { url: account.relayUrl, state: 'unknown' } });
    }
    // Everything the session reads is read at once: the wallet, our identity, the people we verified and the
    // conversations' metadata do not depend on each other, and a wake waits for the slowest, not for their sum.
    const stored = new ChatStore(core.deps.db, vault).loadAtOpen();
    // Awaited by the chat below; if something else fails first, the chat never opens and this outcome is moot.
    stored.catch(() => undefined);
    const walletOpen = TokenWallet.open(
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
    );
    // Accounts made before identities get theirs at the first unlock (docs/identity.md).
    const [wallet, own, verified] = await Promise.all([walletOpen, OwnIdentity.ensure(core.deps.db, vault), VerifiedPeople.load(core.deps.db, vault)]);
    core.wallet = wallet;
    core.needsLogin = sessionExpired(account);
    core.chat = await ChatService.open({
      stored,
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
