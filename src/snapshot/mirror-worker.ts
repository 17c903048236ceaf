import { serveWorkerTask } from '../shared/worker-task';
import { walkMirror, type MirrorCounts, type MirrorWalkSetup } from './mirror-walk';

// The mirror worker's entry point; sync-mirror.ts says why the walk runs in a worker.
serveWorkerTask<MirrorWalkSetup, MirrorCounts>((setup) => walkMirror(setup));
