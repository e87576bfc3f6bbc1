// Injection tokens of the worker's plain (non-class) providers.

/** The validated {@link WorkerConfig}. */
export const WORKER_CONFIG = 'KRITIK_WORKER_CONFIG';
/** The pino logger of the worker. */
export const WORKER_LOGGER = 'KRITIK_WORKER_LOGGER';
/** The {@link KubernetesClient} of the kubernetes runner (absent with the local runner). */
export const KUBERNETES_CLIENT = 'KRITIK_KUBERNETES_CLIENT';
