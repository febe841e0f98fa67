import { createHash } from 'node:crypto';
import type { CredentialHasher } from '../core/ports.ts';

/** SHA-256 on the calling thread: no thread-pool round trip on each authenticated request. */
export const nodeHasher: CredentialHasher = {
  sha256Hex: (text) => createHash('sha256').update(text, 'utf8').digest('hex'),
};
