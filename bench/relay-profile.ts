/**
 * A CPU profile of a relay process (Deno, started with `--inspect`) over one
 * bench round, through the V8 inspector protocol: `Profiler.start` before the
 * round, `Profiler.stop` after it. `selfTimes` sums the sampled self time of
 * each function (name, file, line) on the relay's main thread, so the bench
 * can print where the relay's time went (`BENCH_PROFILE=1 npm run bench:relay`).
 * Token-check workers are other isolates and are not in this profile; the
 * bench reports their CPU time separately from /proc.
 */
import WebSocket from 'ws';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTime {
  fn: string;
  ms: number;
  share: number;
}

/** The inspector's WebSocket URL for the process listening on `port` (Deno serves /json/list like Chrome). */
async function debuggerUrl(port: number): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl?: string }[];
      const url = list[0]?.webSocketDebuggerUrl;
      if (url !== undefined) return url;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no inspector on 127.0.0.1:${port}`);
}

export class RelayProfiler {
  private nextId = 0;
  private readonly waiting = new Map<number, (result: unknown) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
      if (msg.id === undefined) return;
      const done = this.waiting.get(msg.id);
      this.waiting.delete(msg.id);
      done?.(msg.error === undefined ? msg.result : new Error(msg.error.message));
    });
  }

  static async attach(inspectorPort: number): Promise<RelayProfiler> {
    const ws = new WebSocket(await debuggerUrl(inspectorPort));
    await new Promise<void>((res, rej) => {
      ws.once('open', () => res());
      ws.once('error', rej);
    });
    const p = new RelayProfiler(ws);
    // Deno reports every WebSocket frame to an attached inspector unless told not to; that would dominate the profile.
    await p.send('Network.disable').catch(() => {});
    await p.send('Profiler.enable');
    // 250 µs: fine enough for per-message work, light enough not to change it much.
    await p.send('Profiler.setSamplingInterval', { interval: 250 });
    return p;
  }

  private send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = ++this.nextId;
    return new Promise((res, rej) => {
      this.waiting.set(id, (r) => (r instanceof Error ? rej(r) : res(r)));
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  async start(): Promise<void> {
    await this.send('Profiler.start');
  }

  /** Stops and returns the `top` functions by self time (idle and GC included as V8 names them). */
  async stop(top = 30): Promise<ProfileSummary> {
    const { profile } = (await this.send('Profiler.stop')) as { profile: CpuProfile };
    return selfTimes(profile, top);
  }

  close(): void {
    this.ws.close();
  }
}

/**
 * Deno's inspector reports every WebSocket frame to an attached session (its
 * network bridge), and `Network.disable` does not stop it: that work exists
 * only because the profiler is attached, so it is counted apart.
 */
const INSPECTOR_ARTIFACT = /op_inspector_emit_protocol_event|inspector_network_bridge/;
const IDLE = /^\((idle|program)\)$/;

export interface ProfileSummary {
  /** Everything sampled, ms. */
  sampledMs: number;
  /** Of it, the inspector's own reporting (absent without a profiler), ms. */
  inspectorMs: number;
  /** Sampled minus idle and inspector reporting: the relay's own work, ms (the base of `share`). */
  busyMs: number;
  top: SelfTime[];
}

export function selfTimes(profile: CpuProfile, top: number): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const perFn = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let total = 0;
  // A sample's time is the gap to the next sample (V8's convention).
  for (let i = 0; i < samples.length; i++) {
    const us = deltas[i + 1] ?? 0;
    const node = byId.get(samples[i]!);
    if (node === undefined) continue;
    const f = node.callFrame;
    const file = f.url === '' ? '' : ` ${f.url.replace(/^.*\/(relay|lib|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
    const key = `${f.functionName === '' ? '(anonymous)' : f.functionName}${file}`;
    perFn.set(key, (perFn.get(key) ?? 0) + us);
    total += us;
  }
  let inspector = 0;
  let idle = 0;
  for (const [fn, us] of perFn) {
    if (INSPECTOR_ARTIFACT.test(fn)) inspector += us;
    else if (IDLE.test(fn)) idle += us;
  }
  const busy = total - inspector - idle;
  const rows = [...perFn.entries()]
    .filter(([fn]) => !INSPECTOR_ARTIFACT.test(fn) && !IDLE.test(fn))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, us]) => ({ fn, ms: Number((us / 1000).toFixed(1)), share: Number((us / Math.max(1, busy)).toFixed(3)) }));
  const ms = (us: number): number => Number((us / 1000).toFixed(1));
  return { sampledMs: ms(total), inspectorMs: ms(inspector), busyMs: ms(busy), top: rows };
}
