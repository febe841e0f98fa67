/**
 * The baseline for `npm run bench:api`: a bare Hono app on @hono/node-server with one route that
 * returns text. Same stack as the API server, none of its work.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.get('/', (c) => c.text('Hello, World!'));
// The webhook receiver of bench:api's run with webhooks on (idle while hello-world is measured).
app.post('/hook', (c) => c.body(null, 204));

const port = Number(process.env.PORT ?? 3000);
const server = serve({ fetch: app.fetch, port, hostname: process.env.HOST ?? '127.0.0.1' }, (info) => {
  process.stdout.write(`hello listening on ${info.port}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
