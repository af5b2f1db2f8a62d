/**
 * The environment-neutral core of `npm run bench:mls` (no `node:` imports, so
 * the same code runs under Node, bench/mls.ts, and bundled inside headless
 * Chromium, bench/mls-browser.ts + bench/mls-page.ts): it times our MLS engine
 * and ts-mls 1.6.4 for cipher suite 1 at N = 2, 32, 256 and 1024 members, both
 * driven through the same `InteropMember` interface with MLSMessage bytes (so
 * both pay their own encoding and decoding).
 *
 * Operations (median ms over repeated runs from the same immutable state):
 *  - add_all:           adding N-1 members to a fresh group, in commits of 100 adds (total);
 *  - commit_blank:      an empty commit (full path) by the creator right after the adds:
 *                       nobody else has committed, so each copath resolution is all leaves;
 *  - commit_populated:  the same in a populated tree: one member in every subtree of the
 *                       creator's copath has committed once, so each resolution is one node;
 *  - process_commit:    a member processes that populated-tree commit;
 *  - process_blank:     a member processes the blank-tree commit (extra, no target);
 *  - join_welcome:      a member of the last add batch joins from its Welcome (ratchet_tree extension);
 *  - encrypt, decrypt:  a 100-byte application message, one ratchet step each.
 *
 * Why "populated" is built this way: a literal "every member has committed once"
 * history needs every member to process every other member's commit (O(N²)
 * processing, hours for ts-mls at N=1024). What a commit costs depends only on
 * the committer's copath, so for each copath subtree (leaves 2^k .. 2^(k+1)-1)
 * the creator replaces leaf 2^k by a fresh member (remove + add in one commit),
 * who joins and commits once, and the creator processes that commit.
 *
 * Both implementations first build their fixtures (untimed, checked for
 * agreement; add_all is timed while doing so), then every other operation is
 * timed with the two implementations' runs alternating, so that load from
 * other processes on a shared machine hits both alike.
 *
 * The drivers give the factories (how to make a member of each implementation)
 * and a `BenchHost` (where progress lines go, how to CPU-profile a span); this
 * file returns the records and the printed report.
 */
import { bytesEqual } from '../lib/bytes.ts';
import { defaultPrimitives } from '../lib/crypto/suites.ts';
import { webCryptoSupports } from '../lib/crypto/subtle.ts';
import { utf8, type InteropMember } from '../tests/mls/interop/member.ts';
import { formatMs, measure, measureAlternating, onceOf, timed, type Measurement, type MeasureOptions, type Once } from './timing.ts';

export const SUITE = 1;
const BATCH = 100;

export type Factory = (name: string) => Promise<InteropMember>;
export type ImplName = 'ours' | 'ts-mls';

export const OPERATIONS = [
  'add_all',
  'commit_blank',
  'commit_populated',
  'process_commit',
  'process_blank',
  'join_welcome',
  'encrypt',
  'decrypt',
] as const;
export type Operation = (typeof OPERATIONS)[number];
type TimedOperation = Exclude<Operation, 'add_all'>;

/** Targets at N=1024, as ts-mls time / our time. */
export const TARGETS: Partial<Record<Operation, number>> = {
  commit_populated: 50,
  process_commit: 100,
  join_welcome: 5,
  commit_blank: 4,
  encrypt: 5,
  decrypt: 4,
};

export interface Args {
  readonly quick: boolean;
  readonly only: ImplName | undefined;
  readonly sizes: readonly number[];
  readonly profile: Operation | undefined;
  /** Run inside headless Chromium instead of this Node process. */
  readonly browser: boolean;
}

export function parseArgs(argv: readonly string[]): Args {
  const known = ['--quick', '--browser', '--only=', '--n=', '--profile='];
  const unknown = argv.find((a) => !known.some((k) => (k.endsWith('=') ? a.startsWith(k) : a === k)));
  if (unknown !== undefined) throw new Error(`unknown argument ${unknown} (--quick --browser --only= --n= --profile=)`);
  const quick = argv.includes('--quick');
  const onlyArg = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  if (onlyArg !== undefined && onlyArg !== 'ours' && onlyArg !== 'ts-mls') throw new Error('--only=ours|ts-mls');
  const nArg = argv.find((a) => a.startsWith('--n='))?.slice('--n='.length);
  const sizes = nArg !== undefined ? nArg.split(',').map(Number) : quick ? [2, 32] : [2, 32, 256, 1024];
  if (sizes.some((n) => !Number.isInteger(n) || n < 2)) throw new Error('--n=N[,N...] with N >= 2');
  const profile = argv.find((a) => a.startsWith('--profile='))?.slice('--profile='.length);
  if (profile !== undefined && !(OPERATIONS as readonly string[]).includes(profile)) throw new Error(`--profile=${OPERATIONS.join('|')}`);
  return { quick, only: onlyArg, sizes, profile: profile as Operation | undefined, browser: argv.includes('--browser') };
}

/** What the core needs from its environment. */
export interface BenchHost {
  /** One progress line. */
  log(msg: string): void;
  /** Runs `fn` under a CPU profiler saved as `<name>.cpuprofile` (the host picks the directory). */
  profile<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

export interface Contestant {
  readonly name: ImplName;
  readonly factory: Factory;
}

/** One line per operation and N in bench-results/mls*.json. */
export interface BenchRecord {
  operation: Operation;
  n: number;
  suite: number;
  ours_ms: number | null;
  peer_ms: number | null;
  ratio: number | null;
  ours_runs: number | null;
  peer_runs: number | null;
  /** Fastest run of each: less sensitive to load from other processes than the median. */
  ours_min_ms: number | null;
  peer_min_ms: number | null;
}

/** The JavaScript runtime this code runs in, for the report. */
export function describeRuntime(): string {
  const g = globalThis as { process?: { versions?: { node?: string } }; navigator?: { userAgent?: string }; crossOriginIsolated?: boolean };
  const node = g.process?.versions?.node;
  if (node !== undefined) return `Node ${node}`;
  const ua = g.navigator?.userAgent ?? 'unknown runtime';
  const chrome = /(?:Headless)?Chrome\/[\d.]+/.exec(ua)?.[0];
  // Without cross-origin isolation browsers coarsen performance.now() to 100 µs.
  const clock = g.crossOriginIsolated === true ? 'cross-origin isolated (5 µs timer)' : 'NOT cross-origin isolated (100 µs timer)';
  return `${chrome ?? ua}, ${clock}`;
}

/** Which crypto path our engine takes here for suite 1 (lib/crypto's default backend). */
export async function describeOurCrypto(): Promise<string> {
  if (defaultPrimitives().name === 'node') return 'Node fast path (node:crypto HMAC/HKDF, AES-GCM, Ed25519) + WebCrypto X25519 + sha256.ts hashes';
  const ed = (await webCryptoSupports({ name: 'Ed25519' }, ['sign', 'verify'])) ? 'WebCrypto' : 'noble';
  const x = (await webCryptoSupports({ name: 'X25519' }, ['deriveBits'])) ? 'WebCrypto' : 'noble';
  // aead.ts: every AES-GCM call in WebCrypto in browsers, small ones in noble under Node/Deno.
  const server = typeof (globalThis as { process?: { versions?: { node?: unknown } } }).process?.versions?.node === 'string';
  const aes = server ? 'noble (WebCrypto above 8 KiB)' : 'WebCrypto';
  // dh.ts: in browsers X25519 public and ephemeral keys also come from WebCrypto (PKCS#8 route).
  const keys = x === 'WebCrypto' && !server ? ' (public and ephemeral keys too)' : '';
  return `portable path: Ed25519 ${ed}, X25519 ${x}${keys}, AES-GCM ${aes}, SHA-256/HMAC/HKDF sha256.ts`;
}

/** Prefix of the page's console lines that are progress lines (browser mode). */
export const LOG_PREFIX = '[mls-bench] ';

export const PEER_CRYPTO = "ts-mls' default provider: WebCrypto hash/HMAC/AES-GCM, @hpke/core, noble signatures";

function reps(args: Args, n: number, expensive: boolean): MeasureOptions {
  if (args.quick) return { minReps: 2, maxReps: 5, budgetMs: 500 };
  if (expensive && n >= 256) return { minReps: 1, maxReps: 3, budgetMs: 1 };
  return { minReps: 5, maxReps: 15, budgetMs: 2500 };
}

function messageReps(args: Args): MeasureOptions {
  return args.quick ? { minReps: 5, maxReps: 10, budgetMs: 200 } : { minReps: 40, maxReps: 60, budgetMs: 1500 };
}

function must<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`bench: missing ${what}`);
  return v;
}

/** Checks (untimed) that two members reached the same epoch state, so the timed work is real. */
function expectSameEpoch(a: InteropMember, b: InteropMember, step: string): void {
  if (a.epoch() !== b.epoch() || !bytesEqual(a.epochAuthenticator(), b.epochAuthenticator())) {
    throw new Error(`bench (${a.impl}): ${a.name} and ${b.name} disagree after ${step}`);
  }
}

const PAYLOAD = new Uint8Array(100).fill(0x61);

/** Everything one implementation's timed operations start from, at one N. */
interface Fixture {
  readonly addAll: Measurement;
  /** The creator after all adds, and the Welcome of the last batch with a member it is for. */
  readonly full: InteropMember;
  readonly welcome: Uint8Array;
  readonly joiner: InteropMember;
  /** That member after joining. */
  readonly member: InteropMember;
  readonly blankCommit: Uint8Array;
  /** Creator and one member after populating the creator's copath, and the creator's next commit. */
  readonly popCreator: InteropMember;
  readonly popReceiver: InteropMember;
  readonly popCommit: Uint8Array;
  /** Application messages from the creator, in order, for `member` to read. */
  readonly ciphertexts: readonly Uint8Array[];
}

async function prepare(impl: ImplName, factory: Factory, n: number, args: Args, host: BenchHost): Promise<Fixture> {
  const creator0 = await factory('m0');
  await creator0.createGroup(utf8(`bench ${impl} ${n}`));
  const others: InteropMember[] = [];
  const keyPackages: Uint8Array[] = [];
  const kpTime = await timed(async () => {
    for (let i = 1; i < n; i++) {
      const m = await factory(`m${i}`);
      others.push(m);
      keyPackages.push(await m.keyPackage());
    }
  });
  host.log(`  ${impl} N=${n}: ${n - 1} key packages in ${formatMs(kpTime.ms)} ms (untimed)`);

  // add_all (timed here, on its own): every member, in commits of BATCH adds.
  let full: InteropMember | undefined;
  let welcome: Uint8Array | undefined;
  const measureAddAll = (): Promise<Measurement> =>
    measure(
      () => creator0.fork(),
      async (c) => {
        for (let i = 0; i < keyPackages.length; i += BATCH) {
          const r = await c.commit({ adds: keyPackages.slice(i, i + BATCH) });
          welcome = r.welcome;
        }
        full = c;
      },
      reps(args, n, true),
    );
  const addAll = args.profile === 'add_all' ? await host.profile(`profile-add_all-${impl}-N${n}`, measureAddAll) : await measureAddAll();
  host.log(`  ${impl} N=${n} add_all: ${formatMs(addAll.medianMs)} ms (${addAll.reps} runs)`);
  const fullState = must(full, 'group after adds');
  const joiner = must(others.at(-1), 'joiner');

  const fixtureTime = await timed(async () => {
    const member = joiner.fork();
    await member.joinFromWelcome(must(welcome, 'Welcome'));
    expectSameEpoch(fullState, member, 'join');

    const blankCommitter = fullState.fork();
    const blankCommit = (await blankCommitter.commit()).commit;
    const blankReceiver = member.fork();
    await blankReceiver.process(blankCommit);
    expectSameEpoch(blankCommitter, blankReceiver, 'blank commit');

    const sender = fullState.fork();
    const ciphertexts: Uint8Array[] = [];
    for (let i = 0; i <= messageReps(args).maxReps; i++) ciphertexts.push(await sender.encrypt(PAYLOAD));

    // Populate the creator's copath (see the header).
    const popCreator = fullState.fork();
    let popReceiver = member.fork();
    for (let k = Math.floor(Math.log2(n - 1)); k >= 1; k--) {
      const leaf = 2 ** k;
      const p = await factory(`p${k}`);
      const r = await popCreator.commit({ removes: [leaf], adds: [await p.keyPackage()] });
      await p.joinFromWelcome(must(r.welcome, 'populator Welcome'));
      if (p.ownLeafIndex() !== leaf) throw new Error(`bench: populator landed at ${p.ownLeafIndex()}, not ${leaf}`);
      const c = await p.commit();
      await popCreator.process(c.commit);
      expectSameEpoch(popCreator, p, `populator ${k}`);
      popReceiver = p;
    }
    const popCommitter = popCreator.fork();
    const popCommit = (await popCommitter.commit()).commit;
    const check = popReceiver.fork();
    await check.process(popCommit);
    expectSameEpoch(popCommitter, check, 'populated commit');
    return { member, blankCommit, ciphertexts, popCreator, popReceiver, popCommit };
  });
  host.log(`  ${impl} N=${n}: fixtures (join, commits, populated copath, messages) in ${formatMs(fixtureTime.ms)} ms (untimed)`);
  return { addAll, full: fullState, welcome: must(welcome, 'Welcome'), joiner, ...fixtureTime.value };
}

/** The timed run of `op` from `f`; each call of the result is one run. */
function operation(op: TimedOperation, f: Fixture): Once {
  switch (op) {
    case 'join_welcome':
      return onceOf(() => f.joiner.fork(), (j) => j.joinFromWelcome(f.welcome));
    case 'commit_blank':
      return onceOf(() => f.full.fork(), (c) => c.commit());
    case 'process_blank':
      return onceOf(() => f.member.fork(), (m) => m.process(f.blankCommit));
    case 'commit_populated':
      return onceOf(() => f.popCreator.fork(), (c) => c.commit());
    case 'process_commit':
      return onceOf(() => f.popReceiver.fork(), (m) => m.process(f.popCommit));
    case 'encrypt': {
      const sender = f.full.fork();
      return onceOf(() => sender, (s) => s.encrypt(PAYLOAD));
    }
    case 'decrypt': {
      const reader = f.member.fork();
      let next = 0;
      return onceOf(
        () => must(f.ciphertexts[next++], 'ciphertext'),
        async (ct) => {
          const r = await reader.process(ct);
          if (r.kind !== 'application' || !bytesEqual(r.data, PAYLOAD)) throw new Error('bench: wrong plaintext');
        },
      );
    }
  }
}

/** Runs every operation at every N for the contestants (ours first, then ts-mls) and returns the records. */
export async function runBench(args: Args, contestants: readonly Contestant[], host: BenchHost): Promise<BenchRecord[]> {
  const records: BenchRecord[] = [];
  for (const n of args.sizes) {
    const fixtures: [ImplName, Fixture][] = [];
    for (const { name, factory } of contestants) {
      host.log(`${name}, N=${n}: preparing`);
      fixtures.push([name, await prepare(name, factory, n, args, host)]);
    }
    const results = new Map<ImplName, Partial<Record<Operation, Measurement>>>();
    for (const [name, f] of fixtures) results.set(name, { add_all: f.addAll });
    for (const op of OPERATIONS) {
      if (op === 'add_all') continue;
      const options = op === 'encrypt' || op === 'decrypt' ? messageReps(args) : reps(args, n, false);
      const run = (): Promise<Measurement[]> => measureAlternating(fixtures.map(([, f]) => operation(op, f)), options);
      const measured = args.profile === op ? await host.profile(`profile-${op}-N${n}`, run) : await run();
      const line = fixtures.map(([name], i) => `${name} ${formatMs(measured[i]!.medianMs)} ms (${measured[i]!.reps} runs)`).join(', ');
      host.log(`  N=${n} ${op}: ${line}`);
      fixtures.forEach(([name], i) => (results.get(name)![op] = measured[i]!));
    }
    for (const op of OPERATIONS) {
      const ours = results.get('ours')?.[op];
      const peer = results.get('ts-mls')?.[op];
      records.push({
        operation: op,
        n,
        suite: SUITE,
        ours_ms: ours?.medianMs ?? null,
        peer_ms: peer?.medianMs ?? null,
        ratio: ours !== undefined && peer !== undefined ? peer.medianMs / ours.medianMs : null,
        ours_runs: ours?.reps ?? null,
        peer_runs: peer?.reps ?? null,
        ours_min_ms: ours === undefined ? null : Math.min(...ours.samplesMs),
        peer_min_ms: peer === undefined ? null : Math.min(...peer.samplesMs),
      });
    }
  }
  return records;
}

/** The printed table and the target check, as lines. */
export function report(records: readonly BenchRecord[], args: Args, title: string): string[] {
  const out: string[] = [];
  const fmt = (v: number | null): string => (v === null ? '-' : formatMs(v));
  const rows = [['operation', 'N', 'ours ms', 'ts-mls ms', 'ts-mls/ours']];
  for (const r of records) rows.push([r.operation, String(r.n), fmt(r.ours_ms), fmt(r.peer_ms), r.ratio === null ? '-' : `${r.ratio.toFixed(1)}×`]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  out.push('', `MLS benchmark, cipher suite ${SUITE}${args.quick ? ' (quick)' : ''}, ${title}, median ms`, '');
  for (const row of rows) out.push(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));

  const targetN = args.sizes.includes(1024) ? 1024 : Math.max(...args.sizes);
  out.push('', `Targets at N=${targetN}${targetN === 1024 ? '' : ' (targets are defined at N=1024; shown for reference)'}:`);
  let allMet = true;
  for (const [op, target] of Object.entries(TARGETS) as [Operation, number][]) {
    const r = records.find((x) => x.operation === op && x.n === targetN);
    const ratio = r?.ratio ?? null;
    const met = ratio !== null && ratio >= target;
    if (!met) allMet = false;
    out.push(`  ${op.padEnd(17)} ≥ ${String(target).padStart(3)}×: ${ratio === null ? 'not measured' : `${ratio.toFixed(1)}× ${met ? 'MET' : 'MISSED'}`}`);
  }
  if (targetN === 1024) out.push('', allMet ? 'All targets met.' : 'Some targets missed.');
  return out;
}
