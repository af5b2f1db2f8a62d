// In-memory stand-ins for the linking ports (lib/background/linking/ports.ts) that the identity and
// directory parts of #18 implement for real: they keep what they are given, record every call, and
// check what the real ones must check (a roster that does not list this device is refused).
import { bytesEqual, toB64 } from '../../lib/bytes.ts';
import type {
  AccountHandover,
  AccountPort,
  DirectoryPort,
  HistoryPort,
  HistoryRecord,
  IdentityPort,
  LinkDeviceAddress,
  NewDevice,
} from '../../lib/background/linking/ports.ts';

export class FakeIdentity implements IdentityPort {
  readonly ownKey = crypto.getRandomValues(new Uint8Array(32));
  identity: Uint8Array | null;
  roster: Uint8Array[] = [];
  signed: NewDevice[] = [];

  constructor(hasIdentity: boolean) {
    this.identity = hasIdentity ? crypto.getRandomValues(new Uint8Array(64)) : null;
    if (hasIdentity) this.roster = [this.ownKey];
  }

  async deviceKey(): Promise<Uint8Array> {
    return this.ownKey;
  }
  async exportForLink(): Promise<Uint8Array> {
    if (this.identity === null) throw new Error('no identity');
    return Uint8Array.from(this.identity);
  }
  async signRosterWith(device: NewDevice): Promise<Uint8Array> {
    this.signed.push(device);
    this.roster = [...this.roster, device.deviceKey];
    return new TextEncoder().encode(JSON.stringify(this.roster.map(toB64)));
  }
  async importFromLink(identity: Uint8Array, roster: Uint8Array): Promise<void> {
    const keys = (JSON.parse(new TextDecoder().decode(roster)) as string[]).map((k) => k);
    if (!keys.includes(toB64(this.ownKey))) throw new Error('the roster does not vouch for this device');
    this.identity = Uint8Array.from(identity);
  }
  sameIdentity(other: FakeIdentity): boolean {
    return this.identity !== null && other.identity !== null && bytesEqual(this.identity, other.identity);
  }
}

export class FakeDirectory implements DirectoryPort {
  readonly added: { conversationId: string; devices: LinkDeviceAddress[] }[] = [];
  /** Called before each add; throw to fail it. */
  beforeAdd: (conversationId: string) => Promise<void> = async () => {};

  constructor(readonly address: LinkDeviceAddress = { accountId: 'A'.repeat(22), welcomeMailboxId: 'M'.repeat(22) }) {}

  async ownAddress(): Promise<LinkDeviceAddress> {
    return this.address;
  }
  async addDevices(conversationId: string, devices: LinkDeviceAddress[]): Promise<void> {
    await this.beforeAdd(conversationId);
    this.added.push({ conversationId, devices });
  }
}

export class FakeAccount implements AccountPort {
  imported: AccountHandover | null = null;
  constructor(readonly data: AccountHandover | null) {}
  async exportAccount(): Promise<AccountHandover> {
    if (this.data === null) throw new Error('no account');
    return this.data;
  }
  async importAccount(account: AccountHandover): Promise<void> {
    this.imported = account;
  }
}

export class FakeHistory implements HistoryPort {
  readonly kept = new Map<string, HistoryRecord>();
  constructor(readonly records: HistoryRecord[] = []) {}
  async count(): Promise<number> {
    return this.records.length;
  }
  async *pages(pageSize: number): AsyncIterable<HistoryRecord[]> {
    for (let i = 0; i < this.records.length; i += pageSize) yield this.records.slice(i, i + pageSize);
  }
  async importPage(records: HistoryRecord[]): Promise<void> {
    for (const r of records) this.kept.set(`${r.conversationId}/${r.id}`, r);
  }
}

export function sampleAccount(conversations: number): AccountHandover {
  return {
    displayName: 'Alice',
    settings: { notifications: true, notificationContent: 'name', readReceipts: false },
    conversations: Array.from({ length: conversations }, (_, i) => ({ id: `conv${i}`, name: `Conversation ${i}` })),
  };
}

export function sampleHistory(conversations: number, perConversation: number): HistoryRecord[] {
  const out: HistoryRecord[] = [];
  for (let c = 0; c < conversations; c++) {
    for (let m = 0; m < perConversation; m++) {
      out.push({ conversationId: `conv${c}`, id: `m${c}x${m}`, kind: 'text', text: `message ${m} in ${c} ${'x'.repeat(m % 50)}`, sender: { displayName: m % 2 === 0 ? 'Alice' : 'Bob', self: m % 2 === 0 }, sentAt: 1_700_000_000_000 + m });
    }
  }
  return out;
}
