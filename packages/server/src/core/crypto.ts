/** Secrets and ids, with Web Crypto only (works on Node and Workers). */
import type { CredentialHasher } from './ports.ts';

const encoder = new TextEncoder();

export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  crypto.getRandomValues(out);
  return out;
}

export function base64UrlEncode(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function base64Encode(bytes: Uint8Array): string {
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

/** Decodes standard or URL-safe base64; returns null when the input is not base64. */
export function base64Decode(text: string): Uint8Array | null {
  const clean = text.replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) return null;
  try {
    const binary = atob(clean.padEnd(Math.ceil(clean.length / 4) * 4, '='));
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

function hex(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let out = '';
  for (const byte of view) out += byte.toString(16).padStart(2, '0');
  return out;
}

export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === 'string' ? encoder.encode(data) : data;
  return hex(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/** The portable CredentialHasher (Web Crypto); runtimes with a synchronous hash pass their own. */
export const webCryptoHasher: CredentialHasher = { sha256Hex };

/** Compares two strings in time that depends only on their lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = encoder.encode(a);
  const right = encoder.encode(b);
  let diff = left.length ^ right.length;
  const length = Math.max(left.length, right.length);
  for (let i = 0; i < length; i++) diff |= (left[i] ?? 0) ^ (right[i] ?? 0);
  return diff === 0;
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Random bytes for ids, drawn from the CSPRNG 4 KiB at a time: one call per id costs more than the rest of newId. */
const idEntropy = { pool: new Uint8Array(4096), used: 4096 };

function idByte(): number {
  if (idEntropy.used === idEntropy.pool.length) {
    crypto.getRandomValues(idEntropy.pool);
    idEntropy.used = 0;
  }
  return idEntropy.pool[idEntropy.used++]!;
}

/** A public id such as `ses_3kT9…`: a prefix and 20 random alphanumerics (~119 bits). */
export function newId(prefix: string, length = 20): string {
  let out = '';
  while (out.length < length) {
    const byte = idByte();
    // Rejection sampling keeps the distribution uniform over the 62 characters.
    if (byte < 248) out += ID_ALPHABET[byte % 62];
  }
  return `${prefix}_${out}`;
}

/** A bearer secret with its prefix (API key, session token, console cookie): 32 random bytes, base64url. */
export function newSecret(prefix: 'sa_live_' | 'sa_sess_' | 'sa_con_'): string {
  return prefix + base64UrlEncode(randomBytes(32));
}

/** A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return 'whsec_' + base64Encode(randomBytes(32));
}

/**
 * Encrypts small secrets at rest (webhook secrets, idempotent replies) with AES-256-GCM under the
 * server's master key. Output: `v1.<base64 iv>.<base64 ciphertext>`.
 */
export class SecretBox {
  private constructor(private readonly key: CryptoKey) {}

  static async fromKeyBytes(keyBytes: Uint8Array): Promise<SecretBox> {
    if (keyBytes.length !== 32) throw new Error('The master key must be 32 bytes.');
    const key = await crypto.subtle.importKey('raw', keyBytes as Uint8Array<ArrayBuffer>, 'AES-GCM', false, [
      'encrypt',
      'decrypt',
    ]);
    return new SecretBox(key);
  }

  async seal(plaintext: string): Promise<string> {
    const iv = randomBytes(12);
    const cipher = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: iv as Uint8Array<ArrayBuffer> },
      this.key,
      encoder.encode(plaintext),
    );
    return `v1.${base64Encode(iv)}.${base64Encode(new Uint8Array(cipher))}`;
  }

  async open(sealed: string): Promise<string> {
    const [version, ivText, cipherText] = sealed.split('.');
    const iv = ivText ? base64Decode(ivText) : null;
    const cipher = cipherText ? base64Decode(cipherText) : null;
    if (version !== 'v1' || !iv || !cipher) throw new Error('Malformed sealed secret.');
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: iv as Uint8Array<ArrayBuffer> },
      this.key,
      cipher as Uint8Array<ArrayBuffer>,
    );
    return new TextDecoder().decode(plain);
  }
}
