// Runs a command with its output held back: nothing is shown when it succeeds, everything (and its exit
// code) when it fails. On a terminal one line says what runs meanwhile, and is erased when it is done.
//
//   node examples/demo/scripts/quiet.mjs pnpm run build
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
if (command === undefined) {
  console.error('usage: node quiet.mjs <command> [arguments…]');
  process.exit(2);
}
const shown = [command, ...args].join(' ');
const progress = process.stderr.isTTY === true;
if (progress) process.stderr.write(`Running ${shown} (its output is shown only if it fails)…`);
const done = () => {
  if (progress) process.stderr.write('\r\u001b[K');
};

// stdout and stderr in one buffer, in the order they came, as a terminal would have shown them.
const output = [];
// A shell on Windows only, where pnpm is a .cmd script that spawn cannot start by itself.
const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' });
child.stdout.on('data', (chunk) => output.push(chunk));
child.stderr.on('data', (chunk) => output.push(chunk));
child.on('error', (error) => {
  done();
  console.error(`${shown} could not start: ${error.message}`);
  process.exit(1);
});
child.on('close', (code, signal) => {
  done();
  if (code === 0) return;
  process.stderr.write(Buffer.concat(output));
  console.error(`\n${shown} failed (${signal ?? `exit code ${code}`}).`);
  process.exit(code ?? 1);
});
