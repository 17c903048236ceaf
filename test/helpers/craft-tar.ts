import { Header } from 'tar/header';

export interface CraftedEntry {
  path: string;
  type?: string;
  body?: string;
  linkpath?: string;
  /** Defaults: 0o644, owned by root, 2024-01-02T03:04:05Z. */
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
}

/** A tar stream written header by header, to say exactly what a hostile archive would. */
export function craftTar(entries: CraftedEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.body ?? '');
    const header = new Header({
      path: entry.path,
      type: (entry.type ?? 'File') as 'File',
      size: body.length,
      mode: entry.mode ?? 0o644,
      uid: entry.uid ?? 0,
      gid: entry.gid ?? 0,
      mtime: entry.mtime ?? new Date('2024-01-02T03:04:05Z'),
      linkpath: entry.linkpath,
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

