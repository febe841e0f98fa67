/** Formatting of dates, durations, scores and sizes for display. */
import { strings } from './strings.ts';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const shortDateTime = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const shortWithSeconds = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });

/** "12 Mar 2025, 14:03:10", or "—" for null. */
export function formatDateTime(iso: string | null | undefined): string {
  return iso ? dateTime.format(new Date(iso)) : strings.none;
}

/** "12 Mar, 14:03" for tables. */
export function formatShort(iso: string | null | undefined): string {
  return iso ? shortDateTime.format(new Date(iso)) : strings.none;
}

/** "12 Mar, 14:03:10" for logs where seconds matter. */
export function formatShortSeconds(iso: string | null | undefined): string {
  return iso ? shortWithSeconds.format(new Date(iso)) : strings.none;
}

/** "14:03:10". */
export function formatClock(date: Date): string {
  return clock.format(date);
}

/** An offset in the session: "4:05" or "1:02:03". */
export function formatOffset(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/** "850 ms", "12.5 s", "3 min 20 s". */
export function formatDuration(ms: number | null): string {
  if (ms === null) return strings.none;
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function formatScore(score: number): string {
  return score.toFixed(1);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** "in_progress" → "in progress", "face_absent_brief" → "face absent brief". */
export function humanize(code: string): string {
  return code.replace(/_/g, ' ');
}
