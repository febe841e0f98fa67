import type { Http2Bindings, HttpBindings } from '@hono/node-server';
import type { Readable } from 'node:stream';
import type { AppEnv } from '../core/http.ts';

/**
 * The Hono env for one request on @hono/node-server: its own bindings plus a body reader that takes
 * the bytes straight from the IncomingMessage, instead of the Request + AbortSignal + web stream the
 * server builds when the body is read through `c.req`.
 */
export function nodeRequestEnv(env: HttpBindings | Http2Bindings): (HttpBindings | Http2Bindings) & AppEnv['Bindings'] {
  return { ...env, readBody: () => readIncoming(env.incoming) };
}

/** Reads a request body to its end (Node's HTTP parser stops at the Content-Length). */
function readIncoming(incoming: Readable): Promise<Uint8Array> {
  if (incoming.readableEnded || incoming.readableDidRead) {
    return Promise.reject(new Error('The request body was already read.'));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => chunks.push(chunk);
    const onEnd = () => {
      stop();
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      // A plain Uint8Array view: the core takes Web types, not Buffer.
      resolve(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    const onClose = () => onError(new Error('The client closed the request before its body was complete.'));
    const stop = () => {
      incoming.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    };
    incoming.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}
