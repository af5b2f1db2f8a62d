/** Test data for component tests: messages, conversations and app states shaped like the background's. */
import type { AppState, ConversationSummary, MessageView } from '@/lib/protocol/channel.ts';

export function message(seq: number, over: Partial<MessageView> = {}): MessageView {
  const self = over.sender?.self ?? seq % 3 === 0;
  return {
    id: `m${seq}`,
    conversationId: 'c1',
    seq,
    kind: 'text',
    text: `Message number ${seq}`,
    sender: self ? { memberId: 'me', displayName: 'Ana', self: true } : { memberId: 'bo', displayName: 'Bo', self: false },
    sentAt: 1_700_000_000_000 + seq * 1000,
    status: self ? 'sent' : 'received',
    ...over,
  };
}

export function messages(from: number, to: number): MessageView[] {
  const out: MessageView[] = [];
  for (let s = from; s < to; s++) out.push(message(s));
  return out;
}

export function conversation(over: Partial<ConversationSummary> = {}): ConversationSummary {
  return {
    id: 'c1',
    name: 'Team',
    status: 'active',
    unread: 0,
    memberCount: 3,
    lastActivity: 1_700_000_000_000,
    ...over,
  };
}

export function appState(over: Partial<AppState> = {}): AppState {
  return {
    version: '0.1.0',
    relay: { url: 'https://relay.example.org', state: 'reachable' },
    connection: 'online',
    account: { state: 'ready', displayName: 'Ana', lockEnabled: false },
    conversations: [],
    settings: { notifications: true, lockTimeout: 'browser', notificationContent: 'name', readReceipts: true },
    unreadTotal: 0,
    ...over,
  };
}
