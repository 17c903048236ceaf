import { docker } from './docker-cli';

/** Built by scripts/make-test-image.sh (`make test` does it): busybox, nothing pulled from a registry. */
export const TEST_IMAGE = 'backupvol-test/busybox:latest';

export async function assertTestImage(): Promise<void> {
  try {
    await docker(['image', 'inspect', '--format', '{{.Id}}', TEST_IMAGE]);
  } catch {
    throw new Error(`the image ${TEST_IMAGE} is missing: run scripts/make-test-image.sh (make test does)`);
  }
}

/**
 * A container command that idles but, unlike a bare `sleep` as PID 1, exits on SIGTERM at once, as a
 * service does: `docker stop` then takes milliseconds instead of the whole stop timeout. The sleep runs in
 * the background because sh runs a trap only once its foreground command is done: with `sleep 0.2` in the
 * foreground, every stop took up to 200 ms more.
 */
export const IDLE = ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1 & wait $!; done'];
