/**
 * The violation catalogue (DESIGN.md). Category and severity are derived from the type on the server;
 * a severity sent by a client is never trusted.
 */
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const CATEGORIES = ['presence', 'identity', 'behavioral'] as const;
export type ViolationCategory = (typeof CATEGORIES)[number];

export const VIOLATION_TYPES = [
  'face_absent_brief',
  'face_absent_extended',
  'multiple_faces',
  'camera_lost',
  'identity_mismatch',
  'tab_switch',
  'fullscreen_exit',
  'window_blur',
  'copy_paste',
] as const;
export type ViolationType = (typeof VIOLATION_TYPES)[number];

export interface ViolationRule {
  category: ViolationCategory;
  severity: Severity;
  /**
   * Who may raise it. `server` types are decided by the server alone (from presence samples or face
   * verification); a client that reports one is refused, so a tampered widget cannot inflate or hide them.
   */
  raisedBy: 'client' | 'server';
  /** Plain-words description, used in docs and the widget. */
  description: string;
}

export const VIOLATION_CATALOGUE: Readonly<Record<ViolationType, ViolationRule>> = {
  face_absent_brief: {
    category: 'presence',
    severity: 'low',
    raisedBy: 'server',
    description: 'No face visible for a short while (between faceAbsentBriefSeconds and faceAbsentExtendedSeconds).',
  },
  face_absent_extended: {
    category: 'presence',
    severity: 'high',
    raisedBy: 'server',
    description: 'No face visible for faceAbsentExtendedSeconds or longer.',
  },
  multiple_faces: {
    category: 'presence',
    severity: 'medium',
    raisedBy: 'server',
    description: 'More than one face in front of the camera.',
  },
  camera_lost: {
    category: 'presence',
    severity: 'high',
    raisedBy: 'client',
    description: 'The camera track ended or the permission was revoked.',
  },
  identity_mismatch: {
    category: 'identity',
    severity: 'critical',
    raisedBy: 'server',
    description: 'The face in front of the camera is not the enrolled person.',
  },
  tab_switch: {
    category: 'behavioral',
    severity: 'medium',
    raisedBy: 'client',
    description: 'The exam tab was hidden (another tab or window came to the front).',
  },
  fullscreen_exit: {
    category: 'behavioral',
    severity: 'medium',
    raisedBy: 'client',
    description: 'The candidate left fullscreen while it was required.',
  },
  window_blur: {
    category: 'behavioral',
    severity: 'low',
    raisedBy: 'client',
    description: 'The exam window lost focus while still visible.',
  },
  copy_paste: {
    category: 'behavioral',
    severity: 'medium',
    raisedBy: 'client',
    description: 'Copy, cut or paste in the exam page.',
  },
};

export function isViolationType(value: string): value is ViolationType {
  return Object.prototype.hasOwnProperty.call(VIOLATION_CATALOGUE, value);
}

/** Behavioral score penalty per violation, by severity (DESIGN.md). */
export const BEHAVIORAL_PENALTY: Readonly<Record<Severity, number>> = {
  low: 2,
  medium: 5,
  high: 10,
  critical: 25,
};

export type SeverityCounts = Record<Severity, number>;

export function emptySeverityCounts(): SeverityCounts {
  return { low: 0, medium: 0, high: 0, critical: 0 };
}
