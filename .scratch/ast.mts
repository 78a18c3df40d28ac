import { parseSql } from '../src/lint/parser.js';
const sql = process.argv[2]!;
for (const s of await parseSql(sql)) console.log(s.kind, JSON.stringify(s.node));
