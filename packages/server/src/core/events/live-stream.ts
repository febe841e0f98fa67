import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { AppDeps } from '../deps.ts';
import type { AppEnv } from '../http.ts';
import { lastMessageId, listMessages, messageSeq } from '../messages/service.ts';
import type { SessionEvent } from '../ports.ts';

/** Events buffered for a client that does not read; past this the stream is closed (it reconnects and catches up). */
const MAX_PENDING_EVENTS = 1000;
/** Messages replayed after a `Last-Event-ID`; older gaps are for GET …/messages. */
const MAX_REPLAYED_MESSAGES = 500;
/** `id:` of the events: the last message delivered (or `0`), then `.n` on events that are not messages. */
const EVENT_ID = /^(0|msg_[A-Za-z0-9]{8,40})(?:\.\d+)?$/;

export interface LiveStreamSource {
  sessionId: string;
  integrationId: string;
  /** The session's current state for the `snapshot` event; throwing refuses the connection. */
  snapshot(): Promise<unknown>;
  /** Checked at every heartbeat; false closes the stream (token expired, data erased, key rotated). */
  stillAllowed(): Promise<boolean>;
}

/** Bus events waiting to be written, in arrival order. */
class PendingEvents {
  private readonly items: SessionEvent[] = [];
  private wake: (() => void) | null = null;
  overflowed = false;

  push(event: SessionEvent): void {
    if (this.items.length >= MAX_PENDING_EVENTS) this.overflowed = true;
    else this.items.push(event);
    this.interrupt();
  }

  take(): SessionEvent | undefined {
    return this.items.shift();
  }

  /** Resolves after `ms`, or sooner on a new event or `interrupt()`. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }

  interrupt(): void {
    this.wake?.();
  }
}

/**
 * Opens a `text/event-stream` of one session's live events: `snapshot` first, then the messages
 * missed since `Last-Event-ID` (when it names a message of this session), then every `status`,
 * `score`, `violation`, `message` and `document` published on the bus, with a comment heartbeat.
 *
 * The bus subscription is taken before the snapshot is read, so no change falls between the two; it
 * is dropped when the client goes away (request signal or stream cancel), the stream overflows, or
 * `stillAllowed` turns false.
 */
export async function openLiveStream(c: Context<AppEnv>, deps: AppDeps, source: LiveStreamSource): Promise<Response> {
  const pending = new PendingEvents();
  const unsubscribe = deps.bus.subscribe(source.sessionId, (event) => {
    if (event.integrationId === source.integrationId) pending.push(event);
  });

  let snapshot: unknown;
  let cursor: string | null;
  let replay: Awaited<ReturnType<typeof listMessages>> = [];
  try {
    snapshot = await source.snapshot();
    const latest = await lastMessageId(deps, source.sessionId);
    const resumeFrom = await resumePoint(deps, source.sessionId, c.req.header('last-event-id'));
    if (resumeFrom === undefined) {
      cursor = latest;
    } else {
      cursor = resumeFrom.id;
      replay = await listMessages(deps, source.sessionId, resumeFrom.seq, MAX_REPLAYED_MESSAGES);
    }
    snapshot = { session: snapshot, lastMessageId: latest };
  } catch (error) {
    unsubscribe();
    throw error;
  }

  // Proxies such as nginx would otherwise hold events back in their buffer.
  c.header('X-Accel-Buffering', 'no');
  return streamSSE(c, async (stream) => {
    const signal = c.req.raw.signal;
    const onClientGone = () => stream.abort();
    let open = true;
    stream.onAbort(() => {
      open = false;
      pending.interrupt();
    });
    signal.addEventListener('abort', onClientGone, { once: true });
    if (signal.aborted) stream.abort();

    let counter = 0;
    const delivered = new Set<string>();
    const writeEvent = async (event: string, data: unknown, messageId?: string) => {
      if (messageId) cursor = messageId;
      const id = messageId ?? `${cursor ?? '0'}.${counter++}`;
      await stream.writeSSE({ id, event, data: JSON.stringify(data) });
    };

    try {
      await writeEvent('snapshot', snapshot);
      for (const message of replay) {
        delivered.add(message.id);
        await writeEvent('message', message, message.id);
      }
      let nextBeat = Date.now() + deps.config.sseHeartbeatMs;
      while (open && !pending.overflowed) {
        const event = pending.take();
        if (event) {
          await writeBusEvent(event, writeEvent, delivered);
          continue;
        }
        const untilBeat = nextBeat - Date.now();
        if (untilBeat > 0) {
          await pending.wait(untilBeat);
          continue;
        }
        if (!(await source.stillAllowed())) break;
        await stream.write(': heartbeat\n\n');
        nextBeat = Date.now() + deps.config.sseHeartbeatMs;
      }
    } catch (error) {
      // Nothing about the failure goes to the client: it reconnects and gets a clear HTTP answer.
      deps.logger.error('live event stream failed', { sessionId: source.sessionId, error: String(error) });
    } finally {
      unsubscribe();
      signal.removeEventListener('abort', onClientGone);
    }
  });
}

async function writeBusEvent(
  event: SessionEvent,
  write: (event: string, data: unknown, messageId?: string) => Promise<void>,
  delivered: Set<string>,
): Promise<void> {
  if (event.event === 'message') {
    const id = (event.data as { id?: unknown }).id;
    if (typeof id === 'string') {
      // Already sent by the Last-Event-ID replay.
      if (delivered.has(id)) return;
      return write('message', event.data, id);
    }
  }
  await write(event.event, event.data);
}

/**
 * Where a reconnecting client left off: `undefined` for a fresh connection (no header, or one that
 * does not name a message of this session), `{seq: null}` when it had seen no message at all.
 */
async function resumePoint(
  deps: AppDeps,
  sessionId: string,
  header: string | undefined,
): Promise<{ id: string | null; seq: number | null } | undefined> {
  const match = header ? EVENT_ID.exec(header.trim()) : null;
  const position = match?.[1];
  if (!position) return undefined;
  if (position === '0') return { id: null, seq: null };
  const seq = await messageSeq(deps, sessionId, position);
  return seq === null ? undefined : { id: position, seq };
}
