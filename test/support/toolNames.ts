/** Every tool agentvisor serves, sorted: the one list the client tests hold the server to (a tool added or lost fails them). */
export const TOOL_NAMES = [
  'list_directory',
  'read_file',
  'session_approve',
  'session_cleanup',
  'session_diff',
  'session_kill',
  'session_list',
  'session_output',
  'session_send',
  'session_start',
  'session_wait',
];
