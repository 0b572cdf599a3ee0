/**
 * The YAML reader's two parsers must agree: js-yaml reads the values, `yaml`
 * the positions and the messages for malformed input (see yamlFile.ts). Here:
 * the same values from both on every bundled file and on scalars where YAML
 * 1.1 and 1.2 differ, and the errors of bad files.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { InvalidInputError } from '../core/errors.ts';
import { thrown, tempFileWriter } from '../../test/helpers.ts';
import { readYamlFile } from './yamlFile.ts';

const write = tempFileWriter('yaml');

describe('readYamlFile', () => {
  it('reads every bundled example as `yaml` does', () => {
    const examples = resolve(import.meta.dirname, '../../examples');
    const names = readdirSync(examples).filter((n) => n.endsWith('.yaml'));
    expect(names.length).toBeGreaterThanOrEqual(5);
    for (const name of names) {
      const path = join(examples, name);
      expect(readYamlFile(path, 'file').raw, name).toEqual(parse(readFileSync(path, 'utf8')));
    }
  });

  it('reads each document of the real Online Boutique manifests as `yaml` does', () => {
    const text = readFileSync(resolve(import.meta.dirname, '../../data/online-boutique/kubernetes-manifests.yaml'), 'utf8');
    const documents = parseAllDocuments(text);
    expect(Array.isArray(documents) && documents.length).toBeGreaterThan(20);
    for (const doc of Array.isArray(documents) ? documents : []) {
      const path = write(doc.toString());
      expect(readYamlFile(path, 'file').raw).toEqual(doc.toJS());
    }
  });

  it('reads YAML 1.2 core scalars as `yaml` does (dates and yes/no stay strings), binary integers aside', () => {
    const text = `a: yes
b: No
c: on
d: 0o14
e: 0x1F
f: 012
g: .nan
h: -.inf
i: ~
j: null
k: 2014-09-08
l: 2014-09-08T10:00:00Z
m: 1e3
n: "1e3"
o: +12
p: 1_000
q: 0b101
r: True
s: 3.
t: !!str 12
u: &x [1, 2]
v: *x
w: ''
x:
y: 12:30
z: 1:20:30
`;
    const raw = readYamlFile(write(text), 'file').raw as Record<string, unknown>;
    const expected = parse(text) as Record<string, unknown>;
    // NaN is not equal to itself: compared apart. The one difference: js-yaml
    // reads 0b101 as the number 5, `yaml` (strict 1.2 core) as a string.
    expect(Number.isNaN(raw.g)).toBe(true);
    expect(raw.q).toBe(5);
    expect(expected.q).toBe('0b101');
    expect({ ...raw, g: 0, q: 0 }).toEqual({ ...expected, g: 0, q: 0 });
    expect(raw.a).toBe('yes');
    expect(raw.k).toBe('2014-09-08');
    expect(raw.d).toBe(12);
  });

  it('reads an empty file as null, as `yaml` does', () => {
    expect(readYamlFile(write(''), 'file').raw).toBeNull();
    expect(readYamlFile(write('# only a comment\n'), 'file').raw).toBeNull();
  });

  it('names a duplicate key and malformed YAML with the line and column `yaml` gives', () => {
    const duplicate = thrown(() => readYamlFile(write('a: 1\nb: 2\na: 3\n'), 'file'));
    expect(duplicate).toBeInstanceOf(InvalidInputError);
    expect(duplicate.message).toMatch(/f\d+\.yaml:3:1: malformed YAML: Map keys must be unique/);
    const unclosed = thrown(() => readYamlFile(write('a: [1, 2\nb: 3\n'), 'file'));
    expect(unclosed.message).toMatch(/f\d+\.yaml:\d+:\d+: malformed YAML: /);
    expect(thrown(() => readYamlFile(write('a: 1\n---\nb: 2\n'), 'file')).message).toMatch(/malformed YAML: Source contains multiple documents/);
  });

  it('finds the line of a value only when asked, and of its nearest ancestor when the value is absent', () => {
    const file = readYamlFile(write('pools:\n  - name: a\n    cpu: 4\n  - name: b\n'), 'file');
    expect(file.lineOf(['pools', 1, 'name'])).toBe(4);
    expect(file.lineOf(['pools', 0, 'cpu'])).toBe(3);
    expect(file.lineOf(['pools', 1, 'memory'])).toBe(4);
  });
});
