/**
 * .env.example documents every setting, and copying it to .env changes nothing: a variable added
 * to CONFIG_VARS without a line there fails here.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONFIG_VARS, readDotEnv } from '../../src/supervisor/config';

const ROOT = path.resolve(__dirname, '../..');
const example = fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8');

test('every variable of CONFIG_VARS has a commented-out line in .env.example', () => {
  const missing = Object.keys(CONFIG_VARS).filter((name) => !new RegExp(`^# ${name}=`, 'm').test(example));
  expect(missing).toEqual([]);
});

test('.env.example copied to .env sets nothing', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentvisor-envexample-'));
  try {
    fs.copyFileSync(path.join(ROOT, '.env.example'), path.join(dir, '.env'));
    expect(readDotEnv(dir)).toEqual({});
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
