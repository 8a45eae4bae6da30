import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRelayError } from '../../src/errors.js';
import { createEventFile, writeTempFile } from '../../src/log/append.js';
import { makeTempDir } from '../support/home.js';

let root = '';
let tmp = '';
beforeEach(async () => {
  root = await makeTempDir('relay-append-');
  tmp = path.join(root, 'tmp');
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const at = (...parts: string[]) => path.join(root, ...parts);

describe('INV-ATOMIC / INV-ONCE: createEventFile', () => {
  it('given no file, it creates the target with the data, making the directories it needs', async () => {
    expect(await createEventFile(tmp, at('inbox', 'bob', 'a.json'), '{"n":1}')).toBe('created');
    expect(await fs.readFile(at('inbox', 'bob', 'a.json'), 'utf8')).toBe('{"n":1}');
  });

  it('given the target exists, a second create says exists and leaves the first content', async () => {
    await createEventFile(tmp, at('settled', 'bob', 'k.json'), 'first');
    expect(await createEventFile(tmp, at('settled', 'bob', 'k.json'), 'second')).toBe('exists');
    expect(await fs.readFile(at('settled', 'bob', 'k.json'), 'utf8')).toBe('first');
  });

  it('given 20 concurrent creates of one path, exactly one is created and its data is whole', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        createEventFile(tmp, at('settled', 'bob', 'k.json'), `writer ${i}`),
      ),
    );
    expect(results.filter((r) => r === 'created')).toHaveLength(1);
    const winner = results.indexOf('created');
    expect(await fs.readFile(at('settled', 'bob', 'k.json'), 'utf8')).toBe(`writer ${winner}`);
  });

  it('alsoAt makes hard links to the same file, in other directories', async () => {
    await createEventFile(tmp, at('inbox', 'bob', 'k.json'), 'data', {
      alsoAt: [at('sent', 'alice', 'k.json')],
    });
    const [a, b] = await Promise.all([
      fs.stat(at('inbox', 'bob', 'k.json')),
      fs.stat(at('sent', 'alice', 'k.json')),
    ]);
    expect(b.ino).toBe(a.ino);
    expect(a.nlink).toBe(2);
  });

  it('alsoAt tolerates an existing extra link', async () => {
    await fs.mkdir(at('sent', 'alice'), { recursive: true });
    await fs.writeFile(at('sent', 'alice', 'k.json'), 'older');
    expect(
      await createEventFile(tmp, at('inbox', 'bob', 'k.json'), 'data', {
        alsoAt: [at('sent', 'alice', 'k.json')],
      }),
    ).toBe('created');
    expect(await fs.readFile(at('sent', 'alice', 'k.json'), 'utf8')).toBe('older');
  });

  it('leaves no temporary file behind: created, exists or failed', async () => {
    await createEventFile(tmp, at('inbox', 'bob', 'a.json'), 'x');
    await createEventFile(tmp, at('inbox', 'bob', 'a.json'), 'y');
    // Fails after the temp file was written: the extra link's directory cannot be made.
    await fs.writeFile(at('file'), '');
    const failed = createEventFile(tmp, at('inbox', 'bob', 'c.json'), 'z', {
      alsoAt: [at('file', 'c.json')],
    });
    await expect(failed).rejects.toMatchObject({ code: 'store_unwritable' });
    expect(await fs.readdir(tmp)).toEqual([]);
  });

  it('given the target directory was removed after it was cached, then it is made again', async () => {
    await createEventFile(tmp, at('inbox', 'bob', 'a.json'), 'x');
    await fs.rm(at('inbox'), { recursive: true });
    expect(await createEventFile(tmp, at('inbox', 'bob', 'b.json'), 'y')).toBe('created');
    expect(await fs.readdir(at('inbox', 'bob'))).toEqual(['b.json']);
  });

  it('given the whole store was removed after use (tmp/ too), then writing still works', async () => {
    await createEventFile(tmp, at('inbox', 'bob', 'a.json'), 'x');
    await fs.rm(root, { recursive: true });
    expect(await createEventFile(tmp, at('inbox', 'bob', 'b.json'), 'y')).toBe('created');
    expect(await fs.readFile(at('inbox', 'bob', 'b.json'), 'utf8')).toBe('y');
  });

  it('given a path that cannot be a directory, it fails with a RelayError that names the store', async () => {
    await fs.writeFile(at('inbox'), 'a file');
    const e = await createEventFile(tmp, at('inbox', 'bob', 'a.json'), 'x').catch((x: unknown) => x);
    expect(isRelayError(e) && e.code).toBe('store_unwritable');
    expect((e as Error).message).toContain(`The relay store at ${root} failed while writing a.json`);
  });

  it('writeTempFile writes the whole data under tmp/ with a unique name', async () => {
    const names = await Promise.all([1, 2, 3].map((i) => writeTempFile(tmp, `data ${i}`)));
    expect(new Set(names).size).toBe(3);
    for (const [i, name] of names.entries()) {
      expect(path.dirname(name)).toBe(tmp);
      expect(path.basename(name)).toMatch(new RegExp(`^${process.pid}-[0-9a-f]{12}\\.tmp$`));
      expect(await fs.readFile(name, 'utf8')).toBe(`data ${i + 1}`);
    }
  });
});
