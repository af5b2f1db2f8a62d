/**
 * Windowing arithmetic for the virtualized message list. Each item has a
 * height: measured once rendered, estimated before. Offsets are prefix sums
 * (offsets[i] is the top of item i, offsets[n] the total height), rebuilt in
 * O(n) when items or measurements change — a few hundred microseconds for
 * 10,000 items — and searched in O(log n) on every scroll.
 */

export interface Layout {
  /** Length n + 1: offsets[i] is the top of item i; offsets[n] is the total height. */
  offsets: Float64Array;
  total: number;
}

export interface Range {
  /** First rendered index (inclusive). */
  start: number;
  /** Last rendered index (exclusive). */
  end: number;
}

export function buildLayout(keys: readonly string[], heights: ReadonlyMap<string, number>, estimate: number): Layout {
  const offsets = new Float64Array(keys.length + 1);
  let y = 0;
  for (let i = 0; i < keys.length; i++) {
    offsets[i] = y;
    y += heights.get(keys[i]!) ?? estimate;
  }
  offsets[keys.length] = y;
  return { offsets, total: y };
}

/** The index of the item that covers y (clamped to [0, n-1]); 0 when empty. */
export function indexAt(offsets: Float64Array, y: number): number {
  const n = offsets.length - 1;
  if (n <= 0) return 0;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid]! <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The items to render for a viewport, with `overscan` pixels of margin above and below. */
export function visibleRange(layout: Layout, scrollTop: number, viewport: number, overscan: number): Range {
  const n = layout.offsets.length - 1;
  if (n === 0) return { start: 0, end: 0 };
  const top = Math.max(0, scrollTop - overscan);
  const bottom = scrollTop + viewport + overscan;
  const start = indexAt(layout.offsets, top);
  let end = indexAt(layout.offsets, bottom) + 1;
  if (end > n) end = n;
  return { start, end };
}
