import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSilentLogger } from '../../src/shared/logger';
import { replayAfterFailedStart } from '../../src/engine/replay-after-failed-start';
import { StopJournal } from '../../src/engine/stop-journal';
import { container, FakeDocker } from '../helpers/fake-docker';
import { makeTempDir } from '../helpers/temp-dir';

const logger = createSilentLogger();

describe('replayAfterFailedStart', () => {
  it('starts what the journal holds', async () => {
    const docker = new FakeDocker([container('a', { running: false })]);
    const journal = new StopJournal(await makeTempDir('journal'));
    await journal.record('v', [{ id: 'a', name: 'a', restart: true }]);
    await replayAfterFailedStart({ docker, journal, logger });
    assert.deepEqual(docker.calls, ['start a']);
    assert.deepEqual(await journal.pending(), []);
  });

  it('gives up within its budget when the engine does not answer, keeping the journal', async () => {
    const docker = new FakeDocker([container('a', { running: false })]);
    docker.ping = () => Promise.reject(new Error('connect ENOENT'));
    const journal = new StopJournal(await makeTempDir('journal'));
    await journal.record('v', [{ id: 'a', name: 'a', restart: true }]);
    const started = Date.now();
    await replayAfterFailedStart({ docker, journal, logger, budgetMs: 300 });
    assert.ok(Date.now() - started < 2_000);
    assert.equal((await journal.pending()).length, 1);
  });
});
