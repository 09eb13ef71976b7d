/** The ready-to-paste client configuration printed at start-up and by `agentvisor token`. */
export function clientConfigText(url: string, token: string, generated: boolean): string {
  const json = {
    mcpServers: {
      agentvisor: { type: 'sse', url: `${url}/sse`, headers: { Authorization: `Bearer ${token}` } },
    },
  };
  return [
    generated ? 'A new auth token was generated.' : '',
    'MCP client configuration (SSE; Streamable HTTP clients use ' + `${url}/mcp):`,
    JSON.stringify(json, null, 2),
    `Claude Code: claude mcp add --transport sse agentvisor ${url}/sse --header "Authorization: Bearer ${token}"`,
  ]
    .filter(Boolean)
    .join('\n');
}
