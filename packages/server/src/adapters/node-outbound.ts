import { lookup } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { UrlNotAllowedError, type OutboundHttp } from '../core/ports.ts';

/** Whether an address is loopback, private, link-local, unspecified, multicast or otherwise not public. */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) {
    const parts = address.split('.').map(Number) as [number, number, number, number];
    const [a, b] = parts;
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) || // carrier-grade NAT
      (a === 169 && b === 254) || // link-local, cloud metadata
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 192 && b === 0 && parts[2] === 0) ||
      (a === 198 && (b === 18 || b === 19)) ||
      a >= 224
    );
  }
  if (family === 6) {
    const lower = address.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    if (mapped?.[1]) return isNonPublicAddress(mapped[1]);
    return (
      lower === '::' ||
      lower === '::1' ||
      lower.startsWith('fe8') ||
      lower.startsWith('fe9') ||
      lower.startsWith('fea') ||
      lower.startsWith('feb') ||
      lower.startsWith('fc') ||
      lower.startsWith('fd') ||
      lower.startsWith('ff') ||
      lower.startsWith('64:ff9b:')
    );
  }
  return true;
}

/**
 * Outbound HTTP for customer-chosen URLs. The address check happens in the socket's DNS lookup, so it
 * holds for every connection (redirect targets included) and cannot be bypassed by DNS rebinding
 * between a check and the request.
 */
export class NodeOutboundHttp implements OutboundHttp {
  private readonly agent: Agent;

  /**
   * @param allowPrivate the operator's SECUREACCESS_ALLOW_PRIVATE_URLS switch.
   * @param isRefusedAddress which addresses count as non-public (tests narrow it to exercise the guard).
   */
  constructor(
    private readonly allowPrivate: boolean,
    private readonly isRefusedAddress: (address: string) => boolean = isNonPublicAddress,
  ) {
    const guardedLookup: LookupFunction = (hostname, options, callback) => {
      lookup(hostname, { ...options, all: true }, (error, addresses) => {
        if (error) return callback(error, '', 0);
        const list = addresses as { address: string; family: number }[];
        const refused = !this.allowPrivate && list.find((a) => this.isRefusedAddress(a.address));
        if (refused) {
          return callback(new UrlNotAllowedError(`${hostname} resolves to a non-public address (${refused.address})`), '', 0);
        }
        if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
        const first = list[0];
        if (!first) return callback(new Error(`${hostname} has no address`), '', 0);
        callback(null, first.address, first.family);
      });
    };
    this.agent = new Agent({ connect: { lookup: guardedLookup }, keepAliveTimeout: 10_000 });
  }

  async assertAllowed(url: string): Promise<void> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UrlNotAllowedError('not a valid URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UrlNotAllowedError('only http and https URLs are allowed');
    if (parsed.username || parsed.password) throw new UrlNotAllowedError('URLs with credentials are not allowed');
    if (this.allowPrivate) return;
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      if (this.isRefusedAddress(host)) throw new UrlNotAllowedError(`${host} is not a public address`);
      return;
    }
    const addresses = await new Promise<{ address: string }[]>((resolve, reject) =>
      lookup(host, { all: true }, (error, list) => (error ? reject(new UrlNotAllowedError(`${host} does not resolve`)) : resolve(list))),
    );
    const refused = addresses.find((a) => this.isRefusedAddress(a.address));
    if (refused) throw new UrlNotAllowedError(`${host} resolves to a non-public address (${refused.address})`);
  }

  async fetch(url: string, init: RequestInit & { timeoutMs: number }): Promise<Response> {
    const { timeoutMs, ...rest } = init;
    await this.assertAllowed(url);
    const response = await undiciFetch(url, {
      ...(rest as Parameters<typeof undiciFetch>[1]),
      redirect: 'manual',
      dispatcher: this.agent,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return response as unknown as Response;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
