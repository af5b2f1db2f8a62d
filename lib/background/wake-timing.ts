/**
 * Where a wake's time goes: milliseconds from the worker's start (its time origin) to each step of the
 * background's start-up, for the last start only. `npm run bench:ui` reads them from the worker after every
 * timed wake (no content, no ids: step names and times).
 */

/** `kept`: the kept view state is read (wake-state.ts); `engine`: the full background's script has run. */
export const WAKE_STEPS = ['script', 'database', 'kept', 'engine', 'settings', 'vault', 'account', 'session', 'ready'] as const;
export type WakeStep = (typeof WAKE_STEPS)[number];

const marks: Partial<Record<WakeStep, number>> = {};

/** Record that start-up reached `step` now. */
export function markWake(step: WakeStep): void {
  marks[step] = performance.now();
}

/** The steps reached so far, each in ms since the worker started. */
export function wakeTimings(): Partial<Record<WakeStep, number>> {
  return { ...marks };
}
