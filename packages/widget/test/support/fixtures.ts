import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Fake-camera videos for Chromium's `--use-file-for-fake-video-capture`, made with ffmpeg from the shared
 * photo set, and ffprobe/ffmpeg checks for what the widget records.
 */

/** The shared photo set (never copied into the repository): $SECUREACCESS_FACES_DIR or <repo>/../shared/faces. */
export const FACES_DIR = process.env.SECUREACCESS_FACES_DIR ?? path.resolve(fileURLToPath(new URL('../../../../', import.meta.url)), '../shared/faces');

/** Where built `.y4m` files are kept between runs (keyed by input bytes and parameters). */
export const Y4M_CACHE_DIR = path.join(tmpdir(), 'secureaccess-y4m');

/** Person A on camera: Barack Obama, frontal, face large and centred in a landscape shot (webcam-like). */
export const PERSON_A = path.join(FACES_DIR, 'images/barack_obama/4.jpg');
/** Person A's enrolment photo: another picture of the same man (the server's identity tests use it too). */
export const PERSON_A_ENROLMENT = path.join(FACES_DIR, 'images/barack_obama/1.jpg');
/** Person B on camera: Rose Leslie, frontal, centred — clearly someone else than A. */
export const PERSON_B = path.join(FACES_DIR, 'images/rose_leslie/1.jpg');

/**
 * Crops (fractions of the photo) that frame the known photos like a webcam would: the face large and
 * centred. Photos not listed are shown whole.
 */
const FRAMING: Record<string, Crop> = {
  [PERSON_A]: { x: 0.1, y: 0, width: 0.7, height: 1 },
  [PERSON_B]: { x: 0.2, y: 0, width: 0.6, height: 0.72 },
};

export interface Crop {
  /** Left edge, fraction of the photo's width. */
  x: number;
  /** Top edge, fraction of the photo's height. */
  y: number;
  width: number;
  height: number;
}

export interface VideoOptions {
  /** Default 640×480. */
  width?: number;
  height?: number;
  /** Default 10. */
  fps?: number;
  /** Seconds; default 3 (Chromium's fake device loops the file). */
  seconds?: number;
  /** Part of the photo to show; default: the known framing of PERSON_A/PERSON_B, else the whole photo. */
  crop?: Crop;
}

/** Person A's enrolment photo as JPEG bytes (what an LMS or the upload button would send). */
export function enrolmentJpeg(photoPath: string = PERSON_A_ENROLMENT): Buffer {
  return readFileSync(photoPath);
}

/**
 * A fake-camera `.y4m` (yuv420p) showing `photoPath` scaled to fit the frame, centred, on grey.
 * Built once per (photo bytes, options) and reused across runs; returns the file's path.
 */
export async function faceVideo(photoPath: string, options: VideoOptions = {}): Promise<string> {
  const { width = 640, height = 480, fps = 10, seconds = 3 } = options;
  const crop = options.crop ?? FRAMING[photoPath];
  const photo = readFileSync(photoPath);
  const cropFilter = crop ? `crop=iw*${crop.width}:ih*${crop.height}:iw*${crop.x}:ih*${crop.y},` : '';
  const filter =
    `${cropFilter}scale=${width}:${height}:force_original_aspect_ratio=decrease:flags=lanczos,` +
    `pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2:color=0x808080,setsar=1,format=yuv420p`;
  const key = hash(['face', 1, photo, filter, fps, seconds]);
  const label = `${path.basename(path.dirname(photoPath))}-${path.basename(photoPath, path.extname(photoPath))}`;
  return cached(`face-${label}-${key}.y4m`, (out) => [
    '-loop', '1', '-framerate', String(fps), '-i', photoPath,
    '-vf', filter, '-r', String(fps), '-t', String(seconds), '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', out,
  ]);
}

/**
 * A fake-camera `.y4m` with nobody in it: a plain, softly lit grey wall (a faint vertical gradient and a
 * little sensor noise, so it is not one flat colour, but nothing a face detector could take for a face).
 */
export async function blankVideo(options: Omit<VideoOptions, 'crop'> = {}): Promise<string> {
  const { width = 640, height = 480, fps = 10, seconds = 3 } = options;
  const filter = `geq=lum='128+10*(Y/H-0.5)':cb=128:cr=128,noise=alls=3:allf=t,format=yuv420p`;
  const key = hash(['blank', 1, width, height, filter, fps, seconds]);
  return cached(`blank-${key}.y4m`, (out) => [
    '-f', 'lavfi', '-i', `color=c=0x808080:s=${width}x${height}:r=${fps}`,
    '-vf', filter, '-t', String(seconds), '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', out,
  ]);
}

function hash(parts: unknown[]): string {
  const h = createHash('sha256');
  for (const part of parts) h.update(part instanceof Uint8Array ? part : JSON.stringify(part)).update('\0');
  return h.digest('hex').slice(0, 16);
}

/** Builds `name` in the cache unless present; written to a temp name and renamed, so parallel runs never see half a file. */
async function cached(name: string, args: (out: string) => string[]): Promise<string> {
  const file = path.join(Y4M_CACHE_DIR, name);
  if (existsSync(file)) return file;
  mkdirSync(Y4M_CACHE_DIR, { recursive: true });
  const partial = `${file}.${process.pid}.${Date.now()}.part`;
  try {
    await run('ffmpeg', ['-v', 'error', '-nostdin', '-y', ...args(partial)]);
    renameSync(partial, file);
  } finally {
    rmSync(partial, { force: true });
  }
  return file;
}

function run(command: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** Runs `fn` on a file path: the given path, or the bytes written to a temporary file. */
async function withFile<T>(input: string | Uint8Array, fn: (file: string) => Promise<T>): Promise<T> {
  if (typeof input === 'string') return fn(input);
  const dir = await mkdtemp(path.join(tmpdir(), 'sa-probe-'));
  const file = path.join(dir, 'media');
  try {
    await writeFile(file, input);
    return await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Duration in seconds of a media file or bytes. Uses the container's duration when it has one; a
 * MediaRecorder WebM has none, so otherwise the span of its packets (first pts to last pts + duration).
 */
export async function ffprobeDuration(input: string | Uint8Array): Promise<number> {
  return withFile(input, async (file) => {
    const format = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
    const declared = Number(format.stdout.trim());
    if (Number.isFinite(declared) && declared > 0) return declared;
    const packets = await run('ffprobe', ['-v', 'error', '-show_entries', 'packet=stream_index,pts_time,duration_time', '-of', 'csv=p=0', file]);
    // Per stream: first pts to last pts + the last packet's duration (when the container omits it, as
    // WebM SimpleBlocks do, the stream's typical spacing between packets).
    const streams = new Map<string, { pts: number[]; lastDuration: number }>();
    for (const line of packets.stdout.split('\n')) {
      const [index, ptsText, durationText] = line.split(',');
      const pts = Number(ptsText);
      if (index === undefined || !ptsText || !Number.isFinite(pts)) continue;
      const stream = streams.get(index) ?? { pts: [], lastDuration: NaN };
      stream.pts.push(pts);
      stream.lastDuration = durationText ? Number(durationText) : NaN;
      streams.set(index, stream);
    }
    let start = Infinity;
    let end = -Infinity;
    for (const { pts, lastDuration } of streams.values()) {
      pts.sort((a, b) => a - b);
      const gaps = pts.slice(1).map((p, i) => p - pts[i]!).sort((a, b) => a - b);
      const tail = Number.isFinite(lastDuration) ? lastDuration : (gaps[gaps.length >> 1] ?? 0);
      start = Math.min(start, pts[0]!);
      end = Math.max(end, pts[pts.length - 1]! + tail);
    }
    if (!Number.isFinite(start)) throw new Error(`ffprobeDuration: no packets in ${typeof input === 'string' ? input : `${input.length} bytes`}`);
    return end - start;
  });
}

/**
 * True when ffmpeg decodes every frame of `bytes`, read from a pipe on their own (as a downloaded
 * recording segment would be), without a single error: `ffmpeg -v error -i - -f null -` exits 0 and
 * reports nothing about the input (a truncated file says "File ended prematurely"; a chunk without the
 * WebM header "Invalid data found").
 */
export function ffprobeDecodes(bytes: Uint8Array): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('ffmpeg', ['-v', 'error', '-nostdin', '-i', 'pipe:0', '-f', 'null', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.on('error', () => undefined); // ffmpeg may stop reading garbage early (EPIPE)
    child.on('error', () => resolve(false));
    // Lines from the null muxer itself are not about the input: MediaRecorder's millisecond timestamps
    // give Opus packets equal dts ("non monotonically increasing dts to muxer"), which players ignore.
    const problems = () => stderr.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('[null @ '));
    child.on('close', (code) => resolve(code === 0 && problems().length === 0));
    child.stdin.end(bytes);
  });
}
