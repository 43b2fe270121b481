#!/usr/bin/env node
// The Docker HEALTHCHECK: exits 0 when GET /healthz on this machine's PORT (default 8080)
// answers 200, i.e. the tracker runs and reaches Redis; else 1, within 4 seconds.
const port = process.env.PORT || '8080';
try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(4_000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
