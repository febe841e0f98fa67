import {
  BEHAVIORAL_PENALTY,
  DEFAULT_SESSION_CONFIG,
  SCORE_WEIGHTS,
  SEVERITIES,
  VIOLATION_CATALOGUE,
  type ViolationType,
} from '@secureaccess/protocol';
import { SECURITY_SCHEMES, type OpenApiDocument } from './document.ts';
import { anchorId, esc, prose, table } from './html-text.ts';
import type { SchemaView } from './schema-view.ts';
import { WEBHOOK_HEADERS } from './webhooks.ts';

/** The prose sections of the reference page around the generated endpoint list. */

export function authenticationSection(): string {
  const rows = Object.entries(SECURITY_SCHEMES).map(([name, scheme]) => [
    `<code>${esc(name)}</code>`,
    scheme.bearerFormat ? `<code>Authorization: Bearer ${esc(scheme.bearerFormat)}</code>` : '<code>Authorization: Bearer &lt;admin token&gt;</code>',
    prose(scheme.description),
  ]);
  return `<section id="authentication"><h2>Authentication</h2>
<p>Every credential is a bearer token in the <code>Authorization</code> header. Each endpoint below says which one it takes; using the wrong kind is refused with 401.</p>
${table(['Scheme', 'Header', 'Use'], rows)}
<p>Widget endpoints answer CORS requests from any origin; an integration can restrict them to its <code>allowedOrigins</code> (403 <code>origin_not_allowed</code>).</p></section>`;
}

const COMMON_ERRORS: [number, string, string][] = [
  [400, 'validation_failed', 'The body or query does not match the schema; `details` lists each problem as `{path, message}`.'],
  [400, 'invalid_json', 'The body is not valid JSON.'],
  [401, 'unauthorized', 'No `Authorization: Bearer …` header, or a malformed one.'],
  [401, 'invalid_api_key', 'The API key is unknown or has been rotated (or a session token was sent instead).'],
  [401, 'invalid_session_token', 'The session token is unknown or its session was erased.'],
  [401, 'session_token_expired', 'The session token has expired.'],
  [403, 'origin_not_allowed', "The browser's Origin is not in the integration's allowedOrigins."],
  [404, 'session_not_found', 'No such session for this integration.'],
  [409, 'session_not_in_progress', 'The session has not started yet or has already ended.'],
  [413, 'payload_too_large', 'The body is larger than the endpoint accepts.'],
  [415, 'unsupported_media_type', 'Send `Content-Type: application/json`.'],
  [429, 'rate_limited', 'Too many requests; wait for the number of seconds in `Retry-After`.'],
  [500, 'internal_error', 'A fault on our side. It is logged; the body never says more.'],
];

export function errorsSection(): string {
  const rows = COMMON_ERRORS.map(([status, code, text]) => [String(status), `<code>${esc(code)}</code>`, prose(text)]);
  return `<section id="errors"><h2>Errors</h2>
<p>Every error, whatever the endpoint, has the same body; branch on <code>code</code>, which is stable, and show <code>message</code> to a human:</p>
<pre>${esc('{"error": {"code": "session_not_in_progress", "message": "The assessment has not started yet."}}')}</pre>
<p>Codes shared by many endpoints are below; each endpoint lists the codes it can return.</p>
${table(['Status', 'Code', 'Meaning'], rows)}</section>`;
}

const VERIFY_EXAMPLE = `import express from 'express';
import { Webhook } from 'standardwebhooks';

const webhook = new Webhook(process.env.SECUREACCESS_WEBHOOK_SECRET); // "whsec_…"
const app = express();

// Verify the raw bytes: parsing and re-serializing the JSON would change the signature.
app.post('/secureaccess/webhooks', express.raw({ type: 'application/json' }), (req, res) => {
  let event;
  try {
    // Checks webhook-signature over webhook-id, webhook-timestamp and the body,
    // and refuses timestamps more than 5 minutes away from now.
    event = webhook.verify(req.body, req.headers);
  } catch {
    return res.status(400).end();
  }
  // Delivery is at least once: skip an event.id (= webhook-id) you have already handled.
  console.log(event.type, event.sessionId, event.authScore);
  res.status(204).end();
});`;

export function webhooksSection(document: OpenApiDocument, view: SchemaView): string {
  const events = Object.entries(document.webhooks)
    .map(([type, { post }]) => {
      const schema = post.requestBody?.content['application/json']?.schema ?? {};
      return `<section class="op" id="${anchorId('webhook', type)}"><h3><code>${esc(type)}</code> (payload ${view.typeLabel(schema)})</h3>
<p>${prose(post.description ?? '')}</p>${view.fieldsTable(schema)}</section>`;
    })
    .join('\n');
  const headers = WEBHOOK_HEADERS.map((h) => [`<code>${esc(h.name)}</code>`, prose(h.description ?? '')]);
  return `<section id="webhooks"><h2>Webhook events and signatures</h2>
<p>When an integration has a <code>webhookUrl</code>, the server POSTs each event there as JSON, signed per the <a href="https://www.standardwebhooks.com/">Standard Webhooks</a> specification with the integration's <code>whsec_…</code> secret (shown once, when the integration is created). Answer with any 2xx status within 10 seconds (the default delivery timeout). Anything else is retried with exponential back-off for about a day; every attempt is kept in the integration's delivery log, and a delivery can be sent again by API.</p>
<h3>Headers</h3>${table(['Header', 'Meaning'], headers)}
<h3>Verifying the signature (Node)</h3>
<p>Install <code>standardwebhooks</code> from npm; libraries exist for most languages.</p>
<pre>${esc(VERIFY_EXAMPLE)}</pre>
<h3>Events</h3>
<p>Every payload carries <code>id</code>, <code>type</code>, <code>integrationId</code>, <code>sessionId</code>, <code>externalUserId</code>, <code>externalAssessmentId</code>, <code>timestamp</code> and the server's <code>authScore</code>.</p>
${events}</section>`;
}

export function violationsSection(): string {
  const rows = (Object.entries(VIOLATION_CATALOGUE) as [ViolationType, (typeof VIOLATION_CATALOGUE)[ViolationType]][]).map(
    ([type, rule]) => [
      `<code>${esc(type)}</code>`,
      esc(rule.category),
      `<span class="sev ${esc(rule.severity)}">${esc(rule.severity)}</span>`,
      rule.raisedBy === 'client' ? 'widget' : 'server only',
      prose(rule.description),
    ],
  );
  const autoStop = DEFAULT_SESSION_CONFIG.autoStop;
  const thresholds = SEVERITIES.map((s) => [
    `<span class="sev ${esc(s)}">${esc(s)}</span>`,
    s in autoStop ? `after ${autoStop[s as keyof typeof autoStop]}` : 'never',
  ]);
  return `<section id="violations"><h2>Violation catalogue</h2>
<p>The server derives category and severity from the type; a severity sent by a client is ignored. Types marked <em>server only</em> are decided by the server (from presence samples or face verification) and are refused when a client reports them. Each report carries a client <code>id</code>, so a retried request is never counted twice.</p>
${table(['Type', 'Category', 'Severity', 'Raised by', 'Meaning'], rows)}
<h3>Auto-stop</h3>
<p>A session is stopped at once, on the server, when the count of violations of one severity reaches its threshold (<code>stopReason</code> <code>auto:&lt;severity&gt;</code>). Defaults below; each session can change them, or turn auto-stop off, with <code>config.autoStop</code>.</p>
${table(['Severity', 'Stops the session'], thresholds)}</section>`;
}

export function scoringSection(): string {
  const w = SCORE_WEIGHTS;
  const penalties = SEVERITIES.map((s) => [`<span class="sev ${esc(s)}">${esc(s)}</span>`, `−${BEHAVIORAL_PENALTY[s]}`]);
  return `<section id="scoring"><h2>Auth score</h2>
<p>A score from 0 to 100 with one decimal, recomputed by the server on every relevant event. Results and webhooks carry the server's score; a score the widget submits is stored beside it for comparison only.</p>
<pre>overall = ${w.identity} × identity + ${w.presence} × presence + ${w.behavioral} × behavioral</pre>
<ul>
<li><strong>identity</strong>: mean of the identity scores of the face verifications so far; 100 right after enrollment until the first verification; 0 without an enrolled face.</li>
<li><strong>presence</strong>: share of monitored time with exactly one face visible (from presence samples); 100 before any monitored time.</li>
<li><strong>behavioral</strong>: 100 minus a penalty per behavioral violation, never below 0.</li>
</ul>
${table(['Severity', 'Behavioral penalty'], penalties)}</section>`;
}
