/**
 * CPU profiles of every thread of a Chromium browser, from a Chrome trace
 * (`Tracing` on the browser target with the V8 sampling profiler's category).
 * A trace covers threads that do not exist yet when it starts: a service
 * worker woken during the trace is profiled from its first instruction, which
 * a `Profiler` session attached after the wake would miss. `selfTimes` sums,
 * per thread, the sampled self time of each function (name, file, line), so a
 * bench can print where a measured interval went.
 */
import type { Browser, CDPSession } from 'puppeteer';

interface TraceEvent {
  name: string;
  ph: string;
  dur?: number;
  pid: number;
  tid: number;
  id?: string;
  args?: { name?: string; data?: ProfileChunkData };
}

interface ProfileNode {
  id: number;
  parent?: number;
  callFrame: { functionName?: string; url?: string; lineNumber?: number; codeType?: string };
}

interface ProfileChunkData {
  cpuProfile?: { nodes?: ProfileNode[]; samples?: number[] };
  timeDeltas?: number[];
}

export interface ThreadProfile {
  /** The thread's name in the trace ("CrRendererMain", "ServiceWorker thread", …). */
  thread: string;
  pid: number;
  tid: number;
  /** Sampled time in ms (including idle and program). */
  sampledMs: number;
  /** Self time in ms per function, largest first, with the caller that accounts for most of it. */
  top: { fn: string; ms: number; caller: string }[];
  /** Time in ms of the browser's own work on this thread (layout, style, script compile and evaluation, …), by trace event. */
  work: { event: string; ms: number }[];
}

/** Trace events that name work done on a thread (summed by duration; they may nest, e.g. a Layout inside a FunctionCall). */
const WORK_EVENTS = new Set([
  'ParseHTML',
  'EvaluateScript',
  'v8.compile',
  'v8.compileModule',
  'v8.evaluateModule',
  'FunctionCall',
  'UpdateLayoutTree',
  'Layout',
  'Paint',
  'PrePaint',
  'Layerize',
  'RunMicrotasks',
  'FireAnimationFrame',
  'ResizeObserver::BroadcastActiveObservations',
  'v8.run',
  'MajorGC',
  'MinorGC',
]);

const CATEGORIES = ['disabled-by-default-v8.cpu_profiler', 'v8.execute', 'devtools.timeline', '__metadata'];

export class BrowserTrace {
  private constructor(private readonly session: CDPSession) {}

  static async start(browser: Browser): Promise<BrowserTrace> {
    const session = await browser.target().createCDPSession();
    await session.send('Tracing.start', {
      transferMode: 'ReturnAsStream',
      traceConfig: { includedCategories: CATEGORIES, excludedCategories: ['*'] },
    });
    return new BrowserTrace(session);
  }

  /** Stop and read the trace; per-thread self times (threads without samples are left out). */
  async stop(): Promise<ThreadProfile[]> {
    const done = new Promise<string>((resolve) => this.session.once('Tracing.tracingComplete', (e: { stream?: string }) => resolve(e.stream!)));
    await this.session.send('Tracing.end');
    const stream = await done;
    let text = '';
    for (;;) {
      const chunk = await this.session.send('IO.read', { handle: stream });
      text += chunk.base64Encoded === true ? Buffer.from(chunk.data, 'base64').toString('utf8') : chunk.data;
      if (chunk.eof) break;
    }
    await this.session.send('IO.close', { handle: stream });
    await this.session.detach().catch(() => undefined);
    const parsed = JSON.parse(text) as { traceEvents?: TraceEvent[] } | TraceEvent[];
    return selfTimes(Array.isArray(parsed) ? parsed : (parsed.traceEvents ?? []));
  }
}

function label(f: ProfileNode['callFrame']): string {
  const name = f.functionName === undefined || f.functionName === '' ? '(anonymous)' : f.functionName;
  if (f.url === undefined || f.url === '') return name;
  const file = f.url.slice(f.url.lastIndexOf('/') + 1);
  return f.lineNumber === undefined ? `${name} ${file}` : `${name} ${file}:${f.lineNumber + 1}`;
}

export function selfTimes(events: readonly TraceEvent[], topN = 15): ThreadProfile[] {
  const names = new Map<string, string>();
  const work = new Map<string, Map<string, number>>();
  for (const e of events) {
    if (e.ph !== 'X' || e.dur === undefined || !WORK_EVENTS.has(e.name)) continue;
    const key = `${e.pid}/${e.tid}`;
    const m = work.get(key) ?? new Map<string, number>();
    m.set(e.name, (m.get(e.name) ?? 0) + e.dur);
    work.set(key, m);
  }
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') names.set(`${e.pid}/${e.tid}`, e.args?.name ?? '?');
  // A profile's chunks carry the nodes it introduced and the samples since the previous chunk.
  const profiles = new Map<string, { pid: number; tid: number; nodes: Map<number, ProfileNode>; self: Map<number, number> }>();
  for (const e of events) {
    if (e.name !== 'ProfileChunk' && e.name !== 'Profile') continue;
    const key = `${e.pid}/${e.id ?? e.tid}`;
    let p = profiles.get(key);
    if (!p) {
      p = { pid: e.pid, tid: e.tid, nodes: new Map(), self: new Map() };
      profiles.set(key, p);
    }
    const data = e.args?.data;
    for (const n of data?.cpuProfile?.nodes ?? []) p.nodes.set(n.id, n);
    const samples = data?.cpuProfile?.samples ?? [];
    const deltas = data?.timeDeltas ?? [];
    // A sample's time is the gap to the next one: attribute each delta to the sample before it.
    for (let i = 1; i < samples.length; i++) p.self.set(samples[i - 1]!, (p.self.get(samples[i - 1]!) ?? 0) + (deltas[i] ?? 0));
  }
  const out: ThreadProfile[] = [];
  for (const p of profiles.values()) {
    const byFn = new Map<string, number>();
    const callers = new Map<string, Map<string, number>>();
    let total = 0;
    for (const [id, us] of p.self) {
      const node = p.nodes.get(id);
      const fn = node === undefined ? '(unknown)' : label(node.callFrame);
      const parent = node?.parent === undefined ? undefined : p.nodes.get(node.parent);
      const caller = parent === undefined ? '' : label(parent.callFrame);
      byFn.set(fn, (byFn.get(fn) ?? 0) + us);
      const c = callers.get(fn) ?? new Map<string, number>();
      c.set(caller, (c.get(caller) ?? 0) + us);
      callers.set(fn, c);
      total += us;
    }
    if (total === 0) continue;
    const ms = (us: number): number => Math.round(us / 100) / 10;
    const top = [...byFn]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([fn, us]) => ({ fn, ms: ms(us), caller: [...(callers.get(fn) ?? [])].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '' }));
    const threadWork = [...(work.get(`${p.pid}/${p.tid}`) ?? [])].sort((a, b) => b[1] - a[1]).map(([event, us]) => ({ event, ms: ms(us) }));
    out.push({ thread: names.get(`${p.pid}/${p.tid}`) ?? '?', pid: p.pid, tid: p.tid, sampledMs: ms(total), top, work: threadWork });
  }
  return out.sort((a, b) => b.sampledMs - a.sampledMs);
}

export function printProfiles(title: string, profiles: readonly ThreadProfile[], threads = 3): void {
  console.log(`\n${title}`);
  for (const p of profiles.slice(0, threads)) {
    console.log(`  ${p.thread} (pid ${p.pid}), ${p.sampledMs} ms sampled; self time:`);
    for (const t of p.top) console.log(`    ${String(t.ms).padStart(7)} ms  ${t.fn}${t.caller === '' ? '' : `  ← ${t.caller}`}`);
    if (p.work.length > 0) console.log(`    trace events: ${p.work.map((w) => `${w.event} ${w.ms} ms`).join(', ')}`);
  }
}
