import type { OpenApiDocument, OpenApiOperation } from './document.ts';
import { authenticationSection, errorsSection, scoringSection, violationsSection, webhooksSection } from './guide.ts';
import { anchorId, esc, prose, table } from './html-text.ts';
import { SchemaView } from './schema-view.ts';

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #57606a; --bg: #fff; --panel: #f6f8fa; --line: #d0d7de; --accent: #0b5cad; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --panel: #161b22; --line: #30363d; --accent: #58a6ff; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
nav { position: fixed; top: 0; bottom: 0; left: 0; width: 330px; overflow-y: auto; padding: 16px; border-right: 1px solid var(--line); background: var(--panel); font-size: 13px; }
nav ul { list-style: none; padding-left: 10px; margin: 4px 0 10px; }
nav a { text-decoration: none; } nav li li { white-space: nowrap; }
main { margin-left: 330px; padding: 24px 40px 80px; max-width: 1100px; }
@media (max-width: 900px) { nav { position: static; width: auto; border-right: 0; } main { margin-left: 0; padding: 16px; } }
h1 { margin-top: 0; } h2 { border-bottom: 1px solid var(--line); padding-bottom: 6px; margin-top: 48px; }
code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
code { background: var(--panel); padding: 1px 4px; border-radius: 4px; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 12px; overflow-x: auto; }
pre code { padding: 0; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--panel); }
.op { border: 1px solid var(--line); border-radius: 8px; padding: 4px 16px 8px; margin: 16px 0; }
.op h3 { margin: 12px 0 4px; font-size: 16px; }
.method { display: inline-block; min-width: 58px; text-align: center; border-radius: 4px; padding: 1px 6px; color: #fff; font: 600 12px/1.6 ui-monospace, monospace; text-transform: uppercase; }
.get { background: #1f7a3d; } .post { background: #0b5cad; } .patch, .put { background: #9a6700; } .delete { background: #b42318; }
.meta { color: var(--muted); font-size: 14px; }
.sev { font-weight: 600; } .sev.medium { color: #9a6700; } .sev.high { color: #c2410c; } .sev.critical { color: #b42318; }
`;

const AUTH_LABELS: Record<string, string> = {
  apiKey: 'API key (<code>Bearer sa_live_…</code>), from your backend only',
  sessionToken: 'Session token (<code>Bearer sa_sess_…</code>), from the widget',
  admin: 'Admin token, only when the operator configured one',
};

function authLabel(operation: OpenApiOperation): string {
  const schemes = operation.security.flatMap((requirement) => Object.keys(requirement));
  if (schemes.length === 0) return 'None';
  return schemes.map((s) => AUTH_LABELS[s] ?? `<code>${esc(s)}</code>`).join(' or ');
}

function renderOperation(method: string, path: string, operation: OpenApiOperation, view: SchemaView): string {
  const parts: string[] = [
    `<section class="op" id="${anchorId('op', operation.operationId)}">`,
    `<h3><span class="method ${esc(method)}">${esc(method)}</span> <code>${esc(path)}</code></h3>`,
    `<p><strong>${prose(operation.summary)}</strong></p>`,
  ];
  if (operation.description) parts.push(`<p>${prose(operation.description)}</p>`);
  parts.push(`<p class="meta">Auth: ${authLabel(operation)}</p>`);

  const parameters = operation.parameters ?? [];
  if (parameters.length > 0) {
    const rows = parameters.map((p) => [
      `<code>${esc(p.name)}</code>`,
      esc(p.in),
      view.typeLabel(p.schema),
      p.required ? 'yes' : 'no',
      prose(p.description ?? ''),
    ]);
    parts.push(`<h4>Parameters</h4>${table(['Name', 'In', 'Type', 'Required', 'Description'], rows)}`);
  }

  const body = operation.requestBody;
  if (body) {
    const json = body.content['application/json']?.schema;
    const types = Object.keys(body.content).map((t) => `<code>${esc(t)}</code>`).join(', ');
    parts.push(`<h4>Request body (${types}${body.required ? '' : ', optional'})</h4>`);
    if (json) parts.push(view.fieldsTable(json) || `<p>${view.typeLabel(json)}</p>`);
    if (body.description) parts.push(`<p>${prose(body.description)}</p>`);
  }

  const responses = Object.entries(operation.responses)
    .filter(([status]) => status !== 'default')
    .map(([status, response]) => {
      const content = Object.entries(response.content ?? {});
      const shape = content
        .map(([type, media]) => (media.schema ? view.typeLabel(media.schema) : `<code>${esc(type)}</code>`))
        .join(', ');
      return [esc(status), prose(response.description), shape];
    });
  parts.push(`<h4>Responses</h4>${table(['Status', 'Description', 'Body'], responses)}`);

  const codes = operation['x-error-codes'];
  if (codes.length > 0) {
    parts.push(`<p class="meta">Error codes (body <a href="#errors">Error</a>): ${codes.map((c) => `<code>${esc(c)}</code>`).join(', ')}</p>`);
  }
  parts.push('</section>');
  return parts.join('\n');
}

/**
 * The reference page: a self-contained HTML document (inline CSS, no script, nothing loaded from
 * elsewhere) rendered from the OpenAPI document. Every piece of text is escaped.
 */
export function renderReferencePage(document: OpenApiDocument): string {
  const view = new SchemaView(document.components.schemas);
  const byTag = new Map<string, { method: string; path: string; operation: OpenApiOperation }[]>();
  for (const tag of document.tags) byTag.set(tag.name, []);
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const tag = operation.tags[0] ?? 'Other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)!.push({ method, path, operation });
    }
  }

  const nav: string[] = ['<ul>'];
  for (const [id, title] of [['authentication', 'Authentication'], ['errors', 'Errors']]) nav.push(`<li><a href="#${id}">${title}</a></li>`);
  const sections: string[] = [];
  for (const [tag, operations] of byTag) {
    if (operations.length === 0) continue;
    const tagId = anchorId('tag', tag);
    const description = document.tags.find((t) => t.name === tag)?.description;
    nav.push(`<li><a href="#${tagId}">${esc(tag)}</a><ul>`);
    for (const { method, path, operation } of operations) {
      nav.push(`<li><a href="#${anchorId('op', operation.operationId)}">${esc(method.toUpperCase())} ${esc(path)}</a></li>`);
    }
    nav.push('</ul></li>');
    sections.push(
      `<section id="${tagId}"><h2>${esc(tag)}</h2>${description ? `<p>${prose(description)}</p>` : ''}`,
      ...operations.map(({ method, path, operation }) => renderOperation(method, path, operation, view)),
      '</section>',
    );
  }
  for (const [id, title] of [['webhooks', 'Webhook events'], ['violations', 'Violation catalogue'], ['scoring', 'Auth score'], ['schemas', 'Schemas']]) {
    nav.push(`<li><a href="#${id}">${title}</a></li>`);
  }
  nav.push('</ul>');

  const schemaNames = Object.keys(document.components.schemas);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(document.info.title)} reference</title><style>${STYLE}</style></head>
<body><nav><strong>${esc(document.info.title)}</strong> <span class="meta">v${esc(document.info.version)}</span>${nav.join('\n')}</nav>
<main><h1>${esc(document.info.title)}</h1>
<p>${prose(document.info.description)}</p>
<p class="meta">Version ${esc(document.info.version)}. Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1).</p>
${authenticationSection()}
${errorsSection()}
${sections.join('\n')}
${webhooksSection(document, view)}
${violationsSection()}
${scoringSection()}
<section id="schemas"><h2>Schemas</h2>
${schemaNames.map((name) => view.component(name)).join('\n')}</section>
</main></body></html>
`;
}
