/**
 * The environment-neutral core of `npm run bench:mls -- --peer openmls`
 * (no `node:` imports: the Node driver, bench/mls-openmls.ts, runs it in its
 * own process, and with `--browser` bundles it into a page in headless
 * Chromium, bench/mls-openmls-page.ts). Our engine against OpenMLS as Wire
 * ships it (`@wireapp/core-crypto` 10.3.0, wasm), cipher suite 1, N = 2, 256
 * and 1024 members, both driven through `Party` (openmls-scenario.ts) with
 * MLSMessage bytes.
 *
 * Fixture, per implementation and N (untimed): a creator A and a receiver B
 * of that implementation; A adds B and N-2 fillers in add-only commits of up
 * to 100, B processes them. The fillers are the SAME KeyPackages (ours, Wire
 * identities) in both groups, so the two trees hold identical leaves and
 * every parent node is blank.
 *
 * OpenMLS state cannot be forked (CoreCrypto keeps it in its keystore), so
 * nothing is timed from a copied state: each operation is timed on successive
 * fresh inputs, for both implementations alike, and the two implementations'
 * runs alternate (ours, OpenMLS, ours, ...) so that load from other processes
 * hits both. Operations (median ms):
 *  - encrypt, decrypt:   A encrypts a 100-byte application message, B reads it;
 *  - update_commit:      A commits an empty commit with a full path (the copath
 *                        stays blank: each resolution is all leaves below it);
 *  - process_update:     B processes it;
 *  - add_commit:         A adds one fresh member, no UpdatePath;
 *  - process_add:        B processes it;
 *  - join_welcome:       that member joins from the Welcome (ratchet_tree extension).
 * OpenMLS' figures include what using it costs: a CoreCrypto transaction per
 * call (and its in-memory keystore), the wasm boundary, and for
 * commits the transport callback. Ours include encoding and decoding.
 * After each phase A and B must agree on the epoch and the exported secret.
 * Each row also gives the operation's floor (bench/mls-floor.ts), measured in
 * the same run, and our time over it.
 */
import { OpenMlsParty, OurParty, type Party } from '../tests/mls/interop/openmls-scenario.ts';
import type { CoreCryptoModule } from '../tests/mls/interop/openmls.ts';
import { utf8 } from '../tests/mls/interop/member.ts';
import { measureFloor, recipe } from './mls-floor.ts';
import { formatMs, median } from './timing.ts';

export const SUITE = 1;
const BATCH = 100;
const PAYLOAD = new Uint8Array(100).fill(0x61);

export const OPERATIONS = ['encrypt', 'decrypt', 'add_commit', 'process_add', 'join_welcome', 'update_commit', 'process_update'] as const;
export type Operation = (typeof OPERATIONS)[number];
type Impl = 'ours' | 'openmls';

/** Target in Chromium at N=1024: OpenMLS time / ours at least this. */
export const TARGET_RATIO = 2;

export interface OpenMlsArgs {
  readonly quick: boolean;
  readonly sizes: readonly number[];
  readonly profile: Operation | undefined;
  readonly browser: boolean;
}

/** Parses what follows `--peer openmls`. */
export function parseOpenMlsArgs(argv: readonly string[]): OpenMlsArgs {
  const known = ['--quick', '--browser', '--n=', '--profile='];
  const unknown = argv.find((a) => !known.some((k) => (k.endsWith('=') ? a.startsWith(k) : a === k)));
  if (unknown !== undefined) throw new Error(`unknown argument ${unknown} (--peer openmls [--quick] [--browser] [--n=2,256,1024] [--profile=OP])`);
  const quick = argv.includes('--quick');
  const nArg = argv.find((a) => a.startsWith('--n='))?.slice('--n='.length);
  const sizes = nArg !== undefined ? nArg.split(',').map(Number) : quick ? [2, 32] : [2, 256, 1024];
  if (sizes.some((n) => !Number.isInteger(n) || n < 2)) throw new Error('--n=N[,N...] with N >= 2');
  const profile = argv.find((a) => a.startsWith('--profile='))?.slice('--profile='.length);
  if (profile !== undefined && !(OPERATIONS as readonly string[]).includes(profile)) throw new Error(`--profile=${OPERATIONS.join('|')}`);
  return { quick, sizes, profile: profile as Operation | undefined, browser: argv.includes('--browser') };
}

/** One row of bench-results/mls-openmls*.json. */
export interface OpenMlsRecord {
  operation: Operation;
  n: number;
  suite: number;
  ours_ms: number;
  peer_ms: number;
  /** peer_ms / ours_ms: above 1 means we are faster. */
  ratio: number;
  runs: number;
  ours_min_ms: number;
  peer_min_ms: number;
  /** The WebCrypto calls the operation cannot avoid, at their cost in this run (bench/mls-floor.ts). */
  floor_ms: number;
  /** ours_ms / floor_ms: how far we are from doing nothing but the unavoidable WebCrypto calls. */
  ours_over_floor: number;
  runtime: string;
  /** 1-minute load average of the machine when the row was measured (other processes share it). */
  load_1m: number | null;
}

export interface OpenMlsHost {
  log(msg: string): void;
  /** Runs `fn` under a CPU profiler saved as `<name>.cpuprofile`. */
  profile<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** The machine's 1-minute load average, when the host can tell. */
  load(): Promise<number | null>;
}

interface Side {
  readonly impl: Impl;
  readonly make: (name: string) => Promise<Party>;
  a: Party;
  b: Party;
}

function runsFor(args: OpenMlsArgs, n: number, kind: 'message' | 'commit'): number {
  if (args.quick) return kind === 'message' ? 10 : 3;
  if (kind === 'message') return n >= 1024 ? 30 : 50;
  // 9 at N=1024 (5 before): on a shared machine one preempted run moved a median of 5 by a third.
  return n >= 1024 ? 9 : n >= 256 ? 7 : 15;
}

async function agree(s: Side, step: string): Promise<void> {
  const [ea, eb, xa, xb] = await Promise.all([s.a.epoch(), s.b.epoch(), s.a.exported(), s.b.exported()]);
  if (ea !== eb || xa !== xb) throw new Error(`bench (${s.impl}): creator and receiver disagree after ${step}`);
}

async function prepare(side: Side, fillers: readonly Uint8Array[], n: number, host: OpenMlsHost): Promise<void> {
  const t0 = performance.now();
  await side.a.createGroup(utf8(`bench ${side.impl} ${n} ${Math.random()}`));
  const first = await side.a.addWithoutPath([await side.b.keyPackage(), ...fillers.slice(0, BATCH - 1)]);
  await side.b.joinFromWelcome(first.welcome!);
  for (let i = BATCH - 1; i < fillers.length; i += BATCH) {
    const sent = await side.a.addWithoutPath(fillers.slice(i, i + BATCH));
    await side.b.process(sent.commit);
  }
  await agree(side, 'the adds');
  host.log(`  ${side.impl}: group of ${n} ready in ${formatMs(performance.now() - t0)} ms`);
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

type Samples = Record<Operation, Record<Impl, number[]>>;

/** One timed run of a phase for one side, appending to `samples`. */
async function messageRun(side: Side, samples: Samples): Promise<void> {
  let ct: Uint8Array = new Uint8Array();
  samples.encrypt[side.impl].push(await time(async () => (ct = await side.a.encrypt(PAYLOAD))));
  samples.decrypt[side.impl].push(await time(() => side.b.process(ct)));
}

async function updateRun(side: Side, samples: Samples): Promise<void> {
  let commit: Uint8Array = new Uint8Array();
  samples.update_commit[side.impl].push(await time(async () => (commit = (await side.a.update()).commit)));
  samples.process_update[side.impl].push(await time(() => side.b.process(commit)));
}

async function addRun(side: Side, samples: Samples, index: number): Promise<void> {
  const joiner = await side.make(`j${index}`);
  const kp = await joiner.keyPackage();
  let sent: { commit: Uint8Array; welcome?: Uint8Array } = { commit: new Uint8Array() };
  samples.add_commit[side.impl].push(await time(async () => (sent = await side.a.addWithoutPath([kp]))));
  samples.process_add[side.impl].push(await time(() => side.b.process(sent.commit)));
  samples.join_welcome[side.impl].push(await time(() => joiner.joinFromWelcome(sent.welcome!)));
}

/** Runs `phase` `runs` times for both sides, alternating, after one untimed warm-up run each. */
async function alternate(sides: readonly Side[], runs: number, phase: (s: Side, samples: Samples, i: number) => Promise<void>, samples: Samples, warm: Samples): Promise<void> {
  for (const s of sides) await phase(s, warm, -1 - sides.indexOf(s));
  for (let i = 0; i < runs; i++) for (const s of sides) await phase(s, samples, i * sides.length + sides.indexOf(s));
}

function emptySamples(): Samples {
  return Object.fromEntries(OPERATIONS.map((op) => [op, { ours: [], openmls: [] }])) as unknown as Samples;
}

/** Measures every operation at every N; returns the rows. */
export async function runOpenMlsBench(cc: CoreCryptoModule, args: OpenMlsArgs, runtime: string, host: OpenMlsHost): Promise<OpenMlsRecord[]> {
  const records: OpenMlsRecord[] = [];
  for (const n of args.sizes) {
    host.log(`N = ${n}`);
    // Fillers: the same KeyPackages (ours) in both groups.
    const fillers: Uint8Array[] = [];
    for (let i = 0; i < n - 2; i++) fillers.push(await (await OurParty.create(`f${i}`, SUITE)).keyPackage());
    const sides: Side[] = [];
    for (const impl of ['ours', 'openmls'] as const) {
      const make = impl === 'ours' ? (name: string) => OurParty.create(name, SUITE) : (name: string) => OpenMlsParty.create(cc, name, SUITE);
      const side: Side = { impl, make, a: await make('a'), b: await make('b') };
      await prepare(side, fillers, n, host);
      sides.push(side);
    }
    const samples = emptySamples();
    const warm = emptySamples();
    const phases: [string, number, (s: Side, x: Samples, i: number) => Promise<void>][] = [
      ['messages', runsFor(args, n, 'message'), messageRun],
      ['updates', runsFor(args, n, 'commit'), updateRun],
      ['adds', runsFor(args, n, 'commit'), addRun],
    ];
    for (const [name, runs, phase] of phases) {
      const profiled = args.profile !== undefined && phaseOf(args.profile) === name;
      const go = () => alternate(sides, runs, phase, samples, warm);
      await (profiled ? host.profile(`profile-openmls-${args.profile}-N${n}`, go) : go());
      for (const s of sides) await agree(s, name);
      host.log(`  ${name}: ${runs} runs each`);
    }
    const load = await host.load();
    for (const op of OPERATIONS) {
      const ours = samples[op].ours;
      const peer = samples[op].openmls;
      const ours_ms = median(ours);
      const peer_ms = median(peer);
      const floor_ms = await measureFloor(recipe(op, n));
      records.push({
        operation: op,
        n,
        suite: SUITE,
        ours_ms,
        peer_ms,
        ratio: peer_ms / ours_ms,
        runs: ours.length,
        ours_min_ms: Math.min(...ours),
        peer_min_ms: Math.min(...peer),
        floor_ms,
        ours_over_floor: ours_ms / floor_ms,
        runtime,
        load_1m: load,
      });
    }
  }
  return records;
}

function phaseOf(op: Operation): string {
  if (op === 'encrypt' || op === 'decrypt') return 'messages';
  if (op === 'update_commit' || op === 'process_update') return 'updates';
  return 'adds';
}

/** The printed table: both figures side by side and the ratio, marking N=1024 rows under the target in Chromium. */
export function reportOpenMls(records: readonly OpenMlsRecord[], runtime: string, browser: boolean): string[] {
  const lines = [
    '',
    `bench:mls --peer openmls — ours vs OpenMLS (@wireapp/core-crypto 10.3.0, wasm), suite ${SUITE}, ${runtime}`,
    'median ms; ratio = OpenMLS / ours (> 1: we are faster); OpenMLS figures include its transaction and in-memory keystore',
    '',
    `${'operation'.padEnd(16)}${'N'.padStart(6)}${'ours'.padStart(11)}${'OpenMLS'.padStart(11)}${'ratio'.padStart(9)}${'floor'.padStart(10)}${'ours/floor'.padStart(11)}${'runs'.padStart(6)}${'load'.padStart(7)}`,
  ];
  for (const r of records) {
    const short = browser && r.n >= 1024 && r.ratio < TARGET_RATIO ? `  < ${TARGET_RATIO}x target` : '';
    lines.push(
      `${r.operation.padEnd(16)}${String(r.n).padStart(6)}${formatMs(r.ours_ms).padStart(11)}${formatMs(r.peer_ms).padStart(11)}${`${r.ratio.toFixed(2)}x`.padStart(9)}${formatMs(r.floor_ms).padStart(10)}${`${r.ours_over_floor.toFixed(1)}x`.padStart(11)}${String(r.runs).padStart(6)}${(r.load_1m === null ? '-' : r.load_1m.toFixed(2)).padStart(7)}${short}`,
    );
  }
  return lines;
}
