// Consumes a session event stream with the official TypeScript SDK, for side-by-side runs
// against the Rust client (bench/consume_compare.sh).
//
//   node consume.mjs <base_url> <session_id> [--verbose]
//
// Iterates `client.beta.sessions.events.stream(sessionId)` (SDK 1.14.0:
// `stream(sessionID, params?, options?): APIPromise<Stream<BetaManagedAgentsStreamSessionEvents>>`),
// counts the events, stops at a terminal event (`session.status_terminated` / `session.deleted`,
// as the reference says a client should) or at the end of the body, and prints
// `events=<n> unknown=0 last=<type>` — the Rust example's final line. The SDK does not check
// event types, so `unknown` is always 0 here.
import Anthropic from '@anthropic-ai/sdk';

const args = process.argv.slice(2);
const verbose = args.includes('--verbose');
const [baseURL, sessionId] = args.filter((a) => a !== '--verbose');
if (!baseURL || !sessionId) {
  console.error('usage: node consume.mjs <base_url> <session_id> [--verbose]');
  process.exit(2);
}

const client = new Anthropic({ apiKey: process.env.ANTHROPIC_API_KEY ?? 'bench', baseURL });
const TERMINAL = new Set(['session.status_terminated', 'session.deleted']);

let events = 0;
let last = '';
const stream = await client.beta.sessions.events.stream(sessionId);
for await (const event of stream) {
  events += 1;
  last = event.type;
  if (verbose) console.error(`${event.type} ${event.id ?? ''}`);
  if (TERMINAL.has(event.type)) break;
}
console.log(`events=${events} unknown=0 last=${last}`);
