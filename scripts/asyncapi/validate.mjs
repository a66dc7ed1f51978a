// Parse an AsyncAPI document with the AsyncAPI initiative's own parser (@asyncapi/parser: the
// specification's schema plus its semantic rules) and print {parsed, diagnostics} as JSON.
// Run by scripts/asyncapi-validate, which installs the parser.
import { Parser } from '@asyncapi/parser';
import { readFileSync } from 'node:fs';
const parser = new Parser();
const text = readFileSync(process.argv[2], 'utf8');
const { document, diagnostics } = await parser.parse(text);
const out = diagnostics.map(d => ({ severity: d.severity, code: d.code, message: d.message, path: d.path.join('/') }));
console.log(JSON.stringify({ parsed: document !== undefined, diagnostics: out }));
