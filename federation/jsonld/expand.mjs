// Expands ActivityPub documents with jsonld.js and reports every property and type
// the expansion cannot map to an IRI: what a JSON-LD consumer of Tacit's documents
// would lose. Contexts are loaded from local copies only; no network is used.
//
// Usage: node expand.mjs DOCUMENTS.json CONTEXT_DIR
// DOCUMENTS.json holds a JSON object {"name": document, …}. The report is a JSON
// object {"name": ["what was lost", …]} on standard output; the exit status is 1
// when anything was lost.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import jsonld from 'jsonld';

const [docsPath, contextDir] = process.argv.slice(2);
if (!docsPath || !contextDir) {
  console.error('usage: node expand.mjs DOCUMENTS.json CONTEXT_DIR');
  process.exit(2);
}

// The published contexts Tacit's documents name, by every spelling in use.
const contextFiles = {
  'https://www.w3.org/ns/activitystreams': 'activitystreams.jsonld',
  'http://www.w3.org/ns/activitystreams': 'activitystreams.jsonld',
  'https://w3id.org/security/v1': 'security-v1.jsonld',
};

const loaded = new Map();
async function documentLoader(url) {
  const file = contextFiles[url.replace(/#$/, '')];
  if (!file) {
    throw new Error(`no local copy of the context ${url}`);
  }
  if (!loaded.has(file)) {
    loaded.set(file, JSON.parse(await readFile(path.join(contextDir, file), 'utf8')));
  }
  return { contextUrl: null, documentUrl: url, document: loaded.get(file) };
}

// lost walks an expanded document: a property or type that is not an absolute IRI
// (the ActivityStreams context maps unknown terms to blank-node IRIs, "_:term") is
// something the document's context does not define.
function lost(node, where, out) {
  if (Array.isArray(node)) {
    node.forEach((n) => lost(n, where, out));
    return;
  }
  if (node === null || typeof node !== 'object') {
    return;
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === '@type') {
      for (const t of [].concat(value)) {
        if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(t)) {
          out.push(`${where}: type ${t}`);
        }
      }
      continue;
    }
    if (key.startsWith('@')) {
      lost(value, where, out);
      continue;
    }
    if (!/^[a-z][a-z0-9+.-]*:/i.test(key) || key.startsWith('_:')) {
      out.push(`${where}: property ${key}`);
    }
    lost(value, `${where}/${key.replace(/^.*[#/:]/, '')}`, out);
  }
}

const docs = JSON.parse(await readFile(docsPath, 'utf8'));
const report = {};
let failed = false;
for (const [name, doc] of Object.entries(docs)) {
  const problems = [];
  try {
    const expanded = await jsonld.expand(doc, { documentLoader });
    lost(expanded, name, problems);
    // Safe mode fails on anything lost that the walk above cannot see (a value
    // dropped for its shape).
    await jsonld.expand(doc, { documentLoader, safe: true });
  } catch (err) {
    problems.push(`${name}: ${err.message}${err.details ? ' ' + JSON.stringify(err.details).slice(0, 300) : ''}`);
  }
  if (problems.length > 0) {
    failed = true;
    report[name] = [...new Set(problems)];
  }
}
process.stdout.write(JSON.stringify(report, null, 2) + '\n');
process.exit(failed ? 1 : 0);
