/**
 * What is posted to a device's Welcome mailbox: the MLS Welcome, plus the
 * conversation's relay details for that device, sealed so that only a
 * member of the new epoch can read or make them.
 *
 *   struct {
 *     uint8 version = 1;
 *     opaque welcome<V>;   // MLSMessage, wire_format welcome (RFC 9420 §12.4.3.1)
 *     opaque details<V>;   // AEAD(key, nonce, aad = "MicroChat welcome details v1", WelcomeDetails JSON)
 *   } MicroChatWelcome;
 *
 *   key || nonce = MLS-Exporter("microchat welcome details", KeyPackageRef, Nk + Nn)   (§8.5)
 *
 * The exporter is of the epoch the Welcome starts, so the relay (which sees
 * the envelope and stored the KeyPackage) can neither read nor forge the
 * details: the queue id, the conversation's name, and the mailbox the adder
 * made and registered to the queue for the newcomer before its Commit went
 * out, so the newcomer misses nothing between the Commit and its joining.
 * The KeyPackageRef in the context gives each newcomer of one Welcome its
 * own key. Everything here is parsed strictly; any failure is HostileWelcome.
 */
import { decode, encode, type Codec } from '../mls/codec/codec.ts';
import { exportSecret, type GroupState } from '../mls/group.ts';
import { fromB64, toB64 } from '../bytes.ts';
import { HostileWelcome } from './directory-errors.ts';
import type { MailboxCredentials } from './relay-api.ts';

const VERSION = 1;
const EXPORTER_LABEL = 'microchat welcome details';
const AAD = new TextEncoder().encode('MicroChat welcome details v1');
/** A name is at most this long in the details (the view limits names far below). */
const MAX_NAME = 1000;

export interface WelcomeDetails {
  /** base64url of the 32-byte queue id. */
  queue: string;
  name: string;
  mailbox: MailboxCredentials;
}

interface Envelope {
  welcome: Uint8Array;
  details: Uint8Array;
}

const envelopeCodec: Codec<Envelope> = {
  encode(w, v) {
    w.u8(VERSION);
    w.opaque(v.welcome);
    w.opaque(v.details);
  },
  decode(r) {
    const version = r.u8();
    if (version !== VERSION) throw new HostileWelcome(`unknown welcome envelope version ${version}`);
    return { welcome: r.opaque(), details: r.opaque() };
  },
};

function detailsKey(state: GroupState, keyPackageRef: Uint8Array): { key: Uint8Array; nonce: Uint8Array } {
  const aead = state.suite.aead;
  const out = exportSecret(state, EXPORTER_LABEL, keyPackageRef, aead.keySize + aead.nonceSize);
  return { key: out.slice(0, aead.keySize), nonce: out.slice(aead.keySize) };
}

/** The envelope for one newcomer (by the ref of the KeyPackage it was added with), from the new epoch's state. */
export async function sealWelcome(state: GroupState, keyPackageRef: Uint8Array, welcome: Uint8Array, details: WelcomeDetails): Promise<Uint8Array> {
  const { key, nonce } = detailsKey(state, keyPackageRef);
  const plain = new TextEncoder().encode(JSON.stringify({ v: 1, queue: details.queue, name: details.name, mailbox: { mailboxId: details.mailbox.mailboxId, secret: details.mailbox.secret } }));
  const sealed = await state.suite.aead.seal(key, nonce, AAD, plain);
  key.fill(0);
  plain.fill(0);
  return encode(envelopeCodec, { welcome, details: sealed });
}

/** The Welcome's bytes, before anything is opened. */
export function parseEnvelope(payload: Uint8Array): Envelope {
  try {
    return decode(envelopeCodec, payload);
  } catch (err) {
    if (err instanceof HostileWelcome) throw err;
    throw new HostileWelcome('malformed welcome envelope', { cause: err });
  }
}

/** The details, opened with the state the Welcome gave us; HostileWelcome unless they open and parse exactly. */
export async function openDetails(state: GroupState, keyPackageRef: Uint8Array, sealed: Uint8Array): Promise<WelcomeDetails> {
  const { key, nonce } = detailsKey(state, keyPackageRef);
  const plain = await state.suite.aead.open(key, nonce, AAD, sealed);
  key.fill(0);
  if (plain === null) throw new HostileWelcome('the welcome details do not open');
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plain));
  } catch (err) {
    throw new HostileWelcome('the welcome details are not JSON', { cause: err });
  } finally {
    plain.fill(0);
  }
  return checkDetails(v);
}

const RELAY_ID = /^[A-Za-z0-9_-]{21}[AQgw]$/;

function checkDetails(v: unknown): WelcomeDetails {
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (!isObj(v) || v.v !== 1 || Object.keys(v).length !== 4) throw new HostileWelcome('welcome details of the wrong shape');
  const { queue, name, mailbox } = v;
  if (typeof queue !== 'string' || fromB64(queue)?.length !== 32 || toB64(fromB64(queue)!) !== queue) throw new HostileWelcome('bad queue id');
  if (typeof name !== 'string' || name.length > MAX_NAME) throw new HostileWelcome('bad conversation name');
  if (!isObj(mailbox) || Object.keys(mailbox).length !== 2) throw new HostileWelcome('bad mailbox');
  const { mailboxId, secret } = mailbox;
  if (typeof mailboxId !== 'string' || !RELAY_ID.test(mailboxId)) throw new HostileWelcome('bad mailbox id');
  if (typeof secret !== 'string' || fromB64(secret)?.length !== 32 || toB64(fromB64(secret)!) !== secret) throw new HostileWelcome('bad mailbox secret');
  return { queue, name, mailbox: { mailboxId, secret } };
}
