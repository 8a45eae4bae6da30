/** One-time notices (the session was renamed) put before the first answer that can carry them. */
export class Notices {
  private pending: string[];

  constructor(initial: readonly string[] = []) {
    this.pending = [...initial];
  }

  prefix(answer: string): string {
    if (this.pending.length === 0) return answer;
    const out = [...this.pending, answer].join('\n');
    this.pending = [];
    return out;
  }
}
