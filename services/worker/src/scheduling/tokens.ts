// Injection tokens of the worker's plain (non-class) providers.

/** The validated {@link WorkerConfig}. */
export const WORKER_CONFIG = 'KRITIK_WORKER_CONFIG';
/** The pino logger of the worker. */
export const WORKER_LOGGER = 'KRITIK_WORKER_LOGGER';
/** A name unique to this worker process, part of every lease it holds. */
export const WORKER_ID = 'KRITIK_WORKER_ID';
/** The {@link KubernetesClient} of the kubernetes runner (absent with the local runner). */
export const KUBERNETES_CLIENT = 'KRITIK_KUBERNETES_CLIENT';
