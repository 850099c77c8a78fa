import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { captureLog, deferred } from '../test/helpers.ts';
import { createShutdownHandler, helpText, main, version, type CliIO } from './cli.ts';
import { configKeys, envName, flagName, keySchema } from './config/index.ts';

function fakeIO(env: Record<string, string> = {}, files: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    env,
    readFile: (path) => {
      if (!Object.hasOwn(files, path)) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
      return files[path]!;
    },
  };
  return { io, out: () => out.join(''), err: () => err.join('') };
}

describe('diglot command line (in process)', () => {
  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const arg of ['--version', '-v', 'version']) {
      const t = fakeIO();
      assert.equal(await main([arg], t.io), 0);
      assert.equal(t.out(), `${pkg.version}\n`);
    }
    assert.equal(version(), pkg.version);
  });

  it('--help lists the commands and every key with its flag, env var, default and description', async () => {
    const t = fakeIO();
    assert.equal(await main(['--help'], t.io), 0);
    const help = t.out();
    assert.equal(help, helpText());
    for (const command of ['diglot start', 'diglot --help', 'diglot --version']) assert.ok(help.includes(command), command);
    for (const key of configKeys) {
      const schema = keySchema(key);
      const block = help.slice(help.indexOf(`  ${flagName(key)} `));
      const entry = block.slice(0, block.indexOf('\n\n'));
      assert.ok(entry.includes(envName(key)), `${key}: env var missing`);
      assert.ok(entry.includes(`file key ${key}`), `${key}: file key missing`);
      assert.ok(entry.includes(schema.description!), `${key}: description missing`);
      assert.ok(entry.includes(`Default: ${schema.default ?? 'unset'}.`), `${key}: default missing`);
    }
  });

  it('start --help shows the help instead of starting', async () => {
    const t = fakeIO();
    assert.equal(await main(['start', '--data-dir', '/x', '--help'], t.io), 0);
    assert.ok(t.out().includes('--data-dir'));
  });

  it('config prints the effective settings and their sources', async () => {
    const t = fakeIO({ DIGLOT_KAFKA_PORT: '19092' }, { 'c.yaml': 'dataDir: /from/file\n' });
    assert.equal(await main(['config', '--config', 'c.yaml', '--admin-port', '0'], t.io), 0);
    const printed = JSON.parse(t.out()) as { config: Record<string, unknown>; sources: Record<string, string> };
    assert.equal(printed.config.dataDir, '/from/file');
    assert.equal(printed.config.kafkaPort, 19092);
    assert.equal(printed.config.adminPort, 0);
    assert.equal(printed.sources.dataDir, 'config file c.yaml');
    assert.equal(printed.sources.kafkaPort, 'env DIGLOT_KAFKA_PORT');
    assert.equal(printed.sources.adminPort, 'flag --admin-port');
    assert.equal(printed.sources.host, 'default');
  });

  it('bad configuration exits 2 with the problem on stderr', async () => {
    const t = fakeIO({ DIGLOT_FLUSH_MODE: 'never' });
    assert.equal(await main(['start'], t.io), 2);
    assert.match(t.err(), /^diglot: bad configuration: invalid flushMode from env DIGLOT_FLUSH_MODE: got "never", expected one of "interval", "always"/);
    assert.equal(t.out(), '');
  });

  it('unknown command exits 2', async () => {
    const t = fakeIO();
    assert.equal(await main(['stat'], t.io), 2);
    assert.match(t.err(), /unknown command "stat"\. Commands: start, config, help, version/);
  });

  it('a flag without a command exits 2 and says where flags go', async () => {
    const t = fakeIO();
    assert.equal(await main(['--data-dir', '/x'], t.io), 2);
    assert.match(t.err(), /settings go after the command: diglot start --data-dir/);
  });

  it('no command exits 2 and shows the help on stderr', async () => {
    const t = fakeIO();
    assert.equal(await main([], t.io), 2);
    assert.match(t.err(), /Usage:[\s\S]*a command is needed/);
  });
});

describe('shutdown on signals', () => {
  function harness(timeoutMs = 5_000) {
    const { logger, lines } = captureLog();
    const started = deferred<{ close(): Promise<void> }>();
    const closed = deferred();
    let closeCalls = 0;
    const server = {
      close: () => {
        closeCalls++;
        return closed.promise;
      },
    };
    const exits: number[] = [];
    const exited = deferred<number>();
    const handler = createShutdownHandler({
      starting: started.promise,
      timeoutMs,
      log: logger,
      exit: (code) => {
        exits.push(code);
        exited.resolve(code);
      },
    });
    return { handler, started, closed, server, exits, exited, lines, closeCalls: () => closeCalls };
  }

  it('first signal closes the server and exits 0', async () => {
    const h = harness();
    h.started.resolve(h.server);
    h.handler.onSignal('SIGTERM');
    assert.equal(h.handler.stopping, true);
    await new Promise((r) => setImmediate(r));
    assert.equal(h.closeCalls(), 1);
    assert.deepEqual(h.exits, [], 'must not exit before close finishes');
    h.closed.resolve();
    assert.equal(await h.exited.promise, 0);
    assert.ok(h.lines.some((l) => l.msg === 'shutdown complete'));
  });

  it('a signal during startup waits for the start, then closes', async () => {
    const h = harness();
    h.handler.onSignal('SIGINT');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(h.closeCalls(), 0);
    h.started.resolve(h.server);
    h.closed.resolve();
    assert.equal(await h.exited.promise, 0);
    assert.equal(h.closeCalls(), 1);
  });

  it('a failing close exits 1', async () => {
    const h = harness();
    h.started.resolve(h.server);
    h.handler.onSignal('SIGTERM');
    h.closed.reject(new Error('fsync failed'));
    assert.equal(await h.exited.promise, 1);
    assert.ok(h.lines.some((l) => l.level === 'fatal' && l.msg === 'shutdown failed'));
  });

  it('a second signal forces exit 1 at once', async () => {
    const h = harness();
    h.started.resolve(h.server);
    h.handler.onSignal('SIGTERM');
    h.handler.onSignal('SIGTERM');
    assert.deepEqual(h.exits, [1]);
    assert.ok(h.lines.some((l) => l.level === 'error' && /second signal/.test(String(l.msg))));
    // A close finishing afterwards does not exit a second time.
    h.closed.resolve();
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(h.exits, [1]);
  });

  it('the deadline forces exit 1 when close hangs', async () => {
    const h = harness(50);
    h.started.resolve(h.server);
    const t0 = Date.now();
    h.handler.onSignal('SIGTERM');
    assert.equal(await h.exited.promise, 1);
    assert.ok(Date.now() - t0 >= 45, 'exited before the deadline');
    assert.ok(h.lines.some((l) => /deadline passed/.test(String(l.msg)) && l.shutdownTimeoutMs === 50));
  });
});
