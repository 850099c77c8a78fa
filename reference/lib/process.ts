// Process and port helpers shared by the reference-broker launchers (reference/kafka, reference/rocketmq)
// and what builds on them (bench/, conformance/): run a tool with a bound, stop a child politely then
// firmly, find a free loopback port, wait for one to accept. Only ever signals its own children.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
  timedOut: boolean;
  ms: number;
}

export function run(
  cmd: string,
  args: string[],
  opts: {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    signal?: AbortSignal;
    onStdoutLine?: (line: string) => void;
  } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let partial = '';
    let error: Error | undefined;
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => {
      out.push(chunk);
      if (opts.onStdoutLine) {
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) opts.onStdoutLine(line);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (e) => {
      error = e;
    });
    const onAbort = () => void terminate(child, 5_000);
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        void terminate(child, 5_000);
      }, opts.timeoutMs);
    }
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (partial && opts.onStdoutLine) opts.onStdoutLine(partial);
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code,
        signal,
        error,
        timedOut,
        ms: performance.now() - started,
      });
    });
  });
}

export function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

export function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/** SIGTERM to this child's pid (shutdown hooks flush), SIGKILL after graceMs. Never signals anything but the child itself. */
export async function terminate(child: ChildProcess, graceMs: number): Promise<'exited' | 'sigterm' | 'sigkill'> {
  if (exited(child)) return 'exited';
  child.kill('SIGTERM');
  if (await waitExit(child, graceMs)) return 'sigterm';
  child.kill('SIGKILL');
  await waitExit(child, 10_000);
  return 'sigkill';
}

export function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A TCP port on 127.0.0.1 that was free a moment ago (bound to 0, then closed). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** One connection attempt to 127.0.0.1:port: true when it is accepted within timeoutMs. */
export function canConnect(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(timeoutMs);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Resolves true once a TCP connection to 127.0.0.1:port succeeds, false if none does within ms. */
export async function waitForPort(port: number, ms: number, alive: () => boolean = () => true): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && alive()) {
    if (await canConnect(port)) return true;
    await sleep(200);
  }
  return false;
}

/** The last lines of a file ('' when it cannot be read). */
export function tailOfFile(file: string, lines: number): string {
  try {
    return tail(fs.readFileSync(file, 'utf8'), lines);
  } catch {
    return '';
  }
}
