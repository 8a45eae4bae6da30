import { type FSWatcher, watch } from 'node:fs';
import type { Problem } from '../log/store.js';
import type { RelayContext } from '../relay/context.js';
import {
  type DashboardView,
  type RemoteSessions,
  readDashboard,
  readRemoteSessions,
} from '../relay/dashboard.js';

export interface FeedOptions {
  readonly ctx: RelayContext;
  /** Problems the store reported, shared with the context's problem sink. */
  readonly problems: readonly Problem[];
  /** A fallback re-read for file systems where watching misses events, and for liveness to age. */
  readonly scanMs?: number;
  readonly remoteEveryMs?: number;
}

/**
 * The current view of the store and who wants to hear when it changes. A change anywhere under the root
 * (watched recursively where the platform can) or the periodic scan re-reads the store; listeners hear
 * only when the view differs from the last one. One read runs at a time; wake-ups during it fold into one.
 */
export class DashboardFeed {
  private readonly options: FeedOptions;
  private current: DashboardView | undefined;
  private currentText = '';
  private readonly listeners = new Set<(view: DashboardView) => void>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private remote: RemoteSessions | undefined;
  private remoteAt = 0;

  constructor(options: FeedOptions) {
    this.options = options;
  }

  async start(): Promise<void> {
    try {
      this.watcher = watch(this.options.ctx.store.root, { recursive: true, persistent: false }, () =>
        this.wake(),
      );
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      // No root yet, or no recursive watch here: the scan still finds every change.
    }
    this.timer = setInterval(() => this.wake(), this.options.scanMs ?? 1000);
    await this.refresh();
  }

  close(): void {
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    this.listeners.clear();
  }

  /** The last view read; `refresh` has run once by the time `start` resolves. */
  get view(): DashboardView | undefined {
    return this.current;
  }

  subscribe(listener: (view: DashboardView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  wake(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    void this.refresh();
  }

  /** Re-reads the store now; resolves once the view is current. */
  refresh(): Promise<void> {
    this.running ??= (async () => {
      do {
        this.again = false;
        await this.read();
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async read(): Promise<void> {
    const { ctx } = this.options;
    if (ctx.config.remote && Date.now() - this.remoteAt >= (this.options.remoteEveryMs ?? 5000)) {
      this.remote = await readRemoteSessions(ctx, 2000);
      this.remoteAt = Date.now();
    }
    const view = await readDashboard(ctx, { remote: this.remote, problems: this.options.problems });
    // The time alone changing is no news: the page counts uptimes itself.
    const text = JSON.stringify({ ...view, now: 0 });
    if (text === this.currentText) return;
    this.current = view;
    this.currentText = text;
    for (const listener of this.listeners) listener(view);
  }
}
