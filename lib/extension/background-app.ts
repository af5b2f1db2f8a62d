/**
 * The background's application core: it owns the state, persists it, talks to
 * the relay, and publishes the view state to every subscribed view. The
 * service-worker entrypoint only wires this to the browser.
 */
import { ChannelError, ErrorCode, type AppState, type Method, type Params, type RelayStatus, type Result } from './protocol.ts';
import { checkRelayHealth } from './relay-client.ts';
import { DEFAULT_RELAY_URL, normalizeRelayUrl } from './relay-url.ts';
import { loadSetting, saveSetting, type Database } from './db.ts';

export interface BackgroundDeps {
  db: Database;
  version: string;
  fetch?: typeof fetch;
}

export type Handlers = { [M in Method]: (params: Params<M>) => Promise<Result<M>> };

export class BackgroundApp {
  private state: AppState;
  private readonly listeners = new Set<(state: AppState) => void>();
  private inflight: { url: string; check: Promise<RelayStatus> } | undefined;

  private constructor(
    private readonly deps: BackgroundDeps,
    relayUrl: string,
  ) {
    this.state = {
      version: deps.version,
      relay: { url: relayUrl, state: 'unknown' },
      connection: 'offline',
      account: { state: 'none' },
      conversations: [],
      settings: { notifications: true },
      unreadTotal: 0,
    };
  }

  static async start(deps: BackgroundDeps): Promise<BackgroundApp> {
    const relayUrl = (await loadSetting(deps.db, 'relayUrl')) ?? DEFAULT_RELAY_URL;
    return new BackgroundApp(deps, relayUrl);
  }

  get snapshot(): AppState {
    return structuredClone(this.state);
  }

  subscribe(listener: (state: AppState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private update(next: AppState): void {
    this.state = next;
    const snap = this.snapshot;
    for (const l of this.listeners) l(snap);
  }

  /** Check the relay's health; concurrent callers for the same URL share one check. */
  checkRelay(): Promise<RelayStatus> {
    const url = this.state.relay.url;
    if (this.inflight?.url === url) return this.inflight.check;
    const check = (async () => {
      this.update({ ...this.state, relay: { url, state: 'checking' } });
      const health = await checkRelayHealth(url, 5000, this.deps.fetch);
      const relay: RelayStatus = health.ok
        ? { url, state: 'reachable', checkedAt: Date.now() }
        : { url, state: 'unreachable', checkedAt: Date.now(), ...(health.detail ? { detail: health.detail } : {}) };
      // The URL may have changed while we waited; only publish a current answer.
      if (this.state.relay.url === url) this.update({ ...this.state, relay });
      return relay;
    })().finally(() => {
      if (this.inflight?.check === check) this.inflight = undefined;
    });
    this.inflight = { url, check };
    return check;
  }

  async setRelayUrl(input: string): Promise<AppState> {
    const url = normalizeRelayUrl(input);
    await saveSetting(this.deps.db, 'relayUrl', url);
    this.update({ ...this.state, relay: { url, state: 'unknown' } });
    await this.checkRelay();
    return this.snapshot;
  }

  readonly handlers: Handlers = {
    'state.get': async () => this.snapshot,
    'relay.check': async () => this.checkRelay(),
    'settings.setRelayUrl': async ({ url }) => this.setRelayUrl(url),
    'settings.setNotifications': async ({ enabled }) => {
      this.update({ ...this.state, settings: { ...this.state.settings, notifications: enabled } });
      return this.snapshot;
    },
    // The chat service (issue 6, in progress) takes over these; until it lands
    // they answer plainly that the feature is not there yet.
    'account.registrationOptions': unavailable,
    'account.completeRegistration': unavailable,
    'account.unlockOptions': unavailable,
    'account.unlock': unavailable,
    'conversation.create': unavailable,
    'conversation.rename': unavailable,
    'conversation.get': unavailable,
    'conversation.markRead': unavailable,
    'conversation.removeMember': unavailable,
    'conversation.leave': unavailable,
    'conversation.delete': unavailable,
    'invite.create': unavailable,
    'invite.join': unavailable,
    'messages.page': unavailable,
    'message.send': unavailable,
    'message.retry': unavailable,
  };
}

async function unavailable(): Promise<never> {
  throw new ChannelError(ErrorCode.Unavailable, 'This part of MicroChat is not available in this build yet.');
}
