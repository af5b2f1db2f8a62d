/**
 * /metrics (relay/metrics.ts, served by relay/main.ts): a real relay with
 * `--metrics-port`, traffic with known account, mailbox, queue and message
 * ids, then a scrape.
 *   - the exposition parses as the Prometheus text format;
 *   - counters move after a send, a push, a fetch and an ack;
 *   - it names no identifier: none of the known ids, secrets or tokens, no
 *     label but a histogram's numeric `le`, no id-like word at all;
 *   - the listener is on loopback and separate: the public port answers 404;
 *     without the flag no metrics listener is opened.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { startRelay, type RelayProcess } from '../support/relay-process.ts';
import { RelayClient, WsClient, capFor, randomQueue, waitFor } from './support/client.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the text format: every line is a HELP, a TYPE or a sample of a declared metric. */
function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.slice(0, -1).split('\n')) {
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (help !== null) continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type !== null) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    expect(sample, `not a valid exposition line: ${line}`).not.toBeNull();
    const [, name, rawLabels, rawValue] = sample!;
    const labels: Record<string, string> = {};
    for (const pair of rawLabels === undefined || rawLabels === '' ? [] : rawLabels.split(',')) {
      const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="([^"\\]*)"$/.exec(pair);
      expect(m, `bad label ${pair}`).not.toBeNull();
      labels[m![1]!] = m![2]!;
    }
    const value = rawValue === '+Inf' ? Infinity : rawValue === 'NaN' ? NaN : Number(rawValue);
    expect(Number.isNaN(value) && rawValue !== 'NaN', `bad value ${rawValue}`).toBe(false);
    const family = name!.replace(/_(bucket|sum|count)$/, '');
    expect(types.has(name!) || types.get(family) === 'histogram', `sample of an undeclared metric: ${name}`).toBe(true);
    samples.push({ name: name!, labels, value });
  }
  return { types, samples };
}

const value = (samples: Sample[], name: string): number => {
  const s = samples.find((x) => x.name === name && Object.keys(x.labels).length === 0);
  if (s === undefined) throw new Error(`no sample ${name}`);
  return s.value;
};

describe('/metrics on its own loopback listener', () => {
  let relay: RelayProcess;
  let metricsUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    relay = await startRelay({ args: ['--max-messages-per-second', '1000', '--metrics-port', String(port)] });
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    await waitFor(() => relay.stderr().includes(`metrics on http://127.0.0.1:${port}/metrics`), 10_000, 'metrics listener');
  });
  afterAll(async () => {
    await relay?.stop();
  });

  const scrape = async (): Promise<{ text: string; samples: Sample[]; types: Map<string, string> }> => {
    const res = await fetch(metricsUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    return { text, ...parseExposition(text) };
  };

  it('parses, moves with traffic, and names no identifier', async () => {
    const before = await scrape();
    expect(before.types.get('microchat_relay_messages_stored_total')).toBe('counter');
    expect(before.types.get('microchat_relay_connections')).toBe('gauge');
    expect(before.types.get('microchat_relay_store_seconds')).toBe('histogram');
    expect(before.types.get('microchat_relay_bus_lag_seconds')).toBe('histogram');

    const c = new RelayClient(relay.url);
    const acct = await c.register();
    const tokens = await c.tokens(acct.session, 6);
    const tokenTexts = tokens.flatMap((t) => [t.input, t.output]);
    const queue = randomQueue();
    const online = await c.mailbox(tokens.pop()!);
    const offline = await c.mailbox(tokens.pop()!);
    for (const m of [online, offline]) await c.ok('/v1/queues/register', { queue, cap: capFor(queue), ...m });
    const ws = await WsClient.open(relay.url);
    const ids: string[] = [];
    try {
      expect((await ws.request({ t: 'sub', ...online })).t).toBe('ok');
      for (let i = 0; i < 2; i++) {
        const sent = await c.ok('/v1/queues/send', { queue, cap: capFor(queue), token: tokens.pop(), payload: 'AQIDBA' });
        ids.push(String(sent.id));
      }
      await waitFor(() => ids.every((id) => ws.pushed.some((p) => p.id === id)), 5_000, 'pushes');
      const fetched = await c.fetchAll(offline, true);
      expect(fetched.map((m) => m.id).sort()).toEqual([...ids].sort());
      expect((await ws.request({ t: 'ack', mailboxId: online.mailboxId, ids })).t).toBe('ok');

      const during = await scrape();
      expect(value(during.samples, 'microchat_relay_connections')).toBeGreaterThanOrEqual(1);
      const moved = (name: string): number => value(during.samples, name) - value(before.samples, name);
      expect(moved('microchat_relay_messages_stored_total')).toBe(2);
      // Two pushes to the socket, two fetched over HTTP.
      expect(moved('microchat_relay_messages_delivered_total')).toBe(4);
      expect(moved('microchat_relay_messages_acked_total')).toBe(4);
      // Two mailboxes and two sends paid with a token each.
      expect(moved('microchat_relay_token_spends_total')).toBe(4);
      expect(moved('microchat_relay_store_seconds_count')).toBeGreaterThan(0);

      // No identifier: none of what the traffic used, in any form the relay saw it.
      const known = [acct.accountId, acct.session, queue, capFor(queue), ...ids, ...tokenTexts];
      for (const m of [online, offline]) known.push(m.mailboxId, m.secret);
      for (const id of known) expect(during.text.includes(id), `metrics mention ${id.slice(0, 6)}…`).toBe(false);
      // No labels at all, except the histograms' bucket bounds.
      for (const s of during.samples) {
        for (const [k, v] of Object.entries(s.labels)) {
          expect(k).toBe('le');
          expect(v).toMatch(/^(\+Inf|[0-9.e-]+)$/);
        }
      }
      // No id-like word anywhere (long base64/hex runs) but the declared metric names; sample values are numbers (checked above).
      const names = new Set([...during.types.keys()].flatMap((n) => [n, `${n}_bucket`, `${n}_sum`, `${n}_count`]));
      const withoutValues = during.text.split('\n').map((l) => (l.startsWith('#') ? l : l.replace(/ \S+$/, ''))).join('\n');
      const idLike = withoutValues.match(/[A-Za-z0-9+/=_-]{16,}/g) ?? [];
      expect(idLike.filter((w) => !names.has(w))).toEqual([]);
    } finally {
      ws.close();
    }
  });

  it('is not served on the public port', async () => {
    const res = await fetch(`${relay.url}/metrics`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('microchat_relay_');
  });

  it('is off unless a port is given', async () => {
    const plain = await startRelay();
    try {
      expect(plain.stderr()).not.toContain('metrics on');
      expect((await fetch(`${plain.url}/metrics`)).status).toBe(404);
    } finally {
      await plain.stop();
    }
  });
});
