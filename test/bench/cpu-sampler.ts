import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime: 100 on every Linux this runs on (USER_HZ). */
const TICKS_PER_SECOND = 100;

export interface CpuShare {
  /** Cores used on average over the window, per group (1.0 = one core busy all the time). */
  cores: Record<string, number>;
  /** Cores the whole machine used (from /proc/stat), whoever used them. */
  machineCores: number;
  /** Cores the machine has. */
  machineTotal: number;
  seconds: number;
}

interface Snapshot {
  at: number;
  perPid: Map<number, { group: string; ticks: number }>;
  machineBusy: number;
  machineAll: number;
}

/**
 * Where the CPU went during a window, from /proc: our worker processes, Postgres backends, Redis, the benchmark's own
 * process (which hosts the fake provider), pgbench, and everything else on the (shared) machine. It names the
 * bottleneck when a figure stops growing: a group near the machine's cores, or a machine with idle cores left.
 */
export class CpuSampler {
  readonly #groups: Map<number, string>;

  readonly #services: ServicePids;

  /**
   * `pids` names processes of ours (workers) by group. The shared machine may run other Postgres and Redis servers
   * (a chaos run's own): only the children of our postmaster count as `postgres`, only our server as `redis`.
   */
  constructor(services: ServicePids, pids: Record<string, readonly number[]> = {}) {
    this.#services = services;
    this.#groups = new Map();
    for (const [group, list] of Object.entries(pids)) for (const pid of list) this.#groups.set(pid, group);
    this.#groups.set(process.pid, 'bench+provider');
  }

  start(): () => CpuShare {
    const first = this.#snapshot();
    return () => this.#diff(first, this.#snapshot());
  }

  #snapshot(): Snapshot {
    const perPid = new Map<number, { group: string; ticks: number }>();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const pid = Number(name);
      let text: string;
      try {
        text = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      const close = text.lastIndexOf(')');
      const comm = text.slice(text.indexOf('(') + 1, close);
      const fields = text.slice(close + 2).split(' ');
      // Fields after the command: state(0) ppid(1) ... utime(11) stime(12).
      const ticks = Number(fields[11]) + Number(fields[12]);
      const ppid = Number(fields[1]);
      perPid.set(pid, { group: this.#groups.get(pid) ?? this.#groupOf(pid, ppid, comm), ticks });
    }
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
    const all = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
    return { at: Date.now(), perPid, machineBusy: all - idle, machineAll: all };
  }

  #diff(a: Snapshot, b: Snapshot): CpuShare {
    const seconds = (b.at - a.at) / 1_000;
    const cores: Record<string, number> = {};
    for (const [pid, now] of b.perPid) {
      const before = a.perPid.get(pid)?.ticks ?? 0; // a process born inside the window counts from zero
      const used = Math.max(0, now.ticks - before) / TICKS_PER_SECOND / seconds;
      cores[now.group] = (cores[now.group] ?? 0) + used;
    }
    for (const k of Object.keys(cores)) cores[k] = round(cores[k]!);
    const allTicks = b.machineAll - a.machineAll;
    const machineTotal = allTicks / TICKS_PER_SECOND / seconds;
    return {
      cores: Object.fromEntries(
        Object.entries(cores)
          .filter(([, v]) => v >= 0.01)
          .sort((x, y) => y[1] - x[1]),
      ),
      machineCores: round((b.machineBusy - a.machineBusy) / TICKS_PER_SECOND / seconds),
      machineTotal: Math.round(machineTotal),
      seconds: round(seconds),
    };
  }

  #groupOf(pid: number, ppid: number, comm: string): string {
    const pg = this.#services.postmaster;
    if (pg !== null && (pid === pg || ppid === pg)) return 'postgres';
    if (pid === this.#services.redis) return 'redis';
    if (comm === 'pgbench') return 'pgbench';
    return 'other';
  }
}

/** Our Postgres's postmaster and our Redis server, when they run on this machine (null otherwise). */
export interface ServicePids {
  postmaster: number | null;
  redis: number | null;
}

/** The parent of a process (a backend's parent is the postmaster), or null. */
export function parentPid(pid: number): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Resident set size of a process in bytes (VmRSS), or null once it has exited. */
export function rssBytes(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}
