/** Label names shared with offen/docker-volume-backup, so existing stacks work unchanged. */
export const LABELS = {
  stop: 'docker-volume-backup.stop-during-backup',
  stopNoRestart: 'docker-volume-backup.stop-during-backup-no-restart',
  archivePre: 'docker-volume-backup.archive-pre',
  archivePost: 'docker-volume-backup.archive-post',
} as const;
