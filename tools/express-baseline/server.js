// The Express stack Jarvis replaced, rebuilt for the load harness (tests/load) so that the chain's
// rate is compared with this stack's on the same machine, in the same run: helmet, a rate limit,
// JSON bodies, and express-openapi-validator checking credentials and requests against the
// contract. Every request the contract accepts is answered with a fixed JSON, as the harness's
// bare handler answers, so the figure is the cost of the stack rather than of any handler.
//
// Usage: JARVIS_AUTH_TOKEN=... node server.js path/to/jarvis.yaml 127.0.0.1:PORT
'use strict';

// Express reads the environment when an application is created; production is what was measured.
process.env.NODE_ENV ??= 'production';

const crypto = require('node:crypto');
const express = require('express');
const helmet = require('helmet');
const { rateLimit } = require('express-rate-limit');
const OpenApiValidator = require('express-openapi-validator');

const [specPath, addr] = process.argv.slice(2);
const token = process.env.JARVIS_AUTH_TOKEN;
const sep = addr ? addr.lastIndexOf(':') : -1;
if (!specPath || sep < 0 || !token) {
  console.error('usage: JARVIS_AUTH_TOKEN=token node server.js openapi.yaml host:port');
  process.exit(2);
}
const host = addr.slice(0, sep);
const port = Number(addr.slice(sep + 1));

const expected = crypto.createHash('sha256').update(token).digest();
function bearerMatches(req) {
  const [scheme, value] = (req.headers.authorization || '').split(' ');
  if (scheme.toLowerCase() !== 'bearer' || !value) return false;
  // Hashing both sides gives equal lengths, which timingSafeEqual needs.
  return crypto.timingSafeEqual(crypto.createHash('sha256').update(value).digest(), expected);
}

const answer = { validation: { valid: true, validationType: 'config', checksRun: 0, issues: [] } };

const app = express();
app.use(helmet());
app.use(
  rateLimit({
    windowMs: 60_000,
    // Far above any measured rate, as the harness sets the Go chain's limits: every call is
    // counted, none refused.
    limit: 1_000_000_000,
    standardHeaders: 'draft-8',
    legacyHeaders: true,
  }),
);
app.use(express.json());
app.get('/health', (req, res) => res.json({ status: 'ok' }));
app.use(
  OpenApiValidator.middleware({
    apiSpec: specPath,
    validateRequests: true,
    validateResponses: false,
    validateSecurity: {
      // Only the bootstrap token is configured here; the other schemes the contract offers have
      // nothing to accept.
      handlers: {
        bearerAuth: bearerMatches,
        apiKeyAuth: () => false,
        appKeyAuth: () => false,
        oauth2: () => false,
      },
    },
  }),
);
app.use((req, res) => res.json(answer));
// Problems as RFC 9457 details, as Jarvis answers them.
app.use((err, req, res, next) => {
  const status = err.status || 500;
  res
    .status(status)
    .type('application/problem+json')
    .send(JSON.stringify({ status, title: err.name || 'Error', detail: err.message }));
});

app.listen(port, host, (err) => {
  if (err) {
    console.error(err);
    process.exit(1);
  }
});
