import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const REQUEST = 'rta:metrics-request';
const REPLY = 'rta:metrics-reply';

interface MetricsMessage {
  type: string;
  id: number;
  text?: string;
  error?: string;
}

/**
 * In the primary of TRACKER_WORKERS: answers a worker's `/metrics` request with the metrics of
 * every worker, summed per series (prom-client's AggregatorRegistry asks each worker over IPC).
 */
export function serveWorkerMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: MetricsMessage) => {
    if (message?.type !== REQUEST) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: REPLY, id: message.id, text }),
      (error: Error) => worker.send({ type: REPLY, id: message.id, error: error.message }),
    );
  });
}

/**
 * In a worker: offers `registry` to the primary's aggregation and returns what `/metrics`
 * serves, the metrics of all workers.
 */
export function workerMetricsText(registry: Registry): () => Promise<string> {
  new AggregatorRegistry(); // its constructor answers the primary's requests for this worker's metrics
  AggregatorRegistry.setRegistries([registry]);
  const pending = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  let next = 0;
  process.on('message', (message: MetricsMessage) => {
    if (message?.type !== REPLY) return;
    const request = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) request?.reject(new Error(`aggregating the workers' metrics failed: ${message.error}`));
    else request?.resolve(message.text ?? '');
  });
  return () =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      process.send!({ type: REQUEST, id });
    });
}
