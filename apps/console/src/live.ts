/**
 * The proctor's live event stream of one session (Server-Sent Events, authenticated by the console
 * cookie). EventSource reconnects by itself after network errors; when the server refuses the stream
 * (session erased, console session expired) it stops, and `onState('closed')` lets the page decide.
 */

export type LiveState = 'connecting' | 'open' | 'retrying' | 'closed';

export type LiveHandlers = Partial<Record<'snapshot' | 'status' | 'score' | 'violation' | 'message' | 'document', (data: unknown) => void>>;

export function openLiveEvents(sessionId: string, handlers: LiveHandlers, onState: (state: LiveState) => void): () => void {
  const source = new EventSource(`/api/widget/sessions/${encodeURIComponent(sessionId)}/events`);
  onState('connecting');
  source.onopen = () => onState('open');
  source.onerror = () => onState(source.readyState === EventSource.CLOSED ? 'closed' : 'retrying');
  for (const [type, handler] of Object.entries(handlers)) {
    source.addEventListener(type, (event) => {
      let data: unknown;
      try {
        data = JSON.parse((event as MessageEvent<string>).data);
      } catch {
        return; // Not ours to crash on; the REST endpoints remain the record.
      }
      handler(data);
    });
  }
  return () => source.close();
}
