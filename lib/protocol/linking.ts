/**
 * What the views see of linking a device (lib/background/linking/): the
 * link's step on either device, and the devices being added to the
 * conversations. Part of the view channel (channel.ts re-exports it).
 */

/**
 * Linking, step by step. The new device: `code` (show it and its QR) →
 * `confirm` (show the digits) → `handover` → `done`. The existing device:
 * `confirm` (compare the digits, then link.confirm) → `handover` → `done`.
 * `failed` carries the sentence to show.
 */
export interface LinkingView {
  role: 'new' | 'existing';
  step: 'code' | 'confirm' | 'handover' | 'done' | 'failed';
  /** The new device's code, as typed ("ABCD-EFGH-JKMNP"). */
  code?: string;
  /** Unix seconds: the code works until then. */
  expiresAt?: number;
  /** Six digits both devices show ("123 456"). */
  confirmation?: string;
  /** During the handover: the history pages so far. */
  progress?: { done: number; total: number; text: string };
  error?: string;
}

export interface AddingDeviceView {
  deviceName: string;
  done: number;
  total: number;
  failed: number;
  text: string;
}

/** The view state of linking (AppState extends it). */
export interface LinkingState {
  /** Linking a device, on either side; absent when no link is under way. */
  linking?: LinkingView;
  /** This device adding a linked device to its conversations: "Adding Firefox on Linux to 12 of 40 conversations…". */
  addingDevices?: AddingDeviceView[];
}

/** The link requests (RequestMap extends them). */
export interface LinkRequests {
  /** The new device: open a link slot and show its code (then AppState.linking follows the link). */
  'link.start': { params: null; result: { code: string; expiresAt: number } };
  /** A linked device: the code the new device shows; answers the digits to compare. */
  'link.enter': { params: { code: string; sendHistory: boolean }; result: { confirmation: string } };
  /** A linked device: the person compared the digits (`match` false stops the link, nothing shared). */
  'link.confirm': { params: { match: boolean }; result: null };
  /** Either device: stop the link under way. */
  'link.cancel': { params: null; result: null };
}

type Params = Record<string, unknown>;

/** The strict readers of channel.ts, passed in (this file cannot import channel.ts, which imports it). */
export interface ChannelReaders {
  keys(p: Params, allowed: readonly string[]): void;
  str(p: Params, k: string, max: number): string;
  bool(p: Params, k: string): boolean;
}

/** The validators of the link requests, for channel.ts's VALIDATORS. */
export function linkValidators(r: ChannelReaders) {
  return {
    'link.start': null,
    'link.enter': (p: Params): LinkRequests['link.enter']['params'] => (r.keys(p, ['code', 'sendHistory']), { code: r.str(p, 'code', 64), sendHistory: r.bool(p, 'sendHistory') }),
    'link.confirm': (p: Params): LinkRequests['link.confirm']['params'] => (r.keys(p, ['match']), { match: r.bool(p, 'match') }),
    'link.cancel': null,
  } as const;
}
