import { serveWorkerTask } from '../shared/worker-task';
import { walkMirror, type MirrorCounts } from './mirror-walk';
import { SettledEntries } from './settled-entries';
import { encodeCounts, type MirrorWorkerSetup } from './sync-mirror';

// The mirror worker's entry point; sync-mirror.ts says why the walk runs in a worker, and why one worker
// makes both passes of a sync snapshot. Between them it sleeps until the main thread gives back the
// buffer of the live pass's counts (the go), or stops the task (WorkerStopped then ends it). The pass
// after the stop trusts what the live pass left in sync and has not changed since (settled-entries.ts).
serveWorkerTask<MirrorWorkerSetup, MirrorCounts>((setup, port) => {
  if (setup.passes === 'one') return walkMirror(setup);
  const settled = new SettledEntries();
  const live = encodeCounts(walkMirror({ ...setup, sourceIsLive: true }, { record: settled }));
  port.send(live.buffer, live.length);
  port.waitForReturn();
  return walkMirror({ ...setup, sourceIsLive: false }, { trust: settled });
});
