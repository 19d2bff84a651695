import { encodeAbiParameters, keccak256, type Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import { CareLedgerError } from '../core/errors.js';
import {
  gtinFromBytes14,
  gtinToBytes14,
  isValidGtin,
  LOT_ID_DOMAIN,
  LotTree,
  lotHashOf,
  lotIdOf,
  PACK_ID_DOMAIN,
  packIdOf,
  packLeaf,
  standardMerkleNodes,
} from './supplyChainIds.js';

const hex = (bytes: Uint8Array): Hex => `0x${Buffer.from(bytes).toString('hex')}`;

/** Sorted-pair keccak, as OpenZeppelin's `MerkleProof` folds a proof. */
function fold(leaf: Hex, proof: readonly Hex[]): Hex {
  let node = leaf;
  for (const sibling of proof) {
    const [a, b] = BigInt(node) <= BigInt(sibling) ? [node, sibling] : [sibling, node];
    node = keccak256(`0x${a.slice(2)}${b.slice(2)}`);
  }
  return node;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CareLedgerError);
    return (error as CareLedgerError).code;
  }
  throw new Error('expected a CareLedgerError');
}

describe('GTINs', () => {
  it('checks the GS1 check digit and pads GTIN-8/12/13 to 14 digits', () => {
    expect(isValidGtin('00312345678906')).toBe(true);
    expect(isValidGtin('00312345678907')).toBe(false);
    expect(isValidGtin('0031234567890')).toBe(false);
    expect(gtinToBytes14('00312345678906')).toBe('0x3030333132333435363738393036');
    expect(gtinToBytes14('312345678906')).toBe(gtinToBytes14('00312345678906')); // GTIN-12 (UPC-A)
    expect(gtinFromBytes14(gtinToBytes14('4006381333931'))).toBe('04006381333931'); // GTIN-13 (EAN-13)
    expect(codeOf(() => gtinToBytes14('00312345678907'))).toBe('SUPPLY.INVALID_GTIN');
    expect(codeOf(() => gtinToBytes14('0031234567890x'))).toBe('SUPPLY.INVALID_GTIN');
  });
});

describe('ids', () => {
  it('hashes (domain, bytes14 gtin, serial or keccak256(lot)) ABI-encoded, with distinct domains', () => {
    const gtin = '00312345678906';
    const encoded = (domain: Hex, value: string | Hex, type: 'string' | 'bytes32') =>
      keccak256(
        encodeAbiParameters(
          [{ type: 'bytes32' }, { type: 'bytes14' }, { type }],
          [domain, gtinToBytes14(gtin), value],
        ),
      );
    expect(PACK_ID_DOMAIN).toBe(keccak256(new TextEncoder().encode('CareLedger.SupplyChain.packId.v1')));
    expect(LOT_ID_DOMAIN).toBe(keccak256(new TextEncoder().encode('CareLedger.SupplyChain.lotId.v1')));
    expect(packIdOf(gtin, 'SN0001')).toBe(encoded(PACK_ID_DOMAIN, 'SN0001', 'string'));
    expect(lotHashOf('SN0001')).toBe(keccak256(new TextEncoder().encode('SN0001')));
    expect(lotIdOf(gtin, 'SN0001')).toBe(encoded(LOT_ID_DOMAIN, lotHashOf('SN0001'), 'bytes32'));
    expect(packIdOf(gtin, 'SN0001')).not.toBe(lotIdOf(gtin, 'SN0001'));
    expect(packIdOf(gtin, 'sn0001')).not.toBe(packIdOf(gtin, 'SN0001')); // case-sensitive, as printed
  });

  it('accepts 1 to 20 characters of GS1 character set 82 only', () => {
    const gtin = '00312345678906';
    expect(() => packIdOf(gtin, `A-Z_a.z/0:9%&'()*+,;<=>?!"`.slice(0, 20))).not.toThrow();
    for (const bad of ['', 'x'.repeat(21), 'SN 1', 'SN#1', 'é']) {
      expect(
        codeOf(() => packIdOf(gtin, bad)),
        bad,
      ).toBe('SUPPLY.INVALID_SERIAL');
      expect(
        codeOf(() => lotIdOf(gtin, bad)),
        bad,
      ).toBe('SUPPLY.INVALID_LOT_NUMBER');
    }
  });
});

describe('LotTree', () => {
  it("lays the tree out as OpenZeppelin's StandardMerkleTree (golden root of its own test suite)", () => {
    // StandardMerkleTree.of('abcdef'.split('').map((c) => [c]), ['string']).root, from OpenZeppelin/merkle-tree.
    const leaves = 'abcdef'
      .split('')
      .map((c) => keccak256(keccak256(encodeAbiParameters([{ type: 'string' }], [c]), 'bytes'), 'bytes'));
    const { nodes } = standardMerkleNodes(leaves);
    expect(hex(nodes[0] as Uint8Array)).toBe(
      '0x6deb52b5da8fd108f79fab00341f38d2587896634c646ee52e49f845680a70c8',
    );
    expect(hex(nodes[2] as Uint8Array)).toBe(
      '0xfd3cf45654e88d1cc5d663578c82c76f4b5e3826bacaa1216441443504538f51',
    );
  });

  it('proves every pack of lots of any size, and nothing else', () => {
    for (const size of [1, 2, 3, 5, 8, 13, 100]) {
      const ids = Array.from({ length: size }, (_, i) => packIdOf('00312345678906', `S${size}-${i}`));
      const tree = new LotTree(ids);
      expect(tree.size).toBe(size);
      for (const id of ids) {
        expect(tree.has(id)).toBe(true);
        expect(fold(packLeaf(id), tree.proof(id)), `${size}`).toBe(tree.root);
        expect(tree.proof(id).length).toBeLessThanOrEqual(Math.ceil(Math.log2(size)));
      }
      const stranger = packIdOf('00312345678906', 'STRANGER');
      expect(tree.has(stranger)).toBe(false);
      expect(codeOf(() => tree.proof(stranger))).toBe('SUPPLY.PACK_NOT_IN_TREE');
    }
    expect(new LotTree([packIdOf('00312345678906', 'ONE')]).proof(packIdOf('00312345678906', 'ONE'))).toEqual(
      [],
    );
  });

  it('refuses an empty lot and a pack listed twice', () => {
    const id = packIdOf('00312345678906', 'DUP');
    expect(codeOf(() => new LotTree([]))).toBe('SUPPLY.EMPTY_LOT');
    expect(codeOf(() => new LotTree([id, id.toUpperCase().replace('0X', '0x') as Hex]))).toBe(
      'SUPPLY.DUPLICATE_PACK',
    );
  });
});
