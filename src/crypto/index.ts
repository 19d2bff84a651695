/**
 * Envelope encryption with crypto-shredding: health data sealed under per-patient data keys, data keys wrapped by
 * a key derived from the organisation master key, and HMAC tokens for searching without clear-text values.
 */
export {
  deriveKeyEncryptionKey,
  deriveSearchIndexKey,
  KEY_WRAPPING_INFO,
  SEARCH_INDEX_INFO,
} from './keyEncryptionKey.js';
export {
  DATA_KEY_LENGTH,
  generateDataKey,
  unwrapDataKey,
  WRAPPED_DATA_KEY_LENGTH,
  wrapDataKey,
} from './dataKeys.js';
export { decryptPayload, encryptPayload } from './payloadCipher.js';
export { HMAC_TOKEN_LENGTH, hmacToken } from './hmacToken.js';
export {
  CryptoErrorCode,
  DataKeyUnwrapError,
  PayloadDecryptError,
  type SealedDataFailure,
} from './errors.js';
