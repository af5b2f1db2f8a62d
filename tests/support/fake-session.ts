/**
 * `browser.storage.session` for Node tests: JSON values in memory (as Chrome
 * keeps them) and the access level last set. Shared by the unlocked-key
 * tests (lib/background/unlocked-key.ts).
 */
import type { SessionArea } from '../../lib/background/unlocked-key.ts';

export class FakeSession implements SessionArea {
  readonly items = new Map<string, string>();
  accessLevel: string | undefined;

  async get(keys: string[]): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const k of keys) if (this.items.has(k)) out[k] = JSON.parse(this.items.get(k)!);
    return out;
  }

  async set(items: Record<string, unknown>): Promise<void> {
    for (const [k, v] of Object.entries(items)) this.items.set(k, JSON.stringify(v));
  }

  async remove(keys: string | string[]): Promise<void> {
    for (const k of [keys].flat()) this.items.delete(k);
  }

  async setAccessLevel(o: { accessLevel: string }): Promise<void> {
    this.accessLevel = o.accessLevel;
  }
}
