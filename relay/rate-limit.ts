/**
 * Per-key request budgets over a rolling minute, kept in memory only (a
 * restart forgets them; nothing about who asked when reaches the store).
 */

export class MinuteBudget {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly perMinute: number,
    private readonly nowMs: () => number = () => Date.now(),
  ) {}

  /** Counts one request for `key`; false when its budget for the last minute is spent. */
  take(key: string): boolean {
    const now = this.nowMs();
    const recent = (this.hits.get(key) ?? []).filter((t) => t > now - 60_000);
    if (recent.length >= this.perMinute) {
      this.hits.set(key, recent);
      return false;
    }
    recent.push(now);
    this.hits.set(key, recent);
    if (this.hits.size > 10_000) {
      for (const [k, v] of this.hits) if (v.every((t) => t <= now - 60_000)) this.hits.delete(k);
    }
    return true;
  }
}
