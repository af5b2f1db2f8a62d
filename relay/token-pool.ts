/**
 * A small pool of Web Workers for spend checks, so the VOPRF evaluation (the
 * relay's most expensive per-message step) uses more than one core. With no
 * workers configured, or without Worker support, checks run in-process.
 */

export interface SpendCheck {
  keyId: string;
  seed: Uint8Array;
  input: Uint8Array;
  output: Uint8Array;
}

interface Slot {
  worker: Worker;
  inflight: number;
}

export class TokenPool {
  private readonly slots: Slot[] = [];
  private readonly waiting = new Map<
    number,
    { resolve: (ok: boolean) => void; reject: (err: Error) => void; slot: Slot }
  >();
  private nextId = 1;

  constructor(size: number) {
    if (typeof Worker === 'undefined') return;
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL('./token-worker.ts', import.meta.url).href, { type: 'module' });
      const slot: Slot = { worker, inflight: 0 };
      worker.onmessage = (ev: MessageEvent<{ id: number; ok: boolean }>) => {
        const w = this.waiting.get(ev.data.id);
        if (w === undefined) return;
        this.waiting.delete(ev.data.id);
        w.slot.inflight--;
        w.resolve(ev.data.ok === true);
      };
      // A worker that fails is dropped; its pending checks fail over to the caller.
      worker.onerror = (ev: Event) => {
        ev.preventDefault();
        this.drop(slot);
      };
      this.slots.push(slot);
    }
  }

  private drop(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    slot.worker.terminate();
    for (const [id, w] of this.waiting) {
      if (w.slot !== slot) continue;
      this.waiting.delete(id);
      w.reject(new Error('token worker failed'));
    }
  }

  get size(): number {
    return this.slots.length;
  }

  /** Runs the check on the least busy worker. */
  check(job: SpendCheck): Promise<boolean> {
    let slot = this.slots[0];
    for (const s of this.slots) if (slot === undefined || s.inflight < slot.inflight) slot = s;
    if (slot === undefined) return Promise.reject(new Error('no token workers'));
    const chosen = slot;
    const id = this.nextId++;
    chosen.inflight++;
    return new Promise<boolean>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, slot: chosen });
      chosen.worker.postMessage({ id, ...job });
    });
  }

  close(): void {
    for (const s of this.slots) s.worker.terminate();
    for (const w of this.waiting.values()) w.reject(new Error('token pool closed'));
    this.waiting.clear();
  }
}
