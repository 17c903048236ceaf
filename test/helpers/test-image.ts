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
