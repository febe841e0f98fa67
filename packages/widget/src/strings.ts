/**
 * Every text the widget shows, in one table ready for translation. Pass `strings: {...}` to the
 * constructor to override any of them; `{name}` placeholders are filled in by the widget.
 */
export const DEFAULT_STRINGS = {
  title: 'Exam proctoring',
  loading: 'Connecting to the proctoring service…',
  consentHeading: 'Before you start',
  consentText:
    'This exam is proctored. With your consent, your camera and microphone are used during the exam: ' +
    'your face is checked against the photo you enroll, the recording is kept for review by the exam ' +
    'organiser, and leaving the exam tab or fullscreen is noted. Nothing is shared beyond the organiser.',
  consentAccept: 'I agree, turn on my camera',
  cameraHeading: 'Camera check',
  cameraStarting: 'Starting your camera…',
  cameraHelp: 'Make sure your face is well lit and fills a good part of the picture.',
  cameraContinue: 'My camera works',
  cameraDenied: 'We could not use your camera: {reason}. Allow camera access in your browser, then try again.',
  cameraRetry: 'Try again',
  enrollHeading: 'Photo of your face',
  enrollHelp: 'Take a photo looking at the camera, or upload a clear photo of your face. It is compared with you during the exam.',
  enrollCapture: 'Take photo',
  enrollUpload: 'Upload a photo',
  enrollRetake: 'Retake',
  enrollConfirm: 'Use this photo',
  enrollChecking: 'Checking the photo…',
  enrollAccepted: 'Photo accepted.',
  enrollRefused: 'This photo cannot be used: {reason}',
  readyHeading: 'Ready',
  readyText: 'Everything is set. The exam starts when you press its start button.',
  examHeading: 'Proctoring active',
  scoreLabel: 'Trust score',
  connectionOnline: 'Connected',
  connectionOffline: 'Offline — your exam continues; everything is saved and sent when the connection returns.',
  recordingOn: 'Recording',
  recordingOff: 'Not recording',
  recordingPending: '{count} recording part(s) waiting to upload',
  fullscreenNeeded: 'This exam must be taken in fullscreen.',
  fullscreenEnter: 'Return to fullscreen',
  cameraLost: 'Your camera stopped. Reconnect it to continue.',
  messagesHeading: 'Messages',
  messagesEmpty: 'No messages.',
  messagePlaceholder: 'Write to the proctor',
  messageSend: 'Send',
  messageFromProctor: 'Proctor',
  messageFromYou: 'You',
  documentsHeading: 'Documents',
  documentsEmpty: 'No documents.',
  documentUpload: 'Upload a document',
  documentUploading: 'Uploading {name}…',
  documentFailed: 'Upload failed: {reason}',
  completing: 'Finishing: uploading the recording ({done} of {total})…',
  completingWaiting: 'Finishing: waiting for the connection to upload the rest of the recording…',
  completedHeading: 'Exam submitted',
  completedText: 'Your exam is complete. You can close this page.',
  stoppedHeading: 'Exam stopped',
  stoppedText: 'The exam was stopped ({reason}).',
  expiredHeading: 'Session expired',
  expiredText: 'This proctoring session has expired.',
  errorHeading: 'Something went wrong',
  // Warnings, one per violation type, shown in plain words and announced once.
  warn_tab_switch: 'You left the exam tab. Stay on this page during the exam.',
  warn_fullscreen_exit: 'You left fullscreen. Please return to fullscreen.',
  warn_window_blur: 'The exam window lost focus. Stay in this window.',
  warn_copy_paste: 'Copying and pasting is not allowed during the exam.',
  warn_camera_lost: 'Your camera stopped. Reconnect it to continue.',
  warn_face_absent_brief: 'We cannot see your face. Stay in front of the camera.',
  warn_face_absent_extended: 'Your face has not been visible for a while.',
  warn_multiple_faces: 'More than one person is visible. You must be alone.',
  warn_identity_mismatch: 'The person in front of the camera does not match the enrolled photo.',
  // Quality verdicts of the enrollment photo (error codes of face-enroll).
  reason_no_face: 'no face was found',
  reason_multiple_faces: 'more than one face is visible',
  reason_face_too_small: 'the face is too small; come closer',
  reason_image_too_blurry: 'the photo is blurry; hold still in good light',
  reason_invalid_image: 'the file is not a readable JPEG, PNG or WebP image',
  reason_payload_too_large: 'the file is too large',
  reason_other: 'the server refused it ({code})',
  stop_manual: 'stopped by you',
  stop_proctor: 'stopped by the proctor',
  stop_auto: 'too many warnings',
  stop_expired: 'time limit reached',
} as const;

export type StringKey = keyof typeof DEFAULT_STRINGS;
export type Strings = Record<StringKey, string>;

/** Fills `{name}` placeholders. */
export function format(template: string, values: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}
