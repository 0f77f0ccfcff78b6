/**
 * Measure: what the benchmark reads about processes and samples.
 * - CPU seconds of a process from /proc/<pid>/stat (utime + stime, in clock
 *   ticks of 1/100 s on Linux; all threads of the process);
 * - peak RSS from /proc/<pid>/status VmHWM, reset between workloads by
 *   writing 5 to /proc/<pid>/clear_refs, so each workload gets its own peak;
 * - the client side's CPU seconds: this process (the producer and the
 *   observer of both systems live here), from process.cpuUsage(), reported
 *   apart from the server side so neither system's client cost is hidden;
 * - percentiles and medians of samples.
 */
import { readFileSync, writeFileSync } from "node:fs"

const ticksPerSecond = 100

/** utime + stime of `pid`, in seconds. */
export const cpuSeconds = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  // Fields after the parenthesised command name (which may contain spaces).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond
}

const statusKb = (pid: number, key: string): number => {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith(`${key}:`))
  return line === undefined ? Number.NaN : Number(line.split(/\s+/)[1])
}

/** Peak resident set size of `pid` since start or the last `resetPeak`, in MB. */
export const peakRssMb = (pid: number): number => statusKb(pid, "VmHWM") / 1024

/** Current resident set size of `pid`, in MB. */
export const rssMb = (pid: number): number => statusKb(pid, "VmRSS") / 1024

/** Resets VmHWM to the current RSS (Linux clear_refs 5); false if the kernel refused. */
export const resetPeak = (pid: number): boolean => {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5")
    return true
  } catch {
    return false
  }
}

/** CPU and peak RSS of a set of processes over one workload, and this process's (the client's) CPU. */
export interface Usage {
  /** Server side: the measured processes together. */
  readonly cpuSeconds: number
  readonly peakRssMb: number
  /** Client side: this process (producer and observer), user + system. */
  readonly clientCpuSeconds: number
  readonly perProcess: Record<string, { readonly cpuSeconds: number; readonly peakRssMb: number }>
}

/** Starts measuring `processes` (name -> pid); call the result when the workload is over. */
export const startUsage = (processes: Record<string, number>): (() => Usage) => {
  const clientBefore = process.cpuUsage()
  const before = Object.fromEntries(Object.entries(processes).map(([name, pid]) => {
    resetPeak(pid)
    return [name, cpuSeconds(pid)]
  }))
  return () => {
    const perProcess = Object.fromEntries(Object.entries(processes).map(([name, pid]) =>
      [name, { cpuSeconds: round(cpuSeconds(pid) - before[name]!, 2), peakRssMb: round(peakRssMb(pid), 1) }]))
    const values = Object.values(perProcess)
    const client = process.cpuUsage(clientBefore)
    return {
      clientCpuSeconds: round((client.user + client.system) / 1e6, 2),
      cpuSeconds: round(values.reduce((s, v) => s + v.cpuSeconds, 0), 2),
      peakRssMb: round(values.reduce((s, v) => s + v.peakRssMb, 0), 1),
      perProcess,
    }
  }
}

/** The p-th percentile (nearest rank) of `values`. */
export const percentile = (values: ReadonlyArray<number>, p: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

/** The median of `values` (upper middle for even counts). */
export const median = (values: ReadonlyArray<number>): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

/** Latency summary in ms. */
export interface Latency {
  readonly samples: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly max: number
}

export const summarize = (samplesMs: ReadonlyArray<number>): Latency => ({
  samples: samplesMs.length,
  p50: round(percentile(samplesMs, 50), 3),
  p95: round(percentile(samplesMs, 95), 3),
  p99: round(percentile(samplesMs, 99), 3),
  max: round(Math.max(...samplesMs), 3),
})

export const round = (value: number, digits: number): number => Number(value.toFixed(digits))

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
