import { Header } from 'tar/header';

export interface CraftedEntry {
  path: string;
  type?: string;
  body?: string;
  linkpath?: string;
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
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: new Date('2024-01-02T03:04:05Z'),
      linkpath: entry.linkpath,
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

