/**
 * Last-resort KeyPackages (draft-ietf-mls-extensions, "Last-Resort
 * KeyPackages"; RFC 9420 §16.8): a KeyPackage marked as one that MAY be used
 * more than once, when every one-time package of its owner has been used.
 *
 * The mark is the `last_resort_key_package` application component (id
 * 0x0004, empty data) in the KeyPackage's `app_data_dictionary` extension
 * (type 0x0006):
 *
 *   struct { ComponentID component_id; opaque data<V>; } ComponentData;
 *   struct { ComponentData component_data<V>; } AppDataDictionary;
 *
 * Entries are sorted by component_id, at most one per id. Since the mark is
 * inside the signed KeyPackage, whoever adds its owner can tell a last-resort
 * package from a one-time one (and a Delivery Service cannot relabel it).
 * Only the dictionary needed here is implemented: no AppDataUpdate proposals.
 */
import { decode, encode, type Codec } from '../codec/codec.ts';
import { DecodeError } from '../errors.ts';
import { findExtension, type Extension } from '../group/extensions.ts';
import type { KeyPackageIn } from './key-package.ts';

/** The draft's suggested extension type of app_data_dictionary. */
export const APP_DATA_DICTIONARY_EXTENSION_TYPE = 0x0006;
/** The draft's component id of last_resort_key_package. */
export const LAST_RESORT_COMPONENT_ID = 0x0004;

export interface ComponentData {
  readonly componentId: number;
  readonly data: Uint8Array;
}

/** AppDataDictionary, strict: entries sorted by component_id and none twice. */
export const appDataDictionaryCodec: Codec<readonly ComponentData[]> = {
  encode(w, v) {
    w.vector(v, (iw, c) => {
      iw.u16(c.componentId);
      iw.opaque(c.data);
    });
  },
  decode(r) {
    const start = r.offset;
    const entries = r.vector((ir) => ({ componentId: ir.u16(), data: ir.opaque() }));
    for (let i = 1; i < entries.length; i++) {
      if (entries[i]!.componentId <= entries[i - 1]!.componentId) {
        throw new DecodeError('bad-value', 'AppDataDictionary: component ids not strictly ascending', start);
      }
    }
    return entries;
  },
};

/** The app_data_dictionary extension holding only the last-resort mark. */
export function lastResortExtension(): Extension {
  return {
    extensionType: APP_DATA_DICTIONARY_EXTENSION_TYPE,
    extensionData: encode(appDataDictionaryCodec, [{ componentId: LAST_RESORT_COMPONENT_ID, data: new Uint8Array(0) }]),
  };
}

/**
 * Whether a KeyPackage carries the last-resort mark. Its dictionary is
 * hostile bytes: a malformed one throws DecodeError; a mark with data is
 * malformed too (the component carries none).
 */
export function isLastResort(kp: Pick<KeyPackageIn, 'extensions'>): boolean {
  const ext = findExtension(kp.extensions, APP_DATA_DICTIONARY_EXTENSION_TYPE);
  if (ext === undefined) return false;
  const mark = decode(appDataDictionaryCodec, ext.extensionData).find((c) => c.componentId === LAST_RESORT_COMPONENT_ID);
  if (mark !== undefined && mark.data.length !== 0) throw new DecodeError('bad-value', 'last_resort_key_package carries data');
  return mark !== undefined;
}
