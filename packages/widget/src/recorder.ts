/**
 * Webcam recording in segments that each play on their own. A MediaRecorder started with a timeslice
 * writes the WebM header only into its first chunk, so later chunks cannot be played or even decoded
 * alone (RecordRTC #550/#438). Here every segment is a recorder of its own: at each boundary a new
 * recorder starts on the same stream and then the previous one stops, so each segment is a complete
 * WebM file (header, keyframe first) and the segments overlap by a few milliseconds instead of
 * leaving gaps.
 */
import { toHex } from './api.ts';

export interface RecordedSegment {
  sequence: number;
  blob: Blob;
  durationMs: number;
  startedAt: string;
  mimeType: string;
}

export interface SegmentedRecorderOptions {
  segmentMs: number;
  firstSequence: number;
  /** Called with each finished segment; `stop()` waits for the promise it returns (e.g. the segment being stored). */
  onSegment: (segment: RecordedSegment) => void | Promise<void>;
  onError: (message: string) => void;
  /**
   * Called every `timesliceMs` with the segment recorded so far (a WebM cut at a chunk boundary, which
   * players play up to the cut), so a closed tab or a crash loses at most `timesliceMs` of video.
   */
  onPartial?: (segment: RecordedSegment) => void;
  /** How often the recorder hands over its data (default 2000 ms). */
  timesliceMs?: number;
  videoBitsPerSecond?: number;
  audioBitsPerSecond?: number;
}

const CANDIDATE_TYPES = [
  'video/webm;codecs=vp8,opus',
  'video/webm;codecs=vp9,opus',
  'video/webm;codecs=vp8',
  'video/webm;codecs=vp9',
  'video/webm',
  'video/mp4',
];

/** The first container/codec MediaRecorder supports here, or null when it cannot record. */
export function pickMimeType(hasAudio: boolean): string | null {
  if (typeof MediaRecorder === 'undefined') return null;
  for (const type of CANDIDATE_TYPES) {
    if (!hasAudio && type.includes('opus')) continue;
    if (MediaRecorder.isTypeSupported(type)) return type;
  }
  return null;
}

interface Active {
  recorder: MediaRecorder;
  sequence: number;
  startedAtMs: number;
  startedPerf: number;
  chunks: Blob[];
  done: Promise<void>;
  markStopping: () => void;
}

export class SegmentedRecorder {
  readonly mimeType: string;
  private active: Active | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private nextSequence: number;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly stream: MediaStream,
    private readonly options: SegmentedRecorderOptions,
  ) {
    const type = pickMimeType(stream.getAudioTracks().length > 0);
    if (!type) throw new Error('This browser cannot record video (no MediaRecorder support for WebM or MP4).');
    this.mimeType = type;
    this.nextSequence = options.firstSequence;
  }

  get recording(): boolean {
    return this.active !== null;
  }

  start(): void {
    if (this.active) return;
    this.active = this.begin();
    this.timer = setInterval(() => this.rotate(), this.options.segmentMs);
  }

  /** Ends the current segment and starts the next one. */
  rotate(): void {
    if (!this.active) return;
    const previous = this.active;
    this.active = this.begin();
    this.finish(previous);
  }

  /** Stops recording; resolves once every segment has been handed to `onSegment` and what it returned has settled. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const last = this.active;
    this.active = null;
    if (last) this.finish(last);
    await Promise.all([...this.pending]);
  }

  private begin(): Active {
    const recorder = new MediaRecorder(this.stream, {
      mimeType: this.mimeType,
      videoBitsPerSecond: this.options.videoBitsPerSecond ?? 200_000,
      audioBitsPerSecond: this.options.audioBitsPerSecond ?? 32_000,
    });
    const chunks: Blob[] = [];
    const done = new Promise<void>((resolve) => {
      recorder.addEventListener('stop', () => resolve(), { once: true });
    });
    let stopping = false;
    recorder.addEventListener('dataavailable', (event) => {
      if (event.data.size > 0) chunks.push(event.data);
      // The last chunk (after stop()) completes the segment; earlier ones only extend the partial copy.
      if (!stopping && recorder.state === 'recording' && this.options.onPartial && chunks.length > 0) {
        this.options.onPartial({
          sequence: active.sequence,
          blob: new Blob(chunks, { type: this.mimeType }),
          durationMs: Math.round(performance.now() - active.startedPerf),
          startedAt: new Date(active.startedAtMs).toISOString(),
          mimeType: this.mimeType,
        });
      }
    });
    recorder.addEventListener('stop', () => (stopping = true), { once: true });
    recorder.addEventListener('error', (event) => {
      const error = (event as Event & { error?: DOMException }).error;
      this.options.onError(error?.message ?? 'the recorder failed');
    });
    const active: Active = {
      recorder,
      sequence: this.nextSequence++,
      startedAtMs: Date.now(),
      startedPerf: performance.now(),
      chunks,
      done,
      markStopping: () => (stopping = true),
    };
    recorder.start(this.options.timesliceMs ?? 2000);
    return active;
  }

  private finish(segment: Active): void {
    const durationMs = Math.round(performance.now() - segment.startedPerf);
    const finished = (async () => {
      segment.markStopping();
      if (segment.recorder.state !== 'inactive') segment.recorder.stop();
      await segment.done;
      if (segment.chunks.length === 0) return;
      try {
        await this.options.onSegment({
          sequence: segment.sequence,
          blob: new Blob(segment.chunks, { type: this.mimeType }),
          durationMs,
          startedAt: new Date(segment.startedAtMs).toISOString(),
          mimeType: this.mimeType,
        });
      } catch (error) {
        this.options.onError(error instanceof Error ? error.message : String(error));
      }
    })();
    this.pending.add(finished);
    void finished.finally(() => this.pending.delete(finished));
  }
}

/** Hex SHA-256 of a blob, as the server checks it. */
export async function sha256Hex(blob: Blob): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer())));
}
