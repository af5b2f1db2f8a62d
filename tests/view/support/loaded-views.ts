/**
 * Imported by a component test that drives the lazy dialogs and screens
 * (components/lazy-views.ts) as a person does after their first showing: with
 * every chunk already loaded, so they render in the same update as in the
 * built panel once loaded, and a test's first click does not wait for Vite to
 * compile a dialog on a busy machine. How a view shows on its first, loading
 * showing is tests/view/lazy-view.test.ts.
 */
import * as lazy from '@/components/lazy-views.ts';

await Promise.all(Object.values(lazy).map((view) => view.load()));
