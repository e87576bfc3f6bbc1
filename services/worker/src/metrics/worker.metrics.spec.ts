import { METRICS } from '@kritik/core';
import { Registry } from 'prom-client';
import { GatewayMetrics } from '../gateway/model-gateway.js';
import { WorkerMetrics } from './worker.metrics.js';

describe(WorkerMetrics.name, () => {
  it("registers every worker series of core's METRICS table, with its help and labels, and nothing else", async () => {
    const registry = new Registry();
    new WorkerMetrics(registry);
    new GatewayMetrics(registry);
    const registered = (await registry.getMetricsAsJSON()).map((m) => ({ name: m.name, help: m.help, type: m.type }));
    const defined = Object.values(METRICS)
      .filter((m) => m.from === 'worker')
      .map((m) => ({ name: m.name, help: m.help, type: m.type }));
    expect(registered.sort((a, b) => a.name.localeCompare(b.name))).toEqual(
      defined.sort((a, b) => a.name.localeCompare(b.name)),
    );
  });

  it('exports the labels of the table', async () => {
    const registry = new Registry();
    const sut = new WorkerMetrics(registry);
    sut.commands.inc({ command: 'help', outcome: 'replied', cause: 'ok' });
    const text = await registry.metrics();
    expect(text).toContain(`${METRICS.commands.name}{command="help",outcome="replied",cause="ok"} 1`);
  });
});
