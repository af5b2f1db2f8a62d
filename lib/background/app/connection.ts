/**
 * The relay, as the app sees it: the live connection's lifecycle (up after
 * the unlock, down at the lock or sign-out), catching up over HTTP when the
 * socket is not there, acknowledging what was handled, and the health check
 * shown while a relay URL is being chosen.
 */
import type { RelayStatus } from '../../protocol/channel.ts';
import { checkRelayHealth } from '../relay-client.ts';
import { RelayConnection, type DeliveredMessage, type MailboxCredentials } from '../relay-api.ts';
import { relayFromConnection } from '../connection-state.ts';
import { isGone, reportIfBug } from '../failure.ts';
import type { AppCore } from './core.ts';

export class RelayLink {
  private inflight: { url: string; check: Promise<RelayStatus> } | undefined;

  constructor(private readonly core: AppCore) {}

  /** (Re)open the live connection for the account's mailboxes; none without an account or a WebSocket. */
  connect(): void {
    const core = this.core;
    this.stop();
    const account = core.account;
    if (account === undefined || core.deps.WebSocket === undefined) return;
    const c = core.deps.connection ?? {};
    const connection: RelayConnection = new RelayConnection({
      url: account.relayUrl,
      WebSocket: core.deps.WebSocket,
      mailboxes: this.mailboxes(),
      onMessage: (mailboxId, m) => void this.deliver(mailboxId, m),
      // Everything that waited in it expired with it: its conversation rejoins (healing/healer.ts).
      onMailboxUnknown: (mailboxId) => core.chat?.healing.healer.mailboxGone(mailboxId),
      onState: (s) => {
        // A connection being given up (signed out, replaced) no longer speaks for the relay.
        if (core.connection !== connection) return;
        core.update({ ...core.state, connection: s, relay: relayFromConnection(core.state.relay, s) });
        if (s === 'online') {
          void core.chat?.flush();
          void core.wallet?.refill();
          core.directory?.online();
          core.devices?.online();
        }
      },
      ...c,
    });
    core.connection = connection;
    connection.start();
  }

  /** Stop the connection; its last state ('offline') is published. */
  stop(): void {
    this.core.connection?.stop();
    this.core.connection = undefined;
  }

  /**
   * Give the connection up (signing out): it is let go before it stops, so its
   * last 'offline' no longer speaks for the relay, whose own health check is
   * what onboarding shows next.
   */
  giveUp(): void {
    const connection = this.core.connection;
    this.core.connection = undefined;
    connection?.stop();
  }

  /** Whether the background holds (or is bringing up) a relay connection: keep the worker alive meanwhile. */
  get holds(): boolean {
    return this.core.connection !== undefined;
  }

  /** Retry now, or the browser is back online: try the relay at once instead of at the end of the back-off. */
  retry(): void {
    this.core.connection?.nudge();
  }

  /**
   * Someone is writing while the connection is down: try the relay now rather
   * than at the end of the back-off (which grows to a minute), so what they
   * wrote goes out as soon as the relay is back.
   */
  reconnectingNow<T>(result: T): T {
    const connection = this.core.connection;
    if (connection !== undefined && connection.connectionState === 'offline') connection.nudge();
    return result;
  }

  /** The account's mailbox (older conversations), its Welcome mailbox and one per live conversation. */
  mailboxes(): MailboxCredentials[] {
    const account = this.core.account;
    if (account === undefined) return [];
    return [
      ...(account.mailbox === undefined ? [] : [account.mailbox]),
      ...(account.welcomeMailbox === undefined ? [] : [account.welcomeMailbox]),
      ...(this.core.chat?.mailboxes() ?? []),
    ];
  }

  /** A conversation gained or dropped its mailbox: listen on it, or stop. */
  mailboxChanged(change: { added: MailboxCredentials } | { removed: string }): void {
    if ('added' in change) this.core.connection?.addMailbox(change.added);
    else this.core.connection?.removeMailbox(change.removed);
  }

  private deliver(mailboxId: string, m: DeliveredMessage): Promise<void> {
    return this.core.chat?.receive(mailboxId, m) ?? Promise.resolve();
  }

  ack(mailboxId: string, ids: string[]): void {
    if (ids.length === 0) return;
    if (this.core.connection?.ack(mailboxId, ids) === true) return;
    const mb = this.mailboxes().find((x) => x.mailboxId === mailboxId);
    // Best effort: what stays unacknowledged is delivered again, and recognised as already handled.
    if (mb !== undefined) void this.core.api.ack(mb, ids).catch(() => undefined);
  }

  /**
   * Catch up without the socket (alarm wake-ups, or no WebSocket): fetch what
   * the mailbox holds over HTTP, apply it, acknowledge, flush the outbox.
   */
  async catchUp(): Promise<number> {
    const core = this.core;
    if (core.account === undefined) return 0;
    core.connection?.nudge();
    if (core.connection?.connectionState === 'online') {
      // The socket already delivers (and re-delivers on subscribe); no need to poll every mailbox.
      await core.chat?.flush();
      return 0;
    }
    let handled = 0;
    for (const mb of this.mailboxes()) {
      try {
        for (let round = 0; round < 20; round++) {
          const batch = await core.api.fetchMailbox(mb);
          if (batch.length === 0) break;
          for (const m of batch) await this.deliver(mb.mailboxId, m);
          handled += batch.length;
          // Acks are sent per message after each transaction; make sure the batch is gone before the next page.
          // Best effort: a batch still there is fetched again, and recognised as already handled.
          await core.api.ack(mb, batch.map((m) => m.id)).catch(() => undefined);
        }
      } catch (err) {
        // A mailbox the relay no longer knows: its conversation rejoins (healing/healer.ts).
        if (isGone(err)) core.chat?.healing.healer.mailboxGone(mb.mailboxId);
        // Offline (or this mailbox is gone): the socket or the next alarm will try again. The other mailboxes
        // still catch up, so even our own bug is not thrown from here: it is logged.
        reportIfBug('catching up a mailbox', err);
      }
    }
    await core.chat?.flush();
    return handled;
  }

  /** Check the relay's health; concurrent callers for the same URL share one check. */
  checkRelay(): Promise<RelayStatus> {
    const core = this.core;
    const url = core.state.relay.url;
    if (this.inflight?.url === url) return this.inflight.check;
    const check = (async () => {
      core.update({ ...core.state, relay: { url, state: 'checking' } });
      const health = await checkRelayHealth(url, 5000, core.deps.fetch);
      const relay: RelayStatus = health.ok
        ? { url, state: 'reachable', checkedAt: Date.now() }
        : { url, state: 'unreachable', checkedAt: Date.now(), ...(health.detail ? { detail: health.detail } : {}) };
      // The URL may have changed while we waited; only publish a current answer.
      if (core.state.relay.url === url) core.update({ ...core.state, relay });
      return relay;
    })().finally(() => {
      if (this.inflight?.check === check) this.inflight = undefined;
    });
    this.inflight = { url, check };
    return check;
  }
}
