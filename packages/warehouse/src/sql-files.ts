import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Dialect } from './warehouse.js';

const SQL_ROOT = fileURLToPath(new URL('../sql/', import.meta.url));

// The pack ships with the code and never changes while a process runs: each file and each
// dialect's listing is read once (the dashboard runs several named queries per request).
const sqlCache = new Map<string, string>();
const listCache = new Map<Dialect, QueryPackEntry[]>();

/** A line `-- include: _name` stands for the file `_name.sql` (of the same dialect, or common). */
const INCLUDE = /^[ \t]*-- include: (_[a-z0-9-]+)[ \t]*\n/gm;

/**
 * Reads `sql/<dialect>/<name>.sql`, falling back to `sql/common/<name>.sql` when a dialect
 * needs no variant of its own, with its includes in place (the text a warehouse runs).
 */
export function readSql(dialect: Dialect, name: string): string {
  const key = `${dialect}/${name}`;
  const cached = sqlCache.get(key);
  if (cached !== undefined) return cached;
  for (const folder of [dialect, 'common']) {
    const file = `${SQL_ROOT}${folder}/${name}.sql`;
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8').replace(INCLUDE, (_, part: string) => readSql(dialect, part));
      sqlCache.set(key, text);
      return text;
    }
  }
  throw new Error(`no SQL file ${name}.sql for ${dialect}`);
}

/** Splits a file of several statements on lines that end with `;`. */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*(?:\n|$)/)
    .map((statement) => statement.replace(/^\s*--.*$/gm, '').trim())
    .filter((statement) => statement.length > 0);
}

export interface QueryPackEntry {
  name: string;
  /** The header's `-- answers:` line: what question the query answers. */
  answers: string;
  /** The header's `-- params:` line. */
  params: string[];
  /** The header's `-- columns:` line: the columns of every row, in order (a test holds each query to it). */
  columns: string[];
}

/** The named queries of the pack (files in `sql/common` plus dialect-only ones), from their headers. */
export function listQueries(dialect: Dialect): QueryPackEntry[] {
  const cached = listCache.get(dialect);
  if (cached) return cached;
  const names = new Set<string>();
  for (const folder of ['common', dialect]) {
    const dir = `${SQL_ROOT}${folder}/`;
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir)) {
      if (file.endsWith('.sql') && !file.startsWith('_')) names.add(file.slice(0, -4));
    }
  }
  const entries = [...names].sort().map((name) => {
    const text = readSql(dialect, name);
    const header = (key: string) => new RegExp(`^-- ${key}:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
    const list = (key: string) => header(key).split(',').map((p) => p.trim()).filter(Boolean);
    return { name, answers: header('answers'), params: list('params'), columns: list('columns') };
  });
  listCache.set(dialect, entries);
  return entries;
}
