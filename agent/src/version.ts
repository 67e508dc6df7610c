// The agent's version: `jmp-agent --version`, the status file and the
// user-agent jmp-api records beside the host's last-seen time.
export const AGENT_VERSION = '0.1.0';
