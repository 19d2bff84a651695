import { encodeAbiParameters, keccak256, stringToHex, type Hex } from 'viem';
import { InvalidInputError } from '../core/errors.js';

/**
 * The identifiers of the `SupplyChainRegistry`, computed off chain exactly as the contract does (its `packIdOf`,
 * `lotIdOf` and `packLeaf` views give the same values; the contract tests compare them):
 *
 * - a GTIN is the `bytes14` of its 14 ASCII digits (GS1 AI (01); GTIN-8/12/13 left-padded with `0`), check digit
 *   verified;
 * - `lotHash = keccak256(bytes(lot))` (what `commissionLot` takes: the lot number never goes on chain) and
 *   `lotId = keccak256(abi.encode(LOT_ID_DOMAIN, bytes14 gtin, lotHash))` (what the contract derives from them);
 * - `packId = keccak256(abi.encode(PACK_ID_DOMAIN, bytes14 gtin, string serial))`, with lot and serial the exact
 *   characters of GS1 AI (10) and AI (21): 1 to 20 characters of GS1 character set 82, case-sensitive;
 * - the Merkle leaf of a pack is `keccak256(bytes.concat(keccak256(abi.encode(packId))))` and a lot's tree is
 *   OpenZeppelin's `StandardMerkleTree` with leaf encoding `["bytes32"]` (leaves sorted by hash, inner nodes the
 *   keccak256 of the sorted pair), so its proofs verify with OpenZeppelin's `MerkleProof`.
 */

/** `keccak256("CareLedger.SupplyChain.packId.v1")`, the contract's `PACK_ID_DOMAIN`. */
export const PACK_ID_DOMAIN: Hex = keccak256(stringToHex('CareLedger.SupplyChain.packId.v1'));
/** `keccak256("CareLedger.SupplyChain.lotId.v1")`, the contract's `LOT_ID_DOMAIN`. */
export const LOT_ID_DOMAIN: Hex = keccak256(stringToHex('CareLedger.SupplyChain.lotId.v1'));

/** GS1 character set 82: what serial and lot numbers may contain. */
const GS1_CSET82 = /^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$/;

/** The GS1 check digit of the first 13 digits of a GTIN-14 (weights 3, 1, 3, … from the left). */
function gtinCheckDigit(first13: string): number {
  let sum = 0;
  for (let i = 0; i < 13; i++) sum += Number(first13[i]) * (i % 2 === 0 ? 3 : 1);
  return (10 - (sum % 10)) % 10;
}

/** True if `gtin` is 14 digits ending with a valid GS1 check digit. */
export function isValidGtin(gtin: string): boolean {
  return /^[0-9]{14}$/.test(gtin) && gtinCheckDigit(gtin.slice(0, 13)) === Number(gtin[13]);
}

/**
 * The `bytes14` of a GTIN-14 (`"00312345678906"` → `0x3030…36`). Shorter GTINs (8, 12 or 13 digits) are
 * left-padded with zeros first. Throws `SUPPLY.INVALID_GTIN` (400) for anything else or a wrong check digit.
 */
export function gtinToBytes14(gtin: string): Hex {
  const digits = /^[0-9]{8}$|^[0-9]{12,14}$/.test(gtin) ? gtin.padStart(14, '0') : gtin;
  if (!isValidGtin(digits)) {
    throw new InvalidInputError(
      'SUPPLY.INVALID_GTIN',
      `${JSON.stringify(gtin)} is not a valid GTIN: give the 8, 12, 13 or 14 digits printed after (01), ` +
        `including the check digit.`,
      { details: { gtin } },
    );
  }
  return stringToHex(digits);
}

/** The 14 digits of a `bytes14` GTIN as the contract returns it (the inverse of {@link gtinToBytes14}). */
export function gtinFromBytes14(gtin: Hex): string {
  return Buffer.from(gtin.slice(2), 'hex').toString('latin1');
}

function gs1Text(value: string, what: 'serial' | 'lot'): string {
  if (!GS1_CSET82.test(value)) {
    const ai = what === 'serial' ? '(21)' : '(10)';
    throw new InvalidInputError(
      what === 'serial' ? 'SUPPLY.INVALID_SERIAL' : 'SUPPLY.INVALID_LOT_NUMBER',
      `${JSON.stringify(value)} is not a valid GS1 ${what} number: give the 1 to 20 characters printed after ` +
        `${ai} exactly (letters, digits and !"%&'()*+,-./:;<=>?_ only).`,
      { details: { [what]: value } },
    );
  }
  return value;
}

const PACK_ID_PARAMETERS = [{ type: 'bytes32' }, { type: 'bytes14' }, { type: 'string' }] as const;
const LOT_ID_PARAMETERS = [{ type: 'bytes32' }, { type: 'bytes14' }, { type: 'bytes32' }] as const;

/** The pack id of serial `serial` of product `gtin` (see the module comment). */
export function packIdOf(gtin: string, serial: string): Hex {
  return keccak256(
    encodeAbiParameters(PACK_ID_PARAMETERS, [PACK_ID_DOMAIN, gtinToBytes14(gtin), gs1Text(serial, 'serial')]),
  );
}

/** `keccak256(bytes(lot))`: how `commissionLot` is told the lot number without it going on chain. */
export function lotHashOf(lot: string): Hex {
  return keccak256(stringToHex(gs1Text(lot, 'lot')));
}

/** The lot id of lot number `lot` of product `gtin` (see the module comment). */
export function lotIdOf(gtin: string, lot: string): Hex {
  return keccak256(
    encodeAbiParameters(LOT_ID_PARAMETERS, [LOT_ID_DOMAIN, gtinToBytes14(gtin), lotHashOf(lot)]),
  );
}

function leafBytes(packId: Hex): Uint8Array {
  return keccak256(keccak256(packId, 'bytes'), 'bytes');
}

/** The Merkle leaf of `packId`: `keccak256(bytes.concat(keccak256(abi.encode(packId))))`. */
export function packLeaf(packId: Hex): Hex {
  return keccak256(keccak256(packId, 'bytes'));
}

function hashPair(a: Uint8Array, b: Uint8Array): Uint8Array {
  const pair = new Uint8Array(64);
  const [low, high] = Buffer.compare(a, b) <= 0 ? [a, b] : [b, a];
  pair.set(low, 0);
  pair.set(high, 32);
  return keccak256(pair, 'bytes');
}

const toHexString = (bytes: Uint8Array): Hex => `0x${Buffer.from(bytes).toString('hex')}`;

/**
 * The nodes of OpenZeppelin's `StandardMerkleTree` over already hashed leaves, as its `tree` array: leaves
 * sorted by hash and placed from the end of the array backwards, node `i` the sorted-pair hash of nodes `2i + 1`
 * and `2i + 2`, the root at 0. Returns the nodes and the array position of each given leaf (in input order).
 */
export function standardMerkleNodes(leafHashes: readonly Uint8Array[]): {
  nodes: Uint8Array[];
  positions: number[];
} {
  if (leafHashes.length === 0) throw new RangeError('a Merkle tree needs at least one leaf');
  const order = leafHashes.map((hash, index) => ({ hash, index }));
  order.sort((a, b) => Buffer.compare(a.hash, b.hash));
  const nodes = new Array<Uint8Array>(2 * order.length - 1);
  const positions = new Array<number>(order.length);
  for (const [i, leaf] of order.entries()) {
    const at = nodes.length - 1 - i;
    nodes[at] = leaf.hash;
    positions[leaf.index] = at;
  }
  for (let i = nodes.length - 1 - order.length; i >= 0; i--) {
    nodes[i] = hashPair(nodes[2 * i + 1] as Uint8Array, nodes[2 * i + 2] as Uint8Array);
  }
  return { nodes, positions };
}

/**
 * The Merkle tree of a lot's pack ids, laid out as OpenZeppelin's `StandardMerkleTree.of(ids.map((id) => [id]),
 * ['bytes32'])`: its `root` is the lot's `serialsRoot`, `proof(packId)` what `transferPacks` and friends take
 * for a pack's first move.
 */
export class LotTree {
  /** The root to commission the lot with. */
  readonly root: Hex;
  /** Number of packs (leaves). */
  readonly size: number;
  private readonly nodes: Uint8Array[];
  /** Tree position of each pack id (lower-case). */
  private readonly positions = new Map<string, number>();

  constructor(packIds: readonly Hex[]) {
    if (packIds.length === 0) {
      throw new InvalidInputError('SUPPLY.EMPTY_LOT', 'A lot needs at least one pack.');
    }
    const { nodes, positions } = standardMerkleNodes(packIds.map(leafBytes));
    for (const [i, id] of packIds.entries()) {
      const key = id.toLowerCase();
      if (this.positions.has(key)) {
        throw new InvalidInputError(
          'SUPPLY.DUPLICATE_PACK',
          `The pack id ${key} is listed twice in the lot.`,
          {
            details: { packId: key },
          },
        );
      }
      this.positions.set(key, positions[i] as number);
    }
    this.nodes = nodes;
    this.size = packIds.length;
    this.root = toHexString(nodes[0] as Uint8Array);
  }

  /** True if `packId` is one of the lot's packs. */
  has(packId: Hex): boolean {
    return this.positions.has(packId.toLowerCase());
  }

  /** The Merkle proof of `packId` (sibling hashes from the leaf up). Throws `SUPPLY.PACK_NOT_IN_TREE` if absent. */
  proof(packId: Hex): Hex[] {
    let i = this.positions.get(packId.toLowerCase());
    if (i === undefined) {
      throw new InvalidInputError(
        'SUPPLY.PACK_NOT_IN_TREE',
        `The pack id ${packId} is not in this lot's tree.`,
        {
          details: { packId },
        },
      );
    }
    const proof: Hex[] = [];
    while (i > 0) {
      proof.push(toHexString(this.nodes[i % 2 === 1 ? i + 1 : i - 1] as Uint8Array));
      i = Math.floor((i - 1) / 2);
    }
    return proof;
  }
}
