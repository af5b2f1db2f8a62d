/**
 * Small timing helpers shared by the benchmarks: repeat an operation from a
 * fresh setup, take the median, and stop early when a time budget is spent so
 * that slow implementations still finish in reasonable time.
 */

export interface MeasureOptions {
  /** Runs always done (after the optional warm-up). */
  readonly minReps: number;
  /** Runs never exceeded. */
  readonly maxReps: number;
  /** Stop adding runs past minReps once this much time was spent in the timed part. */
  readonly budgetMs: number;
  /** Run once untimed first when that run is cheaper than this (JIT warm-up; default 100 ms). */
  readonly warmupBelowMs?: number;
}

export interface Measurement {
  readonly medianMs: number;
  readonly reps: number;
  readonly samplesMs: readonly number[];
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of nothing');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Times `run(prepared)` where `prepared = setup()` is made (untimed) before
 * every run. Returns the median and the samples.
 */
export async function measure<T>(
  setup: () => T | Promise<T>,
  run: (prepared: T) => unknown,
  options: MeasureOptions,
): Promise<Measurement> {
  const samples: number[] = [];
  let spent = 0;
  const once = async (): Promise<number> => {
    const prepared = await setup();
    const t0 = performance.now();
    await run(prepared);
    return performance.now() - t0;
  };
  const first = await once();
  if (first >= (options.warmupBelowMs ?? 100)) {
    samples.push(first);
    spent += first;
  }
  while (samples.length < options.maxReps && (samples.length < options.minReps || spent < options.budgetMs)) {
    const ms = await once();
    samples.push(ms);
    spent += ms;
  }
  return { medianMs: median(samples), reps: samples.length, samplesMs: samples };
}

/** Times one run of `fn` in milliseconds, returning its result too. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export function formatMs(ms: number): string {
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

/** One timed run: prepare (untimed), run (timed); resolves to the run's milliseconds. */
export type Once = () => Promise<number>;

export function onceOf<T>(setup: () => T | Promise<T>, run: (prepared: T) => unknown): Once {
  return async () => {
    const prepared = await setup();
    const t0 = performance.now();
    await run(prepared);
    return performance.now() - t0;
  };
}

/**
 * Like `measure`, for several contestants at once: their runs alternate
 * (a, b, a, b, ...) so that a change in machine load hits all of them alike,
 * which keeps their ratio meaningful on a shared machine.
 */
export async function measureAlternating(contestants: readonly Once[], options: MeasureOptions): Promise<Measurement[]> {
  const samples: number[][] = contestants.map(() => []);
  const spent: number[] = contestants.map(() => 0);
  for (const [i, once] of contestants.entries()) {
    const first = await once();
    if (first >= (options.warmupBelowMs ?? 100)) {
      samples[i]!.push(first);
      spent[i]! += first;
    }
  }
  const wantsMore = (i: number): boolean =>
    samples[i]!.length < options.maxReps && (samples[i]!.length < options.minReps || spent[i]! < options.budgetMs);
  while (contestants.some((_, i) => wantsMore(i))) {
    for (const [i, once] of contestants.entries()) {
      if (!wantsMore(i)) continue;
      const ms = await once();
      samples[i]!.push(ms);
      spent[i]! += ms;
    }
  }
  return samples.map((xs) => ({ medianMs: median(xs), reps: xs.length, samplesMs: xs }));
}
