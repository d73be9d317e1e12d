/** What a job records about its files (job.storage). Paths are in stored form, with variables. */
export interface JobStorage {
  mode: 'direct' | 'copy' | 'shaman';
  input: string;
  effectivePath: string;
  /** Shaman: the checkout's path relative to the checkout root. */
  checkout?: string;
  files?: number;
  bytesHashed?: number;
  bytesUploaded?: number;
}
