// Parses each EML file named on the command line with npm's mailparser (an
// implementation independent of ours) and prints what it found as JSON, for
// archive's Go tests to compare. Usage: node parse_eml.js NODE_MODULES FILE...
'use strict';
const path = require('path');
const fs = require('fs');
const crypto = require('crypto');
const { simpleParser } = require(path.join(process.argv[2], 'mailparser'));

function addresses(a) {
  if (!a) return [];
  return a.value.map((v) => ({ name: v.name, address: v.address }));
}

async function parse(file) {
  const m = await simpleParser(fs.readFileSync(file));
  const headers = {};
  for (const [k, v] of m.headers) {
    if (k.startsWith('x-multiline-')) headers[k] = String(v);
  }
  return {
    subject: m.subject,
    from: addresses(m.from),
    to: addresses(m.to),
    date: m.date ? m.date.toISOString() : '',
    messageId: m.messageId,
    headers,
    text: m.text,
    html: m.html || '',
    attachments: m.attachments.map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      size: a.size,
      sha256: crypto.createHash('sha256').update(a.content).digest('hex'),
    })),
  };
}

(async () => {
  const out = [];
  for (const f of process.argv.slice(3)) out.push(await parse(f));
  process.stdout.write(JSON.stringify(out));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
