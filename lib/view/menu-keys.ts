/**
 * The keys of an open popup menu (MuteMenu, TimerMenu): Escape closes it and
 * gives focus back to its button, Tab closes it and lets focus move on, the
 * arrows move round the items, Home and End go to the first and last.
 */
export function onMenuKey(e: KeyboardEvent, items: HTMLElement[], close: (refocus?: boolean) => void): void {
  const i = items.indexOf(document.activeElement as HTMLElement);
  if (e.key === 'Escape') {
    e.preventDefault();
    e.stopPropagation();
    close();
  } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    e.preventDefault();
    items[(i + (e.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length]?.focus();
  } else if (e.key === 'Home' || e.key === 'End') {
    e.preventDefault();
    items[e.key === 'Home' ? 0 : items.length - 1]?.focus();
  } else if (e.key === 'Tab') {
    close(false);
  }
}

/** Close on a pointer press outside the menu and its button; returns the cleanup for an `$effect`. */
export function closeOnOutsidePress(inside: () => (HTMLElement | undefined)[], close: (refocus?: boolean) => void): () => void {
  const onpointer = (e: PointerEvent): void => {
    if (!inside().some((el) => el?.contains(e.target as Node))) close(false);
  };
  document.addEventListener('pointerdown', onpointer);
  return () => document.removeEventListener('pointerdown', onpointer);
}
