/** The Docker volume plugin protocol as the driver sees it: one method per route, plain values in and out. */
export interface VolumeInfo {
  Name: string;
  Mountpoint: string;
  CreatedAt: string;
  Status: Record<string, unknown>;
}

export interface VolumeSummary {
  Name: string;
  Mountpoint: string;
  CreatedAt: string;
}

export interface VolumeDriver {
  create(name: string, options: Record<string, string>): Promise<void>;
  remove(name: string): Promise<void>;
  mount(name: string, mountId: string): Promise<string>;
  unmount(name: string, mountId: string): Promise<void>;
  path(name: string): Promise<string>;
  get(name: string): Promise<VolumeInfo>;
  list(): Promise<VolumeSummary[]>;
}
