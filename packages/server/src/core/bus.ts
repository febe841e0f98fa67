import type { EventBus, SessionEvent } from './ports.ts';

/** In-process event bus for a single node. A multi-node deployment swaps in a shared one (Redis pub/sub). */
export class MemoryEventBus implements EventBus {
  private readonly listeners = new Map<string, Set<(event: SessionEvent) => void>>();

  publish(event: SessionEvent): void {
    for (const listener of this.listeners.get(event.sessionId) ?? []) {
      try {
        listener(event);
      } catch {
        // A failing listener (e.g. a closed stream) must not stop the others.
      }
    }
  }

  subscribe(sessionId: string, listener: (event: SessionEvent) => void): () => void {
    let set = this.listeners.get(sessionId);
    if (!set) {
      set = new Set();
      this.listeners.set(sessionId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(sessionId);
    };
  }

  /** Number of open subscriptions, for tests and metrics. */
  get size(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
}
