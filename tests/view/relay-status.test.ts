import { describe, expect, it, vi } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import RelayStatus from '@/components/RelayStatus.svelte';

describe('RelayStatus', () => {
  it('shows the reason when the relay is unreachable', () => {
    render(RelayStatus, { relay: { url: 'https://relay.example.org', state: 'unreachable', detail: 'The relay could not be reached.' } });
    expect(screen.getByText('Relay Unreachable')).toBeTruthy();
    expect(screen.getByText('The relay could not be reached.')).toBeTruthy();
    expect(screen.getByText('relay.example.org')).toBeTruthy();
  });

  it('disables re-checking while a check runs, and forwards the intent otherwise', async () => {
    const onrecheck = vi.fn();
    const { rerender } = render(RelayStatus, { relay: { url: 'https://r.example', state: 'checking' }, onrecheck });
    const button = screen.getByRole('button', { name: 'Check again' }) as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    await rerender({ relay: { url: 'https://r.example', state: 'reachable' }, onrecheck });
    button.click();
    expect(onrecheck).toHaveBeenCalledOnce();
  });
});
