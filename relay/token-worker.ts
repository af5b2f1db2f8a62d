/**
 * Worker side of the token-check pool (token-pool.ts): evaluates VOPRF spend
 * checks off the main thread. Receives {id, keyId, seed, input, output},
 * answers {id, ok}. Evaluators are cached per key id.
 */

import { createTokenEvaluator, type TokenEvaluator } from './token-eval.ts';

interface Job {
  id: number;
  keyId: string;
  seed: Uint8Array;
  input: Uint8Array;
  output: Uint8Array;
}

interface WorkerScope {
  onmessage: ((ev: MessageEvent<Job>) => void) | null;
  postMessage(message: { id: number; ok: boolean; error?: boolean }): void;
}

const scope = globalThis as unknown as WorkerScope;
const evaluators = new Map<string, Promise<TokenEvaluator>>();

scope.onmessage = (ev: MessageEvent<Job>): void => {
  const job = ev.data;
  let evaluator = evaluators.get(job.keyId);
  if (evaluator === undefined) {
    evaluator = createTokenEvaluator(job.seed);
    evaluators.set(job.keyId, evaluator);
    // Keys rotate slowly; keep the cache from growing without bound.
    if (evaluators.size > 8) evaluators.delete(evaluators.keys().next().value as string);
  }
  evaluator
    .then((e) => e.matches(job.input, job.output))
    .then(
      (ok) => scope.postMessage({ id: job.id, ok }),
      () => scope.postMessage({ id: job.id, ok: false, error: true }),
    );
};
