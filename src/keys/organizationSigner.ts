import { recoverMessageAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { Hex } from '../core/hex.js';
import type { DocumentSigner } from '../supply-chain/custody/ports.js';

/** The organisation's chain key as a document signer (EIP-191 `personal_sign` over the raw bytes). */
export function organizationSigner(chainKey: Hex): DocumentSigner {
  const account = privateKeyToAccount(chainKey);
  return {
    address: account.address,
    sign: (bytes) => account.signMessage({ message: { raw: bytes } }),
    async recover(bytes, signature) {
      try {
        return await recoverMessageAddress({ message: { raw: bytes }, signature });
      } catch {
        return null;
      }
    },
  };
}
