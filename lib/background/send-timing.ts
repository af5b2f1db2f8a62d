/**
 * Where a sent message's time goes, summed since the background started:
 * waiting for the state transitions ahead of it, MLS encryption, sealing and
 * writing it (one IndexedDB transaction), the relay round trip (taking a
 * token, then the HTTP post, also timed on its own), and recording it as sent. Totals and counts only, so the memory
 * is fixed however many messages are sent, and no content or id is kept.
 * `npm run bench:ui` reads it from the worker to print the breakdown.
 */

export const SEND_PHASES = ['wait', 'encrypt', 'persist', 'relay', 'http', 'status'] as const;
export type SendPhase = (typeof SEND_PHASES)[number];

export type SendTimingSnapshot = Record<SendPhase, { ms: number; count: number }>;

export class SendTimings {
  private readonly ms = new Float64Array(SEND_PHASES.length);
  private readonly count = new Float64Array(SEND_PHASES.length);

  add(phase: SendPhase, ms: number): void {
    const i = SEND_PHASES.indexOf(phase);
    this.ms[i]! += ms;
    this.count[i]!++;
  }

  /** Time `fn` as `phase` (also when it throws). */
  async time<T>(phase: SendPhase, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.add(phase, performance.now() - t0);
    }
  }

  snapshot(): SendTimingSnapshot {
    const out = {} as SendTimingSnapshot;
    SEND_PHASES.forEach((p, i) => (out[p] = { ms: this.ms[i]!, count: this.count[i]! }));
    return out;
  }
}

/** The background's one accumulator. */
export const sendTimings = new SendTimings();
