/**
 * A view loaded on its first showing (lib/view/lazy-view.ts, components/Lazy.svelte):
 * nothing in its place while its chunk loads, then the view with its props, which stay
 * reactive; one load however many ask; a second showing at once; a failed load says so
 * and the next showing tries again.
 */
import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render } from '@testing-library/svelte';
import { tick, type Component } from 'svelte';
import Lazy from '@/components/Lazy.svelte';
import OfflineBanner from '@/components/OfflineBanner.svelte';
import { lazyView, type LazyView } from '@/lib/view/lazy-view.ts';

type BannerProps = { state: 'offline' | 'connecting'; onretry: () => void };
type Chunk = { default: Component<BannerProps> };

/** A chunk whose load the test finishes (or fails) when it chooses. */
function controlledChunk() {
  const loads: { resolve: (c: Chunk) => void; reject: (e: Error) => void }[] = [];
  const importChunk = vi.fn(
    () =>
      new Promise<Chunk>((resolve, reject) => {
        loads.push({ resolve, reject });
      }),
  );
  return { importChunk, loads };
}

const banner = { default: OfflineBanner as unknown as Component<BannerProps> };

/** Lazy showing the banner (render() does not infer a generic component's type parameter from its props). */
function show(view: LazyView<BannerProps>, props: BannerProps) {
  return render(Lazy, { of: view as unknown as LazyView<Record<string, unknown>>, ...props });
}

describe('a lazily loaded view', () => {
  it('shows nothing while its chunk loads, then the view; its props stay reactive', async () => {
    const { importChunk, loads } = controlledChunk();
    const onretry = vi.fn();
    const r = show(lazyView(importChunk), { state: 'offline', onretry });
    await tick();
    expect(r.queryByTestId('offline-banner')).toBeNull();
    expect(r.container.textContent?.trim()).toBe('');
    loads[0]!.resolve(banner);
    const shown = await r.findByTestId('offline-banner');
    expect(shown.dataset.state).toBe('offline');
    await fireEvent.click(r.getByTestId('retry-now'));
    expect(onretry).toHaveBeenCalledTimes(1);
    await r.rerender({ state: 'connecting' });
    expect(r.getByTestId('offline-banner').dataset.state).toBe('connecting');
  });

  it('loads its chunk once for every showing, and a second showing renders in the same update', async () => {
    const { importChunk, loads } = controlledChunk();
    const view = lazyView(importChunk);
    const first = show(view, { state: 'offline', onretry: () => {} });
    const second = show(view, { state: 'offline', onretry: () => {} });
    loads[0]!.resolve(banner);
    await first.findAllByTestId('offline-banner');
    expect(second.getAllByTestId('offline-banner').length).toBeGreaterThan(0);
    first.unmount();
    second.unmount();
    const again = show(view, { state: 'offline', onretry: () => {} });
    expect(again.getByTestId('offline-banner')).toBeTruthy();
    expect(importChunk).toHaveBeenCalledTimes(1);
  });

  it('a failed load says so; the next showing loads again', async () => {
    const { importChunk, loads } = controlledChunk();
    const view = lazyView(importChunk);
    const failed = show(view, { state: 'offline', onretry: () => {} });
    loads[0]!.reject(new Error('Failed to fetch dynamically imported module'));
    expect((await failed.findByTestId('lazy-failed')).textContent).toBe('This part of MicroChat could not be loaded. Close the panel and open it again.');
    expect(failed.queryByTestId('offline-banner')).toBeNull();
    failed.unmount();
    const retried = show(view, { state: 'offline', onretry: () => {} });
    expect(importChunk).toHaveBeenCalledTimes(2);
    loads[1]!.resolve(banner);
    expect(await retried.findByTestId('offline-banner')).toBeTruthy();
    expect(retried.queryByTestId('lazy-failed')).toBeNull();
  });
});
