/** Short, familiar names for PostgreSQL's format_type() output (shared by every renderer). Pure. */
const SHORT: Array<[RegExp, string]> = [
  [/^character varying/, 'varchar'],
  [/^character\b/, 'char'],
  [/^timestamp\((\d+)\) with time zone$/, 'timestamptz($1)'],
  [/^timestamp with time zone$/, 'timestamptz'],
  [/^timestamp without time zone$/, 'timestamp'],
  [/^time with time zone$/, 'timetz'],
  [/^double precision$/, 'float8'],
  [/^bit varying/, 'varbit'],
];

export function shortType(type: string): string {
  for (const [re, short] of SHORT) if (re.test(type)) return type.replace(re, short);
  return type;
}
