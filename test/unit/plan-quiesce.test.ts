import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LABELS, planQuiesce } from '../../src/engine/plan-quiesce';
import type { StopPolicy } from '../../src/vocabulary/volume-options';
import { container } from '../helpers/fake-docker';

const containers = [
  container('writer', { volumes: ['data'] }),
  container('other-volume', { volumes: ['elsewhere'] }),
  container('labelled', { labels: { [LABELS.stop]: 'true' } }),
  container('labelled-other-value', { labels: { [LABELS.stop]: 'db' } }),
  container('one-shot', { labels: { [LABELS.stopNoRestart]: 'true' } }),
  container('stopped', { volumes: ['data'], running: false }),
];

const plan = (policy: StopPolicy, stopLabel = 'true', list = containers) =>
  planQuiesce({ volume: 'data', policy, stopLabel, containers: list });
const stopped = (policy: StopPolicy, stopLabel = 'true') =>
  plan(policy, stopLabel).stop.map((stop) => `${stop.name}${stop.restart ? '' : ' (no restart)'}`);

describe('planQuiesce', () => {
  it('attached stops every running container that mounts the volume plus labelled ones', () => {
    assert.deepEqual(stopped('attached'), ['writer', 'labelled', 'one-shot (no restart)']);
  });

  it('labelled stops only the containers whose label value matches backup-stop-label', () => {
    assert.deepEqual(stopped('labelled'), ['labelled', 'one-shot (no restart)']);
    assert.deepEqual(stopped('labelled', 'db'), ['labelled-other-value']);
  });

  it('none stops nothing', () => {
    assert.deepEqual(stopped('none'), []);
  });

  it('refuses a container with both labels for this value, naming it', () => {
    const both = container('confused', { labels: { [LABELS.stop]: 'true', [LABELS.stopNoRestart]: 'true' } });
    assert.throws(() => plan('attached', 'true', [...containers, both]), (error: Error) => {
      assert.match(error.message, /Nothing was stopped\.$/, 'a conflict of the plan, refused before anything stopped');
      assert.match(error.message, /container confused has both .*stop-during-backup=true and .*no-restart=true.*Nothing was stopped/);
      return true;
    });
    assert.doesNotThrow(() => plan('attached', 'db', [...containers, both]));
  });

  it('collects archive-pre and archive-post commands of concerned containers only, even with none', () => {
    const list = [
      container('db', { volumes: ['data'], labels: { [LABELS.archivePre]: 'dump > /data/dump.sql', [LABELS.archivePost]: 'echo done' } }),
      container('unrelated', { labels: { [LABELS.archivePre]: 'should not run' } }),
    ];
    const result = plan('none', 'true', list);
    assert.deepEqual(result.pre, [{ containerId: 'db', containerName: 'db', command: 'dump > /data/dump.sql' }]);
    assert.deepEqual(result.post, [{ containerId: 'db', containerName: 'db', command: 'echo done' }]);
    assert.deepEqual(result.stop, []);
  });
});
