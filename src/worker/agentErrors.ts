/**
 * Recognises the agents' own failure messages (bad key, unreachable model,
 * refusal to run as root) and says each in one line a user can act on.
 */
const PATTERNS: Array<[RegExp, string]> = [
  // "Failed to authenticate. API Error: 401 …" is what Claude Code 2.1 itself says for any 401,
  // whatever the provider's own message (a gateway need not say "invalid x-api-key").
  [
    /invalid x-api-key|authentication_error|invalid api key|401 Unauthorized|Incorrect API key|HTTP 401\b|Failed to authenticate|API Error: 401\b/i,
    'the model provider rejected the API key (not logged in or a wrong key)',
  ],
  // Codex 0.169 without the key its provider names: "Missing environment variable: `OPENAI_API_KEY`."
  [/not logged in|please run \/login|Missing API key|OPENAI_API_KEY.*not set|no api key|Missing environment variable: `?\w*API_KEY/i, 'the agent is not logged in and has no API key'],
  // Codex 0.169: "Connection failed: error sending request", or while it waits for the network
  // (unbounded_connection_retries) "Reconnecting... waiting for network".
  [/ECONNREFUSED|Connection refused|ENOTFOUND|getaddrinfo|stream disconnected|error sending request|Unable to connect|fetch failed|waiting for network/i, 'the model server could not be reached'],
  [/--dangerously-skip-permissions cannot be used with root/i, 'Claude Code refuses full mode as root without IS_SANDBOX=1'],
];

export function summarizeAgentError(text: string): string | null {
  for (const [re, summary] of PATTERNS) if (re.test(text)) return summary;
  return null;
}
