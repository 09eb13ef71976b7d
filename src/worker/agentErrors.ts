/**
 * Recognises the agents' own failure messages (bad key, unreachable model,
 * refusal to run as root) and says each in one line a user can act on.
 */
const PATTERNS: Array<[RegExp, string]> = [
  [/invalid x-api-key|authentication_error|invalid api key|401 Unauthorized|Incorrect API key|HTTP 401\b/i, 'the model provider rejected the API key (not logged in or a wrong key)'],
  [/not logged in|please run \/login|Missing API key|OPENAI_API_KEY.*not set|no api key/i, 'the agent is not logged in and has no API key'],
  [/ECONNREFUSED|Connection refused|ENOTFOUND|getaddrinfo|stream disconnected|error sending request|Unable to connect|fetch failed/i, 'the model server could not be reached'],
  [/--dangerously-skip-permissions cannot be used with root/i, 'Claude Code refuses full mode as root without IS_SANDBOX=1'],
];

export function summarizeAgentError(text: string): string | null {
  for (const [re, summary] of PATTERNS) if (re.test(text)) return summary;
  return null;
}
