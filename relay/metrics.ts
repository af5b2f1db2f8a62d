/**
 * Operational metrics in the Prometheus text exposition format (version
 * 0.0.4), for operators: aggregate counters, gauges and histograms only.
 *
 * Privacy rule: no metric carries a label. Nothing here is per account,
 * mailbox, queue, connection or message, so a scrape (or a leaked dashboard)
 * cannot tell who talks to whom or when one person was active; the figures
 * are sums over everyone. tests/relay/metrics.test.ts checks that the output
 * names no identifier after traffic with known ids.
 *
 * Served by main.ts on its own listener (`--metrics-port`, loopback by
 * default), never on the public port.
 */

import process from 'node:process';

/** Seconds; what a store call or a bus hop on a busy machine spans (sub-millisecond to seconds). */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

class Histogram {
  private readonly counts = new Array<number>(LATENCY_BUCKETS.length).fill(0);
  private sum = 0;
  private count = 0;

  observe(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) return;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (seconds <= LATENCY_BUCKETS[i]!) this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }

  lines(name: string): string[] {
    const out = LATENCY_BUCKETS.map((le, i) => `${name}_bucket{le="${le}"} ${this.counts[i]}`);
    out.push(`${name}_bucket{le="+Inf"} ${this.count}`, `${name}_sum ${this.sum}`, `${name}_count ${this.count}`);
    return out;
  }
}

/** Monotonic counts; each one line of the exposition. */
const COUNTERS = {
  messagesStored: ['microchat_relay_messages_stored_total', 'Messages (group messages and Welcomes) the store committed.'],
  messagesDelivered: ['microchat_relay_messages_delivered_total', 'Message copies handed to a client (WebSocket pushes and HTTP fetch results).'],
  messagesAcked: ['microchat_relay_messages_acked_total', 'Deliveries removed by a client acknowledgement.'],
  messagesExpired: ['microchat_relay_messages_expired_total', 'Messages removed by the sweep because they expired unacknowledged.'],
  tokenSpends: ['microchat_relay_token_spends_total', 'Sealed-sender tokens verified for a spend (sends, Welcomes, mailboxes).'],
  sendsRefusedBusy: ['microchat_relay_sends_refused_busy_total', 'Sends refused with try_again because the wake-up bus backlog was over its bound.'],
  busPublished: ['microchat_relay_bus_published_total', 'Wake-ups this instance published on the bus (one per message and interested instance).'],
  busReceived: ['microchat_relay_bus_received_total', 'Wake-ups this instance received from other instances.'],
  busResyncs: ['microchat_relay_bus_resyncs_total', 'Re-pushes of everything pending after wake-ups may have been lost.'],
} as const;

export type CounterName = keyof typeof COUNTERS;

export class Metrics {
  private readonly counters = new Map<CounterName, number>();
  /** Store call latency, seconds (every RelayStore method). */
  readonly storeLatency = new Histogram();
  /** Publish-to-receipt time of wake-ups from other instances, seconds (clocks of one deployment assumed close). */
  readonly busLag = new Histogram();
  /** Read at render time: live values owned by other parts. */
  private readonly gauges: { name: string; help: string; read: () => number }[] = [];

  inc(name: CounterName, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  get(name: CounterName): number {
    return this.counters.get(name) ?? 0;
  }

  /** A gauge read on every scrape (`name` without the microchat_relay_ prefix). */
  gauge(name: string, help: string, read: () => number): void {
    this.gauges.push({ name: `microchat_relay_${name}`, help, read });
  }

  /** The exposition text (Content-Type `text/plain; version=0.0.4`). */
  render(): string {
    const out: string[] = [];
    for (const [key, [name, help]] of Object.entries(COUNTERS) as [CounterName, readonly [string, string]][]) {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${this.get(key)}`);
    }
    for (const g of this.gauges) {
      let v: number;
      try {
        v = g.read();
      } catch {
        v = Number.NaN;
      }
      out.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`, `${g.name} ${Number.isFinite(v) ? v : 'NaN'}`);
    }
    const histograms: [string, string, Histogram][] = [
      ['microchat_relay_store_seconds', 'Latency of store operations.', this.storeLatency],
      ['microchat_relay_bus_lag_seconds', 'Time from a wake-up being published on another instance to its arrival here.', this.busLag],
    ];
    for (const [name, help, h] of histograms) out.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`, ...h.lines(name));
    const mem = process.memoryUsage();
    out.push('# HELP microchat_relay_resident_memory_bytes Resident set size of the relay process.');
    out.push('# TYPE microchat_relay_resident_memory_bytes gauge', `microchat_relay_resident_memory_bytes ${mem.rss}`);
    return out.join('\n') + '\n';
  }
}

/**
 * Wraps a store so every call is timed into `metrics.storeLatency`. Generic
 * over the interface: a method added to the store is timed without a change here.
 */
export function timedStore<S extends object>(store: S, metrics: Metrics): S {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        const started = performance.now();
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) {
          return result.finally(() => metrics.storeLatency.observe((performance.now() - started) / 1000));
        }
        return result;
      };
    },
  });
}
