/**
 * Durable local storage for evidence not yet on the server: recording segments, violation events and
 * presence samples are written to IndexedDB before any upload, and removed only once the server has
 * them. A closed tab or a crash therefore loses nothing (presence samples: at most the last 2 s); the
 * next `init()` for the session uploads what is left.
 * Falls back to memory where IndexedDB is unavailable (then a closed tab does lose pending items).
 */

export interface StoredSegment {
  sessionId: string;
  sequence: number;
  blob: Blob;
  sha256: string;
  durationMs: number;
  startedAt: string;
  mimeType: string;
  /** The segment recorded so far, kept while it is still being recorded; `sha256` is empty. */
  partial?: boolean;
}

export interface StoredEvent {
  id: string;
  sessionId: string;
  kind: 'violation';
  payload: Record<string, unknown>;
  createdAt: number;
}

/** Presence samples (face counts) not yet taken by the server, saved every few seconds as one chunk. */
export interface StoredPresence {
  /** `<sessionId>:<time of the first sample>:<counter>`; chunks are sent in `createdAt` order. */
  id: string;
  sessionId: string;
  samples: { at: string; faces: number }[];
  createdAt: number;
}

export interface EvidenceStore {
  putSegment(segment: StoredSegment): Promise<void>;
  deleteSegment(sessionId: string, sequence: number): Promise<void>;
  segments(sessionId: string): Promise<StoredSegment[]>;
  putEvent(event: StoredEvent): Promise<void>;
  deleteEvent(id: string): Promise<void>;
  events(sessionId: string): Promise<StoredEvent[]>;
  putPresence(chunk: StoredPresence): Promise<void>;
  deletePresence(ids: string[]): Promise<void>;
  presence(sessionId: string): Promise<StoredPresence[]>;
  close(): void;
}

const DB_NAME = 'secureaccess-widget';
const DB_VERSION = 2;

function promised<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

class IdbStore implements EvidenceStore {
  constructor(private readonly db: IDBDatabase) {}

  private async run<T>(store: string, mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    const tx = this.db.transaction(store, mode);
    const result = promised(op(tx.objectStore(store)));
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
    return result;
  }

  async putSegment(segment: StoredSegment): Promise<void> {
    await this.run('segments', 'readwrite', (s) => s.put(segment));
  }
  async deleteSegment(sessionId: string, sequence: number): Promise<void> {
    await this.run('segments', 'readwrite', (s) => s.delete([sessionId, sequence]));
  }
  async segments(sessionId: string): Promise<StoredSegment[]> {
    const range = IDBKeyRange.bound([sessionId, -Infinity], [sessionId, Infinity]);
    return (await this.run('segments', 'readonly', (s) => s.getAll(range))) as StoredSegment[];
  }
  async putEvent(event: StoredEvent): Promise<void> {
    await this.run('events', 'readwrite', (s) => s.put(event));
  }
  async deleteEvent(id: string): Promise<void> {
    await this.run('events', 'readwrite', (s) => s.delete(id));
  }
  async events(sessionId: string): Promise<StoredEvent[]> {
    const all = (await this.run('events', 'readonly', (s) => s.getAll())) as StoredEvent[];
    return all.filter((e) => e.sessionId === sessionId).sort((a, b) => a.createdAt - b.createdAt);
  }
  async putPresence(chunk: StoredPresence): Promise<void> {
    await this.run('presence', 'readwrite', (s) => s.put(chunk));
  }
  async deletePresence(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    // One transaction: the chunks sent together go together.
    await this.run('presence', 'readwrite', (s) => {
      for (const id of ids.slice(1)) s.delete(id);
      return s.delete(ids[0]!);
    });
  }
  async presence(sessionId: string): Promise<StoredPresence[]> {
    const range = IDBKeyRange.bound(`${sessionId}:`, `${sessionId}:\uffff`);
    const chunks = (await this.run('presence', 'readonly', (s) => s.getAll(range))) as StoredPresence[];
    return chunks.sort((a, b) => a.createdAt - b.createdAt);
  }
  close(): void {
    this.db.close();
  }
}

class MemoryStore implements EvidenceStore {
  private readonly segs = new Map<string, StoredSegment>();
  private readonly evts = new Map<string, StoredEvent>();
  private readonly chunks = new Map<string, StoredPresence>();
  async putSegment(segment: StoredSegment): Promise<void> {
    this.segs.set(`${segment.sessionId}/${segment.sequence}`, segment);
  }
  async deleteSegment(sessionId: string, sequence: number): Promise<void> {
    this.segs.delete(`${sessionId}/${sequence}`);
  }
  async segments(sessionId: string): Promise<StoredSegment[]> {
    return [...this.segs.values()].filter((s) => s.sessionId === sessionId).sort((a, b) => a.sequence - b.sequence);
  }
  async putEvent(event: StoredEvent): Promise<void> {
    this.evts.set(event.id, event);
  }
  async deleteEvent(id: string): Promise<void> {
    this.evts.delete(id);
  }
  async events(sessionId: string): Promise<StoredEvent[]> {
    return [...this.evts.values()].filter((e) => e.sessionId === sessionId).sort((a, b) => a.createdAt - b.createdAt);
  }
  async putPresence(chunk: StoredPresence): Promise<void> {
    this.chunks.set(chunk.id, chunk);
  }
  async deletePresence(ids: string[]): Promise<void> {
    for (const id of ids) this.chunks.delete(id);
  }
  async presence(sessionId: string): Promise<StoredPresence[]> {
    return [...this.chunks.values()].filter((c) => c.sessionId === sessionId).sort((a, b) => a.createdAt - b.createdAt);
  }
  close(): void {}
}

export async function openEvidenceStore(): Promise<{ store: EvidenceStore; durable: boolean }> {
  try {
    if (typeof indexedDB === 'undefined') throw new Error('no IndexedDB');
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains('segments')) db.createObjectStore('segments', { keyPath: ['sessionId', 'sequence'] });
      if (!db.objectStoreNames.contains('events')) db.createObjectStore('events', { keyPath: 'id' });
      // Version 2: presence samples.
      if (!db.objectStoreNames.contains('presence')) db.createObjectStore('presence', { keyPath: 'id' });
    };
    const db = await promised(request);
    return { store: new IdbStore(db), durable: true };
  } catch {
    return { store: new MemoryStore(), durable: false };
  }
}
