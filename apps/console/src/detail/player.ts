/**
 * The recording player and the violations timeline under it. The recording is a list of segments, each
 * playable alone; the player plays them in order and maps the video's time to session time (a segment's
 * offset is its `startedAt` minus the session's start). Flags on the timeline sit at their `occurredAt`;
 * choosing one loads the segment covering that moment and seeks to it.
 */
import { h, replace, setStatus } from '../dom.ts';
import { formatOffset, humanize } from '../format.ts';
import { strings } from '../strings.ts';
import type { Segment, Violation } from '../types.ts';

const s = strings.detail;
/** Timeline geometry, matched by console.css (.timeline-flag, .timeline-ranges). */
const FLAG_WIDTH_PX = 13;
const FLAG_TOP_REM = 0.25;
const LANE_REM = 1.35;
const RANGES_REM = 0.9;
const MAX_LANES = 4;

interface PlacedSegment extends Segment {
  /** Milliseconds from the session's start. */
  offsetMs: number;
}

export class RecordingPlayer {
  readonly element: HTMLElement;
  private readonly video: HTMLVideoElement;
  private readonly position: HTMLElement;
  private readonly message: HTMLElement;
  private readonly track: HTMLElement;
  /** The track minus half a flag at each end: 0 % and 100 % flags stay inside it. */
  private readonly inner: HTMLElement;
  private readonly ranges: HTMLElement;
  private readonly flags: HTMLElement;
  private readonly playhead: HTMLElement;
  private readonly scaleEnd: HTMLElement;
  private readonly prevButton: HTMLButtonElement;
  private readonly nextButton: HTMLButtonElement;
  private segments: PlacedSegment[] = [];
  private violations: Violation[] = [];
  private current = -1;
  /** Where to seek once the loading segment's metadata is known (ms into the segment). */
  private pendingSeekMs: number | null = null;
  private pendingPlay = false;
  /** Set while findDuration() has sent the video to its end to learn its length. */
  private probingDuration = false;

  /**
   * @param startMs the session's start (epoch ms): offset 0 of the timeline
   * @param endMs   the end of the timeline (epoch ms), recomputed by the page while the session runs
   */
  constructor(
    private startMs: number,
    private endMs: number,
  ) {
    this.video = h('video', { controls: true, preload: 'metadata', playsinline: true, testid: 'recording-player', class: 'video' });
    this.position = h('span', { class: 'position', testid: 'player-position' });
    this.message = h('p', { class: 'status-line', role: 'status' });
    this.prevButton = h('button', { type: 'button', class: 'button button-small', testid: 'segment-prev' }, s.prevSegment);
    this.nextButton = h('button', { type: 'button', class: 'button button-small', testid: 'segment-next' }, s.nextSegment);
    this.ranges = h('div', { class: 'timeline-ranges', 'aria-hidden': 'true' });
    this.playhead = h('div', { class: 'timeline-playhead', 'aria-hidden': 'true' });
    this.flags = h('ul', { class: 'timeline-flags', 'aria-label': s.timelineLabel });
    this.inner = h('div', { class: 'timeline-inner' }, this.ranges, this.playhead, this.flags);
    this.track = h('div', { class: 'timeline-track', testid: 'violations-timeline' }, this.inner);
    this.scaleEnd = h('span', {});
    this.element = h(
      'div',
      { class: 'player' },
      h('div', { class: 'video-frame' }, this.video),
      h('div', { class: 'player-bar' }, this.prevButton, this.position, this.nextButton),
      h('div', { class: 'timeline' }, this.track, h('div', { class: 'timeline-scale', 'aria-hidden': 'true' }, h('span', {}, '0:00'), this.scaleEnd)),
      this.message,
    );

    this.video.addEventListener('loadedmetadata', () => {
      if (this.video.duration === Infinity) this.findDuration();
      else this.applyPendingSeek();
    });
    this.video.addEventListener('timeupdate', () => this.updatePosition());
    this.video.addEventListener('seeked', () => this.updatePosition());
    this.video.addEventListener('ended', () => {
      // Not a segment played to its end: findDuration() visiting the end, or an ended event that came late.
      if (this.probingDuration || !this.video.ended) return;
      if (this.current + 1 < this.segments.length) this.load(this.current + 1, 0, true);
    });
    this.video.addEventListener('error', () => {
      if (this.video.getAttribute('src')) setStatus(this.message, s.playbackError, 'error');
    });
    this.prevButton.addEventListener('click', () => this.load(Math.max(0, this.current - 1), 0, !this.video.paused));
    this.nextButton.addEventListener('click', () => this.load(Math.min(this.segments.length - 1, this.current + 1), 0, !this.video.paused));
    // Pointer users can click anywhere on the track; keyboard users have the flags and the video's controls.
    this.track.addEventListener('click', (event) => {
      if ((event.target as Element).closest('button')) return;
      const rect = this.inner.getBoundingClientRect();
      this.seek(Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width)) * this.spanMs());
    });
  }

  /** Replaces the segment list (keeps playing the current segment if it is still there). */
  setSegments(segments: Segment[]): void {
    const playing = this.segments[this.current]?.sequence;
    this.segments = segments
      .map((segment) => ({ ...segment, offsetMs: Date.parse(segment.startedAt) - this.startMs }))
      .sort((a, b) => a.offsetMs - b.offsetMs || a.sequence - b.sequence);
    const index = this.segments.findIndex((segment) => segment.sequence === playing);
    if (index >= 0) this.current = index;
    else if (this.segments.length > 0 && this.current < 0) this.load(0, 0, false);
    this.render();
  }

  setViolations(violations: Violation[]): void {
    this.violations = violations;
    this.renderFlags();
  }

  setTimeline(startMs: number, endMs: number): void {
    const moved = startMs !== this.startMs;
    this.startMs = startMs;
    this.endMs = endMs;
    if (moved) this.setSegments(this.segments);
    else this.render();
  }

  get hasSegments(): boolean {
    return this.segments.length > 0;
  }

  /** Plays from `offsetMs` of session time (the segment covering it, else the next one, else the last). */
  seek(offsetMs: number): void {
    if (this.segments.length === 0) return;
    let index = this.segments.findIndex((seg) => offsetMs >= seg.offsetMs && offsetMs < seg.offsetMs + seg.durationMs);
    let within = 0;
    if (index >= 0) {
      within = offsetMs - this.segments[index]!.offsetMs;
      setStatus(this.message, '');
    } else {
      // A gap in the recording (or a moment after it): the nearest footage after it, else the very end.
      setStatus(this.message, s.noVideoAt);
      index = this.segments.findIndex((seg) => seg.offsetMs > offsetMs);
      if (index < 0) {
        index = this.segments.length - 1;
        within = Math.max(0, this.segments[index]!.durationMs - 500);
      }
    }
    this.load(index, within, !this.video.paused);
  }

  destroy(): void {
    this.video.pause();
    this.video.removeAttribute('src');
    this.video.load();
  }

  private load(index: number, withinMs: number, play: boolean): void {
    const segment = this.segments[index];
    if (!segment) return;
    if (index !== this.current || !this.video.getAttribute('src')) {
      this.current = index;
      this.pendingSeekMs = withinMs;
      this.pendingPlay = play;
      this.video.src = segment.url;
    } else if (this.probingDuration) {
      // findDuration() is at the end of this segment; it applies this once it knows the length.
      this.pendingSeekMs = withinMs;
      this.pendingPlay ||= play;
    } else {
      this.video.currentTime = withinMs / 1000;
      if (play) void this.video.play().catch(() => undefined);
    }
    this.updatePosition();
  }

  /**
   * A MediaRecorder WebM (what the widget uploads) declares no duration: Chrome reports Infinity, so the
   * controls show no length and cannot scrub. Seeking far past the end makes the browser read to the end
   * and report the real duration; then the pending seek (or the start) is applied as usual.
   */
  private findDuration(): void {
    const video = this.video;
    const src = video.getAttribute('src');
    this.probingDuration = true;
    const finish = (): void => {
      video.removeEventListener('durationchange', onChange);
      video.removeEventListener('seeked', onChange);
      this.probingDuration = false;
      if (video.getAttribute('src') !== src) return; // another segment was loaded meanwhile
      video.currentTime = (this.pendingSeekMs ?? 0) / 1000;
      this.pendingSeekMs = null;
      this.applyPendingSeek();
    };
    // durationchange brings the real length; a seek that ends without one leaves the video as it was.
    const onChange = (): void => {
      if (Number.isFinite(video.duration) || video.getAttribute('src') !== src || !video.seeking) finish();
    };
    video.addEventListener('durationchange', onChange);
    video.addEventListener('seeked', onChange);
    video.currentTime = Number.MAX_SAFE_INTEGER;
  }

  private applyPendingSeek(): void {
    if (this.pendingSeekMs !== null && this.pendingSeekMs > 0) this.video.currentTime = this.pendingSeekMs / 1000;
    if (this.pendingPlay) void this.video.play().catch(() => undefined);
    this.pendingSeekMs = null;
    this.pendingPlay = false;
  }

  private spanMs(): number {
    const lastSegment = this.segments[this.segments.length - 1];
    const lastViolation = this.violations.reduce((max, v) => Math.max(max, Date.parse(v.occurredAt) - this.startMs), 0);
    return Math.max(1000, this.endMs - this.startMs, lastSegment ? lastSegment.offsetMs + lastSegment.durationMs : 0, lastViolation);
  }

  private percent(offsetMs: number): string {
    return `${Math.min(100, Math.max(0, (offsetMs / this.spanMs()) * 100)).toFixed(3)}%`;
  }

  private render(): void {
    replace(
      this.ranges,
      this.segments.map((segment) =>
        h('div', { class: 'timeline-range', style: `left:${this.percent(segment.offsetMs)};width:${this.percent(segment.durationMs)}` }),
      ),
    );
    this.scaleEnd.textContent = formatOffset(this.spanMs());
    this.renderFlags();
    this.updatePosition();
  }

  private renderFlags(): void {
    // Chronological (the Tab order); flags closer than a flag's width go to the next lane down, so
    // that every one stays clickable. Past MAX_LANES they share the least crowded lane.
    const width = this.inner.clientWidth || 800;
    const minGap = (FLAG_WIDTH_PX + 2) / width;
    const placed = this.violations
      .map((violation) => ({ violation, offset: Date.parse(violation.occurredAt) - this.startMs }))
      .sort((a, b) => a.offset - b.offset);
    const laneEnds: number[] = [];
    const items = placed.map(({ violation, offset }) => {
      const x = Math.min(1, Math.max(0, offset / this.spanMs()));
      let lane = laneEnds.findIndex((end) => x - end >= minGap);
      if (lane < 0) lane = laneEnds.length < MAX_LANES ? laneEnds.length : laneEnds.indexOf(Math.min(...laneEnds));
      laneEnds[lane] = x;
      const at = formatOffset(offset);
      const label = s.flagLabel(humanize(violation.type), violation.severity, at);
      return h(
        'li',
        { class: 'timeline-flag-item', style: `left:${(x * 100).toFixed(3)}%;top:${FLAG_TOP_REM + lane * LANE_REM}rem` },
        h('button', {
          type: 'button',
          class: `timeline-flag sev-${violation.severity}`,
          testid: 'violation-flag',
          data: { violationId: violation.id, offsetMs: String(offset), severity: violation.severity },
          'aria-label': label,
          title: label,
          on: { click: () => this.seek(offset) },
        }),
      );
    });
    // Re-rendering happens while the session runs (the timeline grows); keep keyboard focus in place.
    const focused = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>('[data-testid="violation-flag"]')?.dataset.violationId;
    replace(this.flags, items);
    if (focused) this.flags.querySelector<HTMLElement>(`[data-violation-id="${CSS.escape(focused)}"]`)?.focus();
    const lanes = Math.max(1, laneEnds.length);
    this.track.style.height = `${FLAG_TOP_REM + lanes * LANE_REM + RANGES_REM}rem`;
  }

  private updatePosition(): void {
    const segment = this.segments[this.current];
    this.prevButton.disabled = this.current <= 0;
    this.nextButton.disabled = this.current < 0 || this.current >= this.segments.length - 1;
    if (!segment) {
      this.position.textContent = '';
      this.playhead.hidden = true;
      return;
    }
    const offset = segment.offsetMs + this.video.currentTime * 1000;
    this.playhead.hidden = false;
    this.playhead.style.left = this.percent(offset);
    this.position.textContent = `${s.segment(this.current + 1)} / ${this.segments.length} · ${s.sessionTime} ${formatOffset(offset)}`;
    this.video.dataset.sessionOffsetMs = String(Math.round(offset));
    this.video.dataset.sequence = String(segment.sequence);
  }
}
