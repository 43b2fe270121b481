import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SecretToken } from '../dashboard-auth.js';
import { sendText } from '../http.js';
import type { TrackerMetrics } from '../metrics.js';
import { admit, type DashboardDeps } from './dashboard.js';

export interface MetricsDeps extends Pick<DashboardDeps, 'gate' | 'proxy' | 'limiter'> {
  metrics: TrackerMetrics;
  /** The Prometheus text to serve: this process's registry, or every worker's. */
  text: () => Promise<string>;
  /** `METRICS_TOKEN`: when set, `/metrics` wants `Authorization: Bearer <token>`, through the same throttle as the dashboard. */
  token: SecretToken | undefined;
}

/** `GET /metrics`: Prometheus text, open or behind its token. */
export async function handleMetrics(req: IncomingMessage, res: ServerResponse, deps: MetricsDeps): Promise<void> {
  req.resume();
  if (deps.token) {
    const admission = await admit(req, deps.token.presentedAsBearer(req), deps);
    if (typeof admission === 'object') {
      return sendText(res, 429, 'too many wrong tokens\n', undefined, { 'Retry-After': String(admission.blocked) });
    }
    if (admission !== 'granted') return sendText(res, 401, 'send Authorization: Bearer <METRICS_TOKEN>\n', undefined, { 'WWW-Authenticate': 'Bearer realm="metrics"' });
  }
  sendText(res, 200, await deps.text(), deps.metrics.registry.contentType);
}
