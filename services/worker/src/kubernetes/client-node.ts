// The values the worker uses from @kubernetes/client-node, in one module. The build replaces its
// output with one tree-shaken file of these and their dependencies (build/bundle-client-node.ts):
// the package's generated APIs and models are some 2,600 modules, and loading them as such costs
// the worker three times the memory of the bundle. Types are imported from the package directly.
export {
  AuthorizationV1Api,
  BatchV1Api,
  CoreV1Api,
  createConfiguration,
  KubeConfig,
  PatchStrategy,
  ServerConfiguration,
  setHeaderOptions,
  Watch,
} from '@kubernetes/client-node';
