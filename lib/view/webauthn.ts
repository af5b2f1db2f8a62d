/**
 * Passkey ceremonies run in the view (WebAuthn needs a page, not the worker).
 * The background's options are JSON; the PRF extension (the passkey lock)
 * carries byte strings, which JSON writes as base64url and the browser wants
 * as buffers, and whose results come back as ArrayBuffers that must be
 * base64url again before they cross the channel. These helpers do both
 * conversions and turn ceremony failures into sentences a person can act on.
 */
import {
  WebAuthnError,
  base64URLStringToBuffer,
  bufferToBase64URLString,
  startAuthentication,
  startRegistration,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/browser';
import { ChannelError, ErrorCode } from '../protocol/channel.ts';
import { t } from '../platform/i18n.ts';

export type Register = (args: { optionsJSON: PublicKeyCredentialCreationOptionsJSON }) => Promise<RegistrationResponseJSON>;
export type Authenticate = (args: { optionsJSON: PublicKeyCredentialRequestOptionsJSON }) => Promise<AuthenticationResponseJSON>;

export const defaultRegister: Register = (args) => startRegistration(args);
export const defaultAuthenticate: Authenticate = (args) => startAuthentication(args);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toBuffer(v: unknown): unknown {
  return typeof v === 'string' ? base64URLStringToBuffer(v) : v;
}

function prfValues(v: unknown): unknown {
  if (!isRecord(v)) return v;
  const out: Record<string, unknown> = { ...v, first: toBuffer(v.first) };
  if (v.second !== undefined) out.second = toBuffer(v.second);
  return out;
}

/** Decode the PRF salts (base64url in JSON) into the buffers WebAuthn expects; other fields pass as they are. */
export function withPrfBuffers<T>(options: T): T {
  if (!isRecord(options) || !isRecord(options.extensions) || !isRecord(options.extensions.prf)) return options;
  const prf = options.extensions.prf;
  const next: Record<string, unknown> = { ...prf };
  if (prf.eval !== undefined) next.eval = prfValues(prf.eval);
  if (isRecord(prf.evalByCredential)) {
    next.evalByCredential = Object.fromEntries(Object.entries(prf.evalByCredential).map(([k, v]) => [k, prfValues(v)]));
  }
  return { ...options, extensions: { ...options.extensions, prf: next } } as T;
}

/** Make client extension results JSON-safe: every buffer becomes base64url. */
export function jsonSafe(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return bufferToBase64URLString(value);
  if (ArrayBuffer.isView(value)) {
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return bufferToBase64URLString(bytes.slice().buffer);
  }
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  return value;
}

/**
 * Create the passkey. When the options ask for PRF (the lock) and the
 * authenticator supports it but did not evaluate it at creation (Firefox
 * only reports `prf.enabled` then), ask the new passkey once more, locally,
 * for the PRF output and add it to the response as if creation had returned
 * it. That assertion's challenge is ours and goes nowhere: it only evaluates
 * the PRF, exactly like an offline unlock.
 */
export async function registerPasskey(
  options: unknown,
  register: Register = defaultRegister,
  authenticate: Authenticate = defaultAuthenticate,
): Promise<Record<string, unknown>> {
  const optionsJSON = withPrfBuffers(options) as PublicKeyCredentialCreationOptionsJSON;
  const response = jsonSafe(await register({ optionsJSON })) as Record<string, unknown>;
  const salt = isRecord(options) && isRecord(options.extensions) && isRecord(options.extensions.prf) && isRecord(options.extensions.prf.eval)
    ? options.extensions.prf.eval.first
    : undefined;
  const results = isRecord(response.clientExtensionResults) ? response.clientExtensionResults : {};
  const prf = isRecord(results.prf) ? results.prf : undefined;
  if (typeof salt !== 'string' || prf?.enabled !== true || isRecord(prf.results) || typeof response.id !== 'string') return response;

  const rp = isRecord(options) && isRecord(options.rp) ? options.rp : {};
  const challenge = new Uint8Array(32);
  crypto.getRandomValues(challenge);
  const assertion = await authenticatePasskey(
    {
      challenge: bufferToBase64URLString(challenge.buffer),
      ...(typeof rp.id === 'string' ? { rpId: rp.id } : {}),
      allowCredentials: [{ id: response.id, type: 'public-key' }],
      userVerification: 'required',
      extensions: { prf: { eval: { first: salt } } },
    },
    authenticate,
  );
  const evaluated = isRecord(assertion.clientExtensionResults) && isRecord(assertion.clientExtensionResults.prf)
    ? assertion.clientExtensionResults.prf.results
    : undefined;
  if (!isRecord(evaluated)) return response;
  return { ...response, clientExtensionResults: { ...results, prf: { ...prf, results: evaluated } } };
}

export async function authenticatePasskey(options: unknown, authenticate: Authenticate = defaultAuthenticate): Promise<Record<string, unknown>> {
  const optionsJSON = withPrfBuffers(options) as PublicKeyCredentialRequestOptionsJSON;
  const response = await authenticate({ optionsJSON });
  return jsonSafe(response) as Record<string, unknown>;
}

/** Whether a (JSON-safe) ceremony response carries a PRF output: without one the passkey cannot key the lock. */
export function hasPrfOutput(response: unknown): boolean {
  if (!isRecord(response) || !isRecord(response.clientExtensionResults)) return false;
  const prf = response.clientExtensionResults.prf;
  return isRecord(prf) && isRecord(prf.results) && typeof prf.results.first === 'string' && prf.results.first !== '';
}

function errorName(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  if (err instanceof WebAuthnError && err.cause instanceof Error) return err.cause.name;
  return err.name;
}

/**
 * A sentence for a failed passkey step. `relayHost` names the relay when the
 * failure came from it, so the person knows where to look.
 */
export function passkeyErrorMessage(err: unknown, action: 'create' | 'unlock', relayHost?: string): string {
  if (err instanceof ChannelError) {
    // Unless the message already names the relay (in English, or in the language it is in).
    if (err.code === ErrorCode.Unavailable && relayHost && !/relay/i.test(err.message) && !err.message.includes(t('settings_relay'))) {
      return t('passkey_check_relay', err.message, relayHost);
    }
    return err.message;
  }
  const code = err instanceof WebAuthnError ? err.code : undefined;
  const name = errorName(err);
  if (code === 'ERROR_CEREMONY_ABORTED' || name === 'NotAllowedError' || name === 'AbortError') {
    return action === 'create' ? t('passkey_cancelled_create') : t('passkey_cancelled_unlock');
  }
  if (code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED' || name === 'InvalidStateError') {
    return t('passkey_already_registered');
  }
  if (err instanceof Error && /not supported/i.test(err.message)) {
    return t('passkey_unsupported');
  }
  if (err instanceof TypeError) {
    return relayHost ? t('passkey_relay_unreachable_host', relayHost) : t('passkey_relay_unreachable');
  }
  const reason = err instanceof Error ? err.message : '';
  if (action === 'create') return reason ? t('passkey_create_failed_because', reason) : t('passkey_create_failed');
  return reason ? t('passkey_unlock_failed_because', reason) : t('passkey_unlock_failed');
}
