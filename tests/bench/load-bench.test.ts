// `npm run bench:load` end to end at a tiny size (50 connections, 5 groups,
// 3 s): the embedded relay and two relays on a private Redis each carry
// traffic, every acknowledged message reaches every member exactly once, and
// load.json comes out with every figure. Speed is not judged here (this
// machine is shared); the figures must only be real.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { LoadResult } from '../../bench/load.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function run(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'bench', 'load.ts')], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('close', (code) => res({ code, out }));
  });
}

function hardFileLimit(): number {
  const m = /Max open files\s+\d+\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return Number(m?.[1]);
}

describe('bench:load', () => {
  it('runs the embedded relay and two relays on Redis, and writes load.json with every figure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-load-test-'));
    try {
      const { code, out } = await run({
        LOAD_CONNECTIONS: '50',
        LOAD_GROUPS: '5',
        LOAD_MAX_GROUP: '10',
        LOAD_SECONDS: '3',
        LOAD_INTERVAL_MS: '500',
        LOAD_RESULTS_DIR: dir,
      });
      expect(code, out).toBe(0);
      const r = JSON.parse(readFileSync(join(dir, 'load.json'), 'utf8')) as {
        shape: { connections: number; groups: number; seconds: number };
        machine: { cpus: number; loadavgAtStart: number[]; loadavgAtEnd: number[] };
        results: Record<string, LoadResult>;
      };
      expect(r.shape).toMatchObject({ connections: 50, groups: 5, seconds: 3 });
      expect(r.machine.loadavgAtStart).toHaveLength(3);
      expect(Object.keys(r.results).sort()).toEqual(['embedded', 'redis2']);
      expect(r.results.embedded!.instances).toBe(1);
      expect(r.results.redis2!.instances).toBe(2);
      for (const side of Object.values(r.results)) {
        expect(side.connections).toBe(50);
        expect(side.sent).toBeGreaterThan(0);
        // Every acknowledged message reached every member of its group, once.
        expect(side.delivered).toBe(side.expectedDeliveries);
        expect(side.deliveredOverSent).toBe(1);
        expect(side.duplicates).toBe(0);
        expect(side.p50Ms).toBeGreaterThan(0);
        expect(side.p99Ms).toBeGreaterThanOrEqual(side.p50Ms);
        expect(side.p999Ms).toBeGreaterThanOrEqual(side.p99Ms);
        expect(side.relayRssBytes).toBeGreaterThan(0);
        expect(side.bytesPerIdleConnection).toBeGreaterThanOrEqual(0);
        expect(side.relayCpuMsPerMessage).toBeGreaterThanOrEqual(0);
        // The relay's sockets (50 connections at least) and its files.
        expect(side.relayFileDescriptors).toBeGreaterThan(50);
        // The script raised its own open-file limit to the hard limit.
        expect(side.clientFileLimit).toBe(hardFileLimit());
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
