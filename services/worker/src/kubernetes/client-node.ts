// The values the worker uses from @kubernetes/client-node, in one module. The build replaces its
// output with one tree-shaken file of these and their dependencies (client-node.bundler.ts): the
// package's generated APIs and models are some 2,600 modules. What it buys (bench/dispatch/rss.ts,
// docs/adr/0017): the worker's boot imports hold 89 MiB resident bundled, 131 MiB unbundled,
// and the worker stays under its 120 MiB target. Types are imported from the package directly.
export {
  AuthorizationV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  createConfiguration,
  KubeConfig,
  makeInformer,
  PatchStrategy,
  ServerConfiguration,
  setHeaderOptions,
  Watch,
} from '@kubernetes/client-node';
