import { formatTime } from '@rta/warehouse/query-output';

/** Where progress goes: stderr, so that stdout keeps only the flush's summary. */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * Progress of a long catch-up (`cli flush` with a backlog of many minutes): minutes done of
 * the total, rows per second and the time left. On a terminal one line is redrawn in place
 * (at most 5 times a second) and cleared at the end; elsewhere (a log, a pipe) a plain line
 * is written each time another tenth of the minutes is done. A backlog of one minute shows
 * nothing. Minutes are flushed oldest first, so every pending minute before the one being
 * loaded is done.
 */
export class FlushProgress {
  private readonly minutes = new Set<number>();
  private readonly started: number;
  private rows = 0;
  private done = 0;
  private lastDraw = -Infinity;
  private lastTenth = 0;
  private drawn = false;

  constructor(
    private readonly out: ProgressStream,
    private readonly clock: () => number = Date.now,
  ) {
    this.started = clock();
  }

  /** Minutes the flush found pending (it may look more than once). */
  addPending(minutes: Iterable<number>): void {
    for (const minute of minutes) this.minutes.add(minute);
  }

  /** A batch of `minute` with `rows` rows reached the warehouse. */
  loaded(minute: number, rows: number): void {
    this.rows += rows;
    let before = 0;
    for (const m of this.minutes) if (m < minute) before++;
    this.done = Math.max(this.done, before);
    this.report(minute);
  }

  /** The flush ended: the last plain line says 100 %; the terminal line is cleared (also after a failure). */
  finish(succeeded: boolean): void {
    if (this.minutes.size < 2) return;
    if (this.out.isTTY) {
      if (this.drawn) this.out.write('\r\x1b[K');
      return;
    }
    if (!succeeded || this.lastTenth === 10) return;
    this.done = this.minutes.size;
    this.lastTenth = 10;
    this.out.write(`${this.line()}\n`);
  }

  private report(minute: number): void {
    if (this.minutes.size < 2) return;
    const now = this.clock();
    if (this.out.isTTY) {
      if (now - this.lastDraw < 200) return;
      this.lastDraw = now;
      this.drawn = true;
      this.out.write(`\r\x1b[K${this.line()}, at ${formatTime(new Date(minute))}`);
      return;
    }
    const tenth = Math.floor((this.done / this.minutes.size) * 10);
    if (tenth <= this.lastTenth) return;
    this.lastTenth = tenth;
    this.out.write(`${this.line()}\n`);
  }

  private line(): string {
    const total = this.minutes.size;
    const seconds = Math.max(this.clock() - this.started, 1) / 1_000;
    const left = this.done === 0 || this.done >= total ? '' : `, about ${duration((seconds * (total - this.done)) / this.done)} left`;
    const percent = Math.floor((this.done / total) * 100);
    return `flushing: ${this.done}/${total} minutes (${percent} %), ${Math.round(this.rows / seconds).toLocaleString('en-US')} rows/s${left}`;
  }
}

/** `45 s`, `3 min 20 s`, `2 h 5 min`. */
export function duration(seconds: number): string {
  const s = Math.max(1, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3_600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3_600)} h ${Math.floor((s % 3_600) / 60)} min`;
}
