// Startup time of the harness control plane (etcd + kube-apiserver + kube-controller-manager, up
// to the `default` ServiceAccount) against a baseline: the same start with the API server's
// default API priority and fairness, which the harness turns off. Also times stop().
// Run after `npm run build`: npm run bench:control-plane -w bench [-- <runs>]
import { type ControlPlaneOptions, startControlPlane } from '@kritik/testing';
import { median } from '../measure.js';

const runs = Number(process.argv[2] ?? 3);

interface Sample {
  apiServerReadyMs: number;
  totalMs: number;
  stopMs: number;
}

async function sample(options: ControlPlaneOptions): Promise<Sample> {
  const cp = await startControlPlane(options);
  const stopping = Date.now();
  await cp.stop();
  return { ...cp.timings, stopMs: Date.now() - stopping };
}

function report(name: string, samples: Sample[]): void {
  const pick = (key: keyof Sample) => `${median(samples.map((s) => s[key]))} ms`.padStart(9);
  console.log(
    `${name.padEnd(40)} apiserver ready ${pick('apiServerReadyMs')}  total ${pick('totalMs')}  stop ${pick('stopMs')}`,
  );
}

const harness: Sample[] = [];
const baseline: Sample[] = [];
// Interleaved, so that load from elsewhere on the machine hits both alike.
for (let i = 0; i < runs; i++) {
  harness.push(await sample({}));
  baseline.push(await sample({ extraApiServerArgs: ['--enable-priority-and-fairness=true'] }));
}
console.log(`control plane startup, median of ${runs} runs (${process.arch}, node ${process.version})`);
report('harness (priority and fairness off)', harness);
report('baseline (API server defaults)', baseline);
