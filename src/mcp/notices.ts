/** One-time notices (the session was renamed) put before the first answer that can carry them. */
export class Notices {
  private pending: string[] | undefined;
  private readonly initial: () => readonly string[];

  /** `initial` is read at the first answer: a session that is still joining does not know its name yet. */
  constructor(initial: () => readonly string[] = () => []) {
    this.initial = initial;
  }

  prefix(answer: string): string {
    this.pending ??= [...this.initial()];
    if (this.pending.length === 0) return answer;
    const out = [...this.pending, answer].join('\n');
    this.pending = [];
    return out;
  }
}
