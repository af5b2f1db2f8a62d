/**
 * The full background as the shell (entrypoints/background.ts) sees it: the
 * app itself and the figures the benchmarks read. Built as a script of its own
 * (entrypoints/engine.ts), which puts it on the global scope; the shell loads
 * it after answering a woken view from the kept state (wake-state.ts).
 *
 * Chrome: the shell's worker imports the script while it installs, so the
 * browser keeps it with the worker and `importScripts` can load it again at
 * any later wake (a service worker may import no script it did not import
 * while installing). Firefox: its event page lists the script after the
 * shell's, so it is already there when the shell asks for it.
 */
import type { BackgroundApp, BackgroundDeps } from './background-app.ts';
import type { WakeStep } from './wake-timing.ts';

export const ENGINE_SCRIPT = 'engine.js';

export interface Engine {
  start(deps: BackgroundDeps): Promise<BackgroundApp>;
  /** Phase totals of sent messages (send-timing.ts). */
  sendTimings(): unknown;
  /** The engine's own start-up steps (wake-timing.ts). */
  wakeTimings(): Partial<Record<WakeStep, number>>;
}

interface EngineScope {
  microchatEngine?: Engine;
  importScripts?: (...urls: string[]) => void;
}

const scope = globalThis as unknown as EngineScope;

/** Called by the engine's own script: here it is. */
export function provideEngine(engine: Engine): void {
  scope.microchatEngine = engine;
}

/** The engine when its script has run. */
export function loadedEngine(): Engine | undefined {
  return scope.microchatEngine;
}

/**
 * The engine, its script run now if it has not run yet (Chrome's worker, synchronously: called while the worker
 * installs too, which is what lets later wakes import it). Firefox's event page runs it as the page's next script,
 * which may come after the shell's first tasks: then it waits for the page to have loaded. Rejects when it cannot
 * be loaded.
 */
export async function loadEngine(): Promise<Engine> {
  if (loadedEngine() === undefined && typeof scope.importScripts === 'function') scope.importScripts(`/${ENGINE_SCRIPT}`);
  if (loadedEngine() === undefined) await pageLoaded();
  const engine = loadedEngine();
  if (engine === undefined) throw new Error(`the background's ${ENGINE_SCRIPT} did not load`);
  return engine;
}

/** Once every script of the page has run (at once outside a page, or when it has loaded). */
function pageLoaded(): Promise<void> {
  const doc = (globalThis as { document?: { readyState: string } }).document;
  if (doc === undefined || doc.readyState === 'complete') return Promise.resolve();
  return new Promise((resolve) => globalThis.addEventListener('load', () => resolve(), { once: true }));
}
