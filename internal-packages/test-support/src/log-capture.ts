/** A pino destination that keeps every line, so tests can read the logs and scan them for secrets. */
export class LogCapture {
  readonly lines: string[] = [];

  write(line: string): void {
    this.lines.push(line);
  }

  get text(): string {
    return this.lines.join('');
  }

  /** Parsed lines whose `msg` is `message`. */
  events(message: string): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.msg === message);
  }
}
