import { type FSWatcher, promises as fs, watch } from 'node:fs';

/**
 * Wakes its listeners when an inbox directory may have new mail: on every file-system event in it, and on
 * a periodic scan that finds it non-empty, because watching is unreliable or absent on some file systems
 * (network mounts, some containers). Listeners re-read the inbox; a wake-up is a hint, never a message.
 */
export class InboxWatch {
  private readonly dir: string;
  private readonly scanMs: number;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<() => void>();
  private started: Promise<void> | undefined;

  /** `check` refuses a folder reached through a symbolic link (`StorePaths.checked`): it is never watched. */
  constructor(
    dir: string,
    scanMs = 1000,
    private readonly check: (dir: string) => Promise<unknown> = async () => {},
  ) {
    this.dir = dir;
    this.scanMs = scanMs;
  }

  /** Starts watching; the directory is created so that it can be watched before the first message. */
  start(): Promise<void> {
    this.started ??= (async () => {
      await this.check(this.dir);
      await fs.mkdir(this.dir, { recursive: true });
      try {
        this.watcher = watch(this.dir, { persistent: false }, () => this.emit());
        this.watcher.on('error', () => {
          this.watcher?.close();
          this.watcher = undefined;
        });
      } catch {
        // No watching here: the scan below still finds new mail.
      }
      this.timer = setInterval(() => void this.scan(), this.scanMs);
      this.timer.unref();
    })();
    return this.started;
  }

  private async scan(): Promise<void> {
    if (this.listeners.size === 0) return;
    const names = await fs.readdir(this.dir).catch(() => [] as string[]);
    if (names.some((n) => n.endsWith('.json'))) this.emit();
  }

  private emit(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** Calls `listener` on every wake-up until the returned function is called. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves true on the next wake-up, false when `timeoutMs` passes or `signal` aborts first. */
  next(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve(false);
      const finish = (woke: boolean) => {
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener('abort', onAbort);
        resolve(woke);
      };
      const onAbort = () => finish(false);
      const timer = setTimeout(() => finish(false), Math.max(0, timeoutMs));
      const unsubscribe = this.subscribe(() => finish(true));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.timer) clearInterval(this.timer);
    this.listeners.clear();
  }
}
